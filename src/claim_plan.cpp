#include "jobq/backend/claim_plan.hpp"

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstddef>
#include <iterator>
#include <string_view>
#include <tuple>
#include <unordered_map>

namespace jobq {

namespace {

bool is_row_of(const LimitRecord& r, ScopeType type, std::string_view name) {
    return r.scope.type == type && r.scope.name == name;
}

bool at_cap(const LimitRecord& r, std::int64_t started) {
    return r.limits.max_running && r.running + started >= *r.limits.max_running;
}

void keep_earliest(std::optional<Timestamp>& slot, Timestamp t) {
    if (!slot || t < *slot) slot = t;
}

// A limit row during planning: its bucket refilled to now and what this claim has taken.
struct Row {
    const LimitRecord* record = nullptr;
    TokenBucket bucket;
    std::int64_t started = 0;

    bool rated() const { return record->limits.rate.has_value(); }
    bool dry() const { return rated() && bucket.tokens < 1.0; }
    bool capped() const {
        return (record->scope.type == ScopeType::queue && record->paused) ||
               at_cap(*record, started);
    }
    Timestamp next_token() const { return next_token_at(bucket, *record->limits.rate); }
};

Row make_row(const LimitRecord& r, Timestamp now) {
    Row row;
    row.record = &r;
    row.bucket = r.limits.rate ? refill(r.bucket, *r.limits.rate, now) : r.bucket;
    return row;
}

constexpr int no_row = -1;

// A candidate's place in the fair order and the rows that limit it.
struct Slot {
    int priority;
    std::int64_t round;
    Timestamp run_at;
    JobId id;
    int kind_row;
    int tenant_row;

