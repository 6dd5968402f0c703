#include "flow_claim.hpp"

#include <algorithm>
#include <string>
#include <unordered_map>

#include "job_row.hpp"
#include "jobq/backend/tenant_rotation.hpp"
#include "limit_row.hpp"

namespace jobq::sqlite_detail {

namespace {

constexpr std::string_view op = "claim";

void earliest(std::optional<Timestamp>& into, const std::optional<Timestamp>& t) {
    if (t && (!into || *t < *into)) into = t;
}

// A JSON array of ids, for json_each().
std::string encode_ids(const std::vector<JobId>& ids) {
    std::string out = "[";
    for (const JobId id : ids) {
        if (out.size() > 1) out += ',';
        out += std::to_string(id);
    }
    out += ']';
    return out;
}

}  // namespace

FlowClaim::FlowClaim(Connection& writer, bool any_limits, std::string_view worker_id, Timestamp now,
                     Timestamp lease_expires_at)
    : w_(writer),
      any_limits_(any_limits),
      worker_id_(worker_id),
      now_(now),
      lease_(lease_expires_at) {}

void FlowClaim::claim_queue(const QueueDemand& demand, std::string& cursor,
                            std::vector<Job>& jobs) {
    const std::vector<std::string> tenants = tenants_of(demand.queue, cursor);
    if (tenants.empty()) return;  // nothing available: no row needs reading

    const std::vector<LimitRecord> rows = rows_for(demand.queue, tenants);
    const ClaimGate gate = gate_claim(demand.queue, demand.limit, now_, rows);
    note_throttle(gate.throttled_until);
    if (gate.budget <= 0) return;

    ClaimPlanInput input;
    input.queue = demand.queue;
    input.budget = gate.budget;
    input.now = now_;
    const std::string skip_kinds =
        gate.blocked_kinds.empty() ? std::string() : encode_strings(gate.blocked_kinds);
    // One candidate beyond the budget: when the queue's bucket cut the budget, plan_claim
    // reports the next token only if it sees a job left over (a queue with one tenant would
    // otherwise hand over exactly the budget, and the worker would not know to come back).
    // tenant_fetch_limit() is the budget itself, hence the max.
    const int limit = std::max(tenant_fetch_limit(gate.budget), gate.budget + 1);
    for (const std::string& tenant : tenants) {
        if (std::find(gate.blocked_tenants.begin(), gate.blocked_tenants.end(), tenant) !=
            gate.blocked_tenants.end()) {
            continue;
        }
        fetch_candidates(demand.queue, tenant, limit, skip_kinds, input.candidates);
    }
    if (input.candidates.empty()) return;
    input.records = rows;

    const ClaimPlan plan = plan_claim(input);
    note_throttle(plan.throttled_until);
    if (!plan.picked.empty()) {
        const std::string ids = encode_ids(plan.picked);
        Statement start = w_.statement(Sql::claim_picked, op);
        start.bind(1, now_);
        start.bind(2, worker_id_);
        start.bind(3, lease_);
        start.bind(4, std::string_view{ids});
        // The candidates were read in this transaction, under the write lock: every one is
        // still available, so each comes back.
        const std::size_t first = jobs.size();
        while (start.step()) jobs.push_back(read_job(start));
        // RETURNING gives rows in no promised order; the caller gets the plan's.
        std::unordered_map<JobId, std::size_t> rank;
        for (std::size_t i = 0; i < plan.picked.size(); ++i) rank.emplace(plan.picked[i], i);
        std::sort(jobs.begin() + static_cast<std::ptrdiff_t>(first), jobs.end(),
                  [&rank](const Job& a, const Job& b) { return rank.at(a.id) < rank.at(b.id); });
    }
    apply(plan.updates);
}

std::vector<std::string> FlowClaim::tenants_of(const std::string& queue, std::string& cursor) {
    // The facts plan_tenant_visit asks for, one index seek per name: the first names after the
    // cursor, then the first names from the start up to it.
    TenantFacts facts;
    {
        Statement plain = w_.statement(Sql::queue_has_plain_jobs, op);
        plain.bind(1, std::string_view{queue});
        facts.plain = plain.step();
    }
    const int wanted = max_tenants_per_claim + 1;
    auto collect = [&](std::string last, bool up_to_cursor) {
        for (int n = 0; n < wanted; ++n) {
            std::optional<std::string> t = tenant_after(queue, last);
            if (!t || (up_to_cursor && *t > cursor)) return;
            facts.named.push_back(last = std::move(*t));
        }
    };
    collect(cursor, false);
    if (!cursor.empty()) collect(std::string(), true);
    TenantVisit visit = plan_tenant_visit(facts, cursor);
    cursor = visit.cursor;
    if (visit.more) more.push_back(queue);
    return std::move(visit.tenants);
}

std::optional<std::string> FlowClaim::tenant_after(const std::string& queue,
                                                   const std::string& above) {
    Statement s = w_.statement(Sql::next_tenant, op);
    s.bind(1, std::string_view{queue});
    s.bind(2, std::string_view{above});
    if (!s.step()) return std::nullopt;
    return std::string(s.text(0));
}

std::optional<LimitRecord>& FlowClaim::row(ScopeType type, const std::string& name) {
    auto& rows = type == ScopeType::queue  ? queue_rows_
                 : type == ScopeType::kind ? kind_rows_
                                           : tenant_rows_;
    if (const auto it = rows.find(name); it != rows.end()) return it->second;
    std::optional<LimitRecord>& slot = rows[name];
    // Every kind row was loaded with the first queue: a kind not among them has none.
    if (any_limits_ && type != ScopeType::kind) {
        Statement s = w_.statement(Sql::limit_get_for_update, op);
        s.bind(1, to_string(type));
        s.bind(2, std::string_view{name});
        if (s.step()) slot = read_limit(s);
    }
    return slot;
}

std::vector<LimitRecord> FlowClaim::rows_for(const std::string& queue,
                                             const std::vector<std::string>& tenants) {
    std::vector<LimitRecord> rows;
    if (!any_limits_) return rows;
    if (!kinds_loaded_) {
        // Candidates may be of any kind, so every kind row applies; there are few.
        Statement s = w_.statement(Sql::limit_kinds, op);
        while (s.step()) {
            LimitRecord r = read_limit(s);
            std::string name = r.scope.name;
            kind_rows_.emplace(std::move(name), std::move(r));
        }
        kinds_loaded_ = true;
    }
    if (const std::optional<LimitRecord>& q = row(ScopeType::queue, queue)) rows.push_back(*q);
    for (const auto& [name, r] : kind_rows_) {
        if (r) rows.push_back(*r);
    }
    for (const std::string& tenant : tenants) {
        if (tenant.empty()) continue;  // no row can name the absence of a tenant
        if (const std::optional<LimitRecord>& t = row(ScopeType::tenant, tenant)) {
            rows.push_back(*t);
        }
    }
    return rows;
}

void FlowClaim::fetch_candidates(const std::string& queue, const std::string& tenant, int limit,
                                 const std::string& skip_kinds, std::vector<ClaimCandidate>& out) {
    Statement s = w_.statement(tenant.empty() ? Sql::candidates_plain : Sql::candidates_tenant, op);
    s.bind(1, std::string_view{queue});
    s.bind_text_or_null(2, skip_kinds);
    s.bind(3, limit);
    if (!tenant.empty()) s.bind(4, std::string_view{tenant});
    while (s.step()) {
        ClaimCandidate c;
        c.id = s.int64(0);
        c.kind = s.text(1);
        c.tenant = tenant;
        c.priority = s.int32(2);
        c.run_at = s.timestamp(3);
        out.push_back(std::move(c));
    }
}

void FlowClaim::apply(const std::vector<ScopeUpdate>& updates) {
    if (updates.empty()) return;
    Statement s = w_.statement(Sql::limit_started, op);
    for (const ScopeUpdate& u : updates) {
        s.bind(1, to_string(u.scope.type));
        s.bind(2, std::string_view{u.scope.name});
        s.bind(3, u.started);
        if (u.bucket) {
            s.bind_real(4, u.bucket->tokens);
            s.bind(5, u.bucket->at);
        } else {
            s.bind_null(4);
            s.bind_null(5);
        }
        s.run();
        s.reset();
        // The next queue of this request must see these starts too.
        if (std::optional<LimitRecord>& r = row(u.scope.type, u.scope.name)) {
            r->running += u.started;
            if (u.bucket) r->bucket = *u.bucket;
        }
    }
}

void FlowClaim::note_throttle(const std::optional<Timestamp>& until) {
    earliest(throttled_until, until);
}

}  // namespace jobq::sqlite_detail