    auto key() const { return std::tie(priority, round, run_at, id); }
};

}  // namespace

ClaimGate gate_claim(const std::string& queue, int demand, Timestamp now,
                     const std::vector<LimitRecord>& records) {
    ClaimGate gate;
    const LimitRecord* queue_row = nullptr;
    for (const LimitRecord& r : records) {
        if (is_row_of(r, ScopeType::queue, queue)) {
            queue_row = &r;
            break;
        }
    }

    std::int64_t budget = std::max(demand, 0);
    if (queue_row != nullptr) {
        if (queue_row->paused) return gate;
        const FlowLimits& l = queue_row->limits;
        if (l.max_running) budget = std::min(budget, *l.max_running - queue_row->running);
        // The bucket is reported only when it is what stops the queue: a queue at its cap is
        // woken by a completion, not by the clock.
        if (budget > 0 && l.rate) {
            const TokenBucket b = refill(queue_row->bucket, *l.rate, now);
            if (b.tokens < 1.0) {
                gate.throttled_until = next_token_at(b, *l.rate);
                return gate;
            }
            const auto whole = static_cast<std::int64_t>(std::floor(b.tokens));
            if (whole < budget) {
                // The bucket, not the demand, sets this claim's size: once these tokens are
                // spent the worker should come back when the next one is due. (The backend
                // fetches only `budget` candidates, so the plan cannot see what is left.)
                budget = whole;
                TokenBucket spent = b;
                spent.tokens -= static_cast<double>(whole);
                gate.throttled_until = next_token_at(spent, *l.rate);
            }
        }
    }
    if (budget <= 0) return gate;
    gate.budget = static_cast<int>(budget);

    for (const LimitRecord& r : records) {
        if (r.scope.type == ScopeType::queue) continue;
        auto& blocked = r.scope.type == ScopeType::kind ? gate.blocked_kinds : gate.blocked_tenants;
        if (at_cap(r, 0)) {
            blocked.push_back(r.scope.name);
            continue;
        }
        if (!r.limits.rate) continue;
        const TokenBucket b = refill(r.bucket, *r.limits.rate, now);
        if (b.tokens < 1.0) {
            blocked.push_back(r.scope.name);
            keep_earliest(gate.throttled_until, next_token_at(b, *r.limits.rate));
        }
    }
    for (auto* names : {&gate.blocked_kinds, &gate.blocked_tenants}) {
        std::sort(names->begin(), names->end());
        names->erase(std::unique(names->begin(), names->end()), names->end());
    }
    return gate;
}

ClaimPlan plan_claim(const ClaimPlanInput& input) {
    ClaimPlan plan;
    if (input.budget <= 0 || input.candidates.empty()) return plan;

    // The rows that apply, each once: the queue's own, and kinds and tenants by name.
    std::vector<Row> rows;
    rows.reserve(input.records.size());
    int queue_row = no_row;
    std::unordered_map<std::string_view, int> kind_rows;
    std::unordered_map<std::string_view, int> tenant_rows;
    for (const LimitRecord& r : input.records) {
        const int index = static_cast<int>(rows.size());
        bool used = false;
        switch (r.scope.type) {
            case ScopeType::queue:
                if (r.scope.name == input.queue && queue_row == no_row) {
                    queue_row = index;
                    used = true;
                }
                break;
            case ScopeType::kind:
                used = kind_rows.emplace(r.scope.name, index).second;
                break;
            case ScopeType::tenant:
                used = tenant_rows.emplace(r.scope.name, index).second;
                break;
        }
        if (used) rows.push_back(make_row(r, input.now));
    }
    auto find = [](const std::unordered_map<std::string_view, int>& m, std::string_view name) {
        const auto it = m.find(name);
        return it == m.end() ? no_row : it->second;
    };

    // Rounds: a tenant's k-th candidate (as given, in its claim order) plays in round
    // ceil(k / weight), so a weight-3 tenant gets three starts per round of the others' one.
    std::unordered_map<std::string_view, std::int64_t> seen;
    std::vector<Slot> slots;
    slots.reserve(input.candidates.size());
    for (const ClaimCandidate& c : input.candidates) {
        const int tenant_row = c.tenant.empty() ? no_row : find(tenant_rows, c.tenant);
        const std::int64_t weight =
            tenant_row == no_row
                ? 1
                : std::max(1, rows[static_cast<std::size_t>(tenant_row)].record->limits.weight);
        const std::int64_t k = ++seen[c.tenant];
        slots.push_back(Slot{c.priority, (k + weight - 1) / weight, c.run_at, c.id,
                             find(kind_rows, c.kind), tenant_row});
    }
    std::sort(slots.begin(), slots.end(),
              [](const Slot& a, const Slot& b) { return a.key() < b.key(); });

    for (const Slot& s : slots) {
        if (std::ssize(plan.picked) >= input.budget) {
            // The budget was cut to the queue's whole tokens: when this claim emptied the
            // bucket, the candidates left over wait for its next token.
            if (queue_row != no_row && rows[static_cast<std::size_t>(queue_row)].dry()) {
                keep_earliest(plan.throttled_until,
                              rows[static_cast<std::size_t>(queue_row)].next_token());
            }
            break;
        }
        const int limiting[] = {queue_row, s.kind_row, s.tenant_row};
        bool capped = false;
        std::optional<Timestamp> token_at;  // when every dry bucket of this candidate has one
        for (int i : limiting) {
            if (i == no_row) continue;
            const Row& row = rows[static_cast<std::size_t>(i)];
            if (row.capped()) capped = true;
            if (row.dry())
                token_at = std::max(token_at.value_or(Timestamp::min()), row.next_token());
        }
        if (capped || token_at) {
            // A capped candidate waits for a completion, which wakes the queue; only one held
            // back by buckets alone needs the clock.
            if (!capped) keep_earliest(plan.throttled_until, *token_at);
            if (queue_row != no_row) {
                const Row& q = rows[static_cast<std::size_t>(queue_row)];
                if (q.capped() || q.dry()) break;  // nothing else of this queue can start
            }
            continue;
        }
        for (int i : limiting) {
            if (i == no_row) continue;
            Row& row = rows[static_cast<std::size_t>(i)];
            ++row.started;
            if (row.rated()) row.bucket.tokens -= 1.0;
        }
        plan.picked.push_back(s.id);
    }

    for (const Row& row : rows) {
        if (row.started == 0) continue;
        ScopeUpdate u;
        u.scope = row.record->scope;
        u.started = row.started;
        if (row.rated()) u.bucket = row.bucket;
        plan.updates.push_back(std::move(u));
    }
    std::sort(plan.updates.begin(), plan.updates.end(),
              [](const ScopeUpdate& a, const ScopeUpdate& b) { return a.scope < b.scope; });
    return plan;
}

UnboundClaim unbound_claim(const std::vector<UnboundDemand>& demands, Timestamp now,
                           const std::vector<LimitRecord>& records) {
    UnboundClaim answer;
    std::int64_t total = 0;
    for (const UnboundDemand& d : demands) total += std::max(d.demand, 0);
    auto demand_of = [&](std::string_view queue) -> std::optional<std::int64_t> {
        std::optional<std::int64_t> sum;
        for (const UnboundDemand& d : demands) {
            if (d.queue == queue) sum = sum.value_or(0) + std::max(d.demand, 0);
        }
        return sum;
    };
    for (const LimitRecord& r : records) {
        std::int64_t n = 0;
        if (r.scope.type == ScopeType::queue) {
            const std::optional<std::int64_t> d = demand_of(r.scope.name);
            if (!d) continue;  // another queue's row
            if (r.paused) return {};
            n = *d;
        } else if (r.scope.type == ScopeType::kind) {
            n = total;  // any of the jobs may be of this kind
        } else {
            continue;  // no job of this claim has a tenant
        }
        // As plan_claim: a job starts while running + started < max_running, and while a
        // whole token is left.
        if (r.limits.max_running && r.running + n > *r.limits.max_running) return {};
        if (r.limits.rate) {
            const TokenBucket b = refill(r.bucket, *r.limits.rate, now);
            if (b.tokens < static_cast<double>(n)) return {};
            answer.buckets.emplace_back(r.scope, b);
        }
    }
    answer.fits = true;
    return answer;
}

}  // namespace jobq
