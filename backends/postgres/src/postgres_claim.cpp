// The claim of the PostgresStore: the plain claim (one statement, as fast as a queue without
// flow control can be) and the flow path it hands over to when limit rows or tenants are in
// play (caps, rate limits, pauses, tenants taking turns; the policy is claim_plan.hpp's).
//
// The plain claim takes only jobs without a tenant, and nothing at all while any limit row
// exists (Sql::claim). When it returns fewer jobs than asked, one statement (Sql::flow_scan)
// promotes the queues' due jobs and says whether limit rows exist, which tenants have work and
// what the queues' rows say (unlocked). A queue that needs the flow path and may start jobs
// by that reading then goes through it, all such queues in one transaction:
//   1. lock and read the limit rows of the queues, of every kind and of the tenants to visit,
//      in (scope, name) order (Sql::flow_lock): claimers in every process take turns here;
//   2. gate_claim per queue; fetch each visited tenant's first candidates, SKIP LOCKED
//      (Sql::flow_candidates);
//   3. plan_claim per queue, the rows updated in memory between queues (kind rows are shared);
//   4. start the picked jobs and write the rows' running counts and buckets (Sql::flow_start).
// Once a look found limit rows, later claims skip the plain claim until one finds none.
//
// Most limits do not bind most of the time (a cap far above what runs, a rate far above what
// arrives). A queue whose flow claim found that, with no tenant among its jobs, takes the
// unbound claim next (claim_unbound, Sql::flow_unbound): one statement that starts the jobs
// and writes the rows, planned from the rows the previous such claim left and applied only if
// none changed since (each row's xmin). When one did, it is planned once more from the rows
// the statement returned; limits that would bind, a tenant's job or rows that changed twice
// send the claim to the flow path above.
#include <algorithm>
#include <array>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

#include <fmt/format.h>

#include "jobq/backend/claim_plan.hpp"
#include "jobq/backend/job_columns.hpp"
#include "jobq/backend/tenant_rotation.hpp"
#include "jobq/postgres/postgres_store.hpp"
#include "limit_row.hpp"
#include "store_impl.hpp"
#include "workflow_ops.hpp"

namespace jobq {

using postgres_detail::ArrayWriter;
using postgres_detail::micros;
using postgres_detail::read_job;
using postgres_detail::RowView;
using postgres_detail::Sql;

namespace {

// One queue's ask, merged when a request names a queue twice.
struct Demand {
    std::string queue;
    int limit = 0;
};

// What Sql::flow_scan found for one queue.
struct QueueScan {
    std::vector<std::string> after;     // tenants after the rotation cursor, in order
    std::vector<std::string> wrap;      // tenants from the start up to the cursor
    bool plain = false;                 // jobs without a tenant are available
    std::vector<std::string> promoted;  // tenants of jobs just promoted ("" for none)

    bool has_tenants() const {
        return !after.empty() || !wrap.empty() ||
               std::any_of(promoted.begin(), promoted.end(),
                           [](const std::string& t) { return !t.empty(); });
    }
};

struct Scan {
    bool limits = false;  // the store holds a limit row
    std::map<std::string, QueueScan, std::less<>> queues;
    std::vector<LimitRecord> queue_rows;  // the demanded queues' rows, read without a lock
};

// The facts plan_tenant_visit asks for, as the scan found them.
TenantFacts tenant_facts(const QueueScan& scan) {
    TenantFacts facts;
    facts.plain = scan.plain;
    facts.named = scan.after;
    facts.named.insert(facts.named.end(), scan.wrap.begin(), scan.wrap.end());
    // Jobs just promoted are real work too, even beyond the scanned names.
    facts.named.insert(facts.named.end(), scan.promoted.begin(), scan.promoted.end());
    facts.plain = facts.plain || std::any_of(scan.promoted.begin(), scan.promoted.end(),
                                             [](const std::string& t) { return t.empty(); });
    return facts;
}

Scan read_scan(const pqxx::result& r) {
    Scan scan;
    for (const pqxx::row& row : r) {
        const RowView v(row);
        const std::string_view part = v.text(0);
        if (part == "l") {
            scan.limits = true;
            continue;
        }
        if (part == "q") {
            scan.queue_rows.push_back(postgres_detail::read_limit(row, 3));
            continue;
        }
        QueueScan& q = scan.queues[std::string(v.text(1))];
        if (part == "a") {
            q.after.emplace_back(v.text(2));
        } else if (part == "w") {
            q.wrap.emplace_back(v.text(2));
        } else if (part == "p") {
            q.plain = true;
        } else if (part == "d") {
            q.promoted.emplace_back(v.text(2));
        }
    }
    return scan;
}

ClaimCandidate read_candidate(const pqxx::row& row) {
    // id, queue, kind, tenant, priority, run_at
    const RowView v(row);
    ClaimCandidate c;
    c.id = v.int64(0);
    c.kind = v.text(2);
    c.tenant = v.text(3);
    c.priority = v.int32(4);
    c.run_at = postgres_detail::from_micros(v.int64(5));
    return c;
}

// The claim's "now" and lease: the request's, or read from request.clock as late as possible
// (see ClaimRequest::clock), the lease moved by as much.
struct Moment {
    Timestamp now;
    Timestamp lease;

    static Moment of(const ClaimRequest& request) {
        if (request.clock == nullptr) return {request.now, request.lease_expires_at};
        const Timestamp now = request.clock->now();
        return {now, request.lease_expires_at + (now - request.now)};
    }
};

void earliest(std::optional<Timestamp>& into, const std::optional<Timestamp>& t) {
    if (t && (!into || *t < *into)) into = t;
}

// The claim's limit rows as the flow path keeps them: read under lock, changed in memory by
// each queue's plan, written once at the end.
class Rows {
  public:
    explicit Rows(std::vector<LimitRecord> records) : records_(std::move(records)) {}
    const std::vector<LimitRecord>& records() const { return records_; }

    void apply(const std::vector<ScopeUpdate>& updates) {
        for (const ScopeUpdate& u : updates) {
            auto it = std::find_if(records_.begin(), records_.end(),
                                   [&](const LimitRecord& r) { return r.scope == u.scope; });
            if (it == records_.end()) continue;  // not a row of this claim: nothing to write
            it->running += u.started;
            if (u.bucket) it->bucket = *u.bucket;
            Change& c = changes_[u.scope];
            c.started += u.started;
            if (u.bucket) c.bucket = u.bucket;
        }
    }

    // Sql::flow_start's $5..$9.
    std::array<std::string, 5> arrays() const {
        ArrayWriter scope, name, started, tokens, tokens_at;
        for (const auto& [s, c] : changes_) {
            scope.add(postgres_detail::scope_text(s.type));
            name.add(s.name);
            started.add(c.started);
            if (c.bucket) {
                tokens.add(fmt::format("{}", c.bucket->tokens));
                tokens_at.add(micros(c.bucket->at));
            } else {
                tokens.add_null();
                tokens_at.add_null();
            }
        }
        return {std::move(scope).finish(), std::move(name).finish(), std::move(started).finish(),
                std::move(tokens).finish(), std::move(tokens_at).finish()};
    }

  private:
    struct Change {
        std::int64_t started = 0;
        std::optional<TokenBucket> bucket;
    };
    std::vector<LimitRecord> records_;
    std::map<LimitScope, Change> changes_;
};

// The flow path for `demands` (see the top of this file); fills result.more and
// result.throttled_until, returns the jobs it started. `Impl` is PostgresStore::Impl.
template <class Impl>
std::vector<Job> claim_under_limits(Impl& impl, const ClaimRequest& request,
                                    const std::vector<Demand>& asked, const Scan& scan,
                                    ClaimResult& result) {
    // A queue that is paused, at its cap or out of tokens as the scan read its row is left
    // alone: no row lock, no transaction. (A slot freed since wakes the queue: see complete.)
    // Nor is a queue with nothing available.
    const Timestamp early = Moment::of(request).now;
    std::vector<Demand> demands;
    // Which tenants each queue visits this time; the rotation moves on at once, so a claim
    // running beside this one starts further on.
    std::vector<TenantVisit> visits;
    std::set<std::string> tenants;
    {
        std::lock_guard lock(impl.rotation_mutex);
        for (const Demand& d : asked) {
            const ClaimGate gate = gate_claim(d.queue, d.limit, early, scan.queue_rows);
            if (gate.budget <= 0) {
                earliest(result.throttled_until, gate.throttled_until);
                continue;
            }
            const auto it = scan.queues.find(d.queue);
            if (it == scan.queues.end()) continue;
            std::string& cursor = impl.rotation[d.queue];
            TenantVisit v = plan_tenant_visit(tenant_facts(it->second), cursor);
            cursor = v.cursor;
            if (v.tenants.empty()) continue;
            if (v.more) result.more.push_back(d.queue);
            for (const std::string& t : v.tenants) {
                if (!t.empty()) tenants.insert(t);
            }
            demands.push_back(d);
            visits.push_back(std::move(v));
        }
    }
    impl.claims_flow.fetch_add(1, std::memory_order_relaxed);
    if (demands.empty()) return {};
    ArrayWriter queue_names;
    for (const Demand& d : demands) queue_names.add(d.queue);
    const std::string tenant_names = postgres_detail::text_array(tenants);
    const std::string queues_array = std::move(queue_names).finish();

    return impl.transact("claim", [&](pqxx::work& tx, auto& exec) -> std::vector<Job> {
        std::vector<LimitRecord> records;
        for (const pqxx::row& row : exec(Sql::flow_lock, queues_array, tenant_names)) {
            records.push_back(postgres_detail::read_limit(row));
        }
        Rows rows(std::move(records));
        // Read once the rows are locked: no completion that freed a slot commits after the
        // start it made room for.
        const Moment at = Moment::of(request);

        // What to fetch: each queue's gate from the rows as read.
        ArrayWriter want_queue, want_tenant, want_limit, blocked_queue, blocked_kind;
        bool any = false;
        for (std::size_t i = 0; i < demands.size(); ++i) {
            const Demand& d = demands[i];
            const ClaimGate gate = gate_claim(d.queue, d.limit, at.now, rows.records());
            earliest(result.throttled_until, gate.throttled_until);
            if (gate.budget <= 0) continue;
            for (const std::string& t : visits[i].tenants) {
                if (std::find(gate.blocked_tenants.begin(), gate.blocked_tenants.end(), t) !=
                    gate.blocked_tenants.end()) {
                    continue;
                }
                want_queue.add(d.queue);
                want_tenant.add(t);
                want_limit.add(tenant_fetch_limit(gate.budget));
                any = true;
            }
            for (const std::string& k : gate.blocked_kinds) {
                blocked_queue.add(d.queue);
                blocked_kind.add(k);
            }
        }
        if (!any) {
            tx.commit();
            return {};
        }
        std::map<std::string, std::vector<ClaimCandidate>, std::less<>> candidates;
        for (const pqxx::row& row :
             exec(Sql::flow_candidates, std::move(want_queue).finish(),
                  std::move(want_tenant).finish(), std::move(want_limit).finish(),
                  std::move(blocked_queue).finish(), std::move(blocked_kind).finish())) {
            candidates[std::string(RowView(row).text(1))].push_back(read_candidate(row));
        }

        // A queue with no tenant in play whose limits, as locked, have room for its whole ask
        // may take the one-statement claim next time (claim_unbound).
        {
            std::vector<std::string> unbound;
            for (std::size_t i = 0; i < demands.size(); ++i) {
                const bool plain_only =
                    visits[i].tenants.size() == 1 && visits[i].tenants.front().empty();
                if (plain_only &&
                    unbound_claim({{demands[i].queue, demands[i].limit}}, at.now, rows.records())
                        .fits) {
                    unbound.push_back(demands[i].queue);
                }
            }
            std::lock_guard lock(impl.unbound_mutex);
            impl.unbound_queues.insert(unbound.begin(), unbound.end());
        }

        // Each queue's plan from the rows as the queues before it left them.
        std::vector<JobId> picked;
        for (const Demand& d : demands) {
            auto it = candidates.find(d.queue);
            if (it == candidates.end()) continue;
            std::vector<ClaimCandidate>& cands = it->second;
            std::sort(cands.begin(), cands.end(),
                      [](const ClaimCandidate& a, const ClaimCandidate& b) {
                          return std::tie(a.tenant, a.priority, a.run_at, a.id) <
                                 std::tie(b.tenant, b.priority, b.run_at, b.id);
                      });
            const ClaimGate gate = gate_claim(d.queue, d.limit, at.now, rows.records());
            earliest(result.throttled_until, gate.throttled_until);
            if (gate.budget <= 0) continue;
            ClaimPlanInput input;
            input.queue = d.queue;
            input.budget = gate.budget;
            input.now = at.now;
            input.candidates = std::move(cands);
            input.records = rows.records();
            const ClaimPlan plan = plan_claim(input);
            earliest(result.throttled_until, plan.throttled_until);
            picked.insert(picked.end(), plan.picked.begin(), plan.picked.end());
            rows.apply(plan.updates);
        }
        if (picked.empty()) {
            tx.commit();
            return {};
        }

        ArrayWriter ids;
        for (const JobId id : picked) ids.add(id);
        const std::array<std::string, 5> changes = rows.arrays();
        const pqxx::result r =
            exec(Sql::flow_start, std::move(ids).finish(), micros(at.now), request.worker_id,
                 micros(at.lease), changes[0], changes[1], changes[2], changes[3], changes[4]);
        tx.commit();
        std::vector<Job> jobs;
        jobs.reserve(r.size());
        for (const pqxx::row& row : r) jobs.push_back(read_job(row));
        // In the order the plans started them.
        std::unordered_map<JobId, std::size_t> position;
        for (std::size_t i = 0; i < picked.size(); ++i) position.emplace(picked[i], i);
        std::sort(jobs.begin(), jobs.end(),
                  [&](const Job& a, const Job& b) { return position[a.id] < position[b.id]; });
        return jobs;
    });
}

// The one-statement flow claim (Sql::flow_unbound) for queues whose limits do not bind: planned
// from the rows the last such claim of the same queues left (unbound_claim decides whether
// they have room for the whole ask), applied only if no row changed since. When one did, the
// statement returns the rows as they are and the claim is planned once more from them. The
// jobs started, or nothing when the claim belongs on the flow path: a queue not known to be
// unbound, limits that would bind, a tenant's job, rows changed twice in a row (other claimers
// are busy with them: the flow path takes turns with them on the row locks).
template <class Impl>
std::optional<std::vector<Job>> claim_unbound(Impl& impl, const ClaimRequest& request,
                                              const std::vector<Demand>& demands) {
    std::vector<UnboundDemand> asked;
    std::vector<std::string> key;
    for (const Demand& d : demands) {
        asked.push_back({d.queue, d.limit});
        key.push_back(d.queue);
    }
    std::sort(key.begin(), key.end());
    std::optional<std::vector<postgres_detail::VersionedLimit>> rows;
    auto forget = [&] {
        std::lock_guard lock(impl.unbound_mutex);
        for (const Demand& d : demands) impl.unbound_queues.erase(d.queue);
    };
    {
        std::lock_guard lock(impl.unbound_mutex);
        for (const Demand& d : demands) {
            if (!impl.unbound_queues.contains(d.queue)) return std::nullopt;
        }
        if (const auto it = impl.unbound_rows.find(key); it != impl.unbound_rows.end()) {
            rows = it->second;
        }
    }
    ArrayWriter queues, limits;
    for (const Demand& d : demands) {
        queues.add(d.queue);
        limits.add(d.limit);
    }
    const std::string queues_array = std::move(queues).finish();
    const std::string limits_array = std::move(limits).finish();

    constexpr int columns = detail::job_column_count;  // then the limit row, then flags
    for (int attempt = 0; attempt < 2; ++attempt) {
        const Moment at = Moment::of(request);
        // Unknown rows (the first time): planned with none, which only holds if none exist.
        ArrayWriter scope, name, version, b_scope, b_name, b_tokens, b_at;
        if (rows) {
            std::vector<LimitRecord> records;
            for (const auto& r : *rows) {
                records.push_back(r.record);
                scope.add(postgres_detail::scope_text(r.record.scope.type));
                name.add(r.record.scope.name);
                version.add(r.version);
            }
            const UnboundClaim plan = unbound_claim(asked, at.now, records);
            if (!plan.fits) {
                forget();
                return std::nullopt;
            }
            for (const auto& [s, bucket] : plan.buckets) {
                b_scope.add(postgres_detail::scope_text(s.type));
                b_name.add(s.name);
                b_tokens.add(fmt::format("{}", bucket.tokens));
                b_at.add(micros(bucket.at));
            }
        }
        const pqxx::result r = impl.exec(
            "claim", Sql::flow_unbound, queues_array, limits_array, micros(at.now),
            request.worker_id, micros(at.lease), std::move(scope).finish(),
            std::move(name).finish(), std::move(version).finish(), std::move(b_scope).finish(),
            std::move(b_name).finish(), std::move(b_tokens).finish(), std::move(b_at).finish());
        std::vector<Job> jobs;
        std::vector<postgres_detail::VersionedLimit> now_rows;
        bool fresh = false;
        bool tenants = false;
        bool any_limits = true;
        for (const pqxx::row& row : r) {
            const RowView v(row);
            if (!v.is_null(detail::c_id)) jobs.push_back(read_job(row));
            if (!v.is_null(columns)) {
                now_rows.push_back(
                    {postgres_detail::read_limit(row, columns), std::string(v.text(columns + 13))});
            }
            fresh = v.text(columns + 14) == "t";
            tenants = v.text(columns + 15) == "t";
            any_limits = v.text(columns + 16) == "t";
        }
        impl.flow_hint.store(any_limits, std::memory_order_relaxed);
        {
            std::lock_guard lock(impl.unbound_mutex);
            impl.unbound_rows[key] = now_rows;
        }
        if (tenants) {
            forget();
            return std::nullopt;
        }
        if (fresh) {
            impl.claims_unbound.fetch_add(1, std::memory_order_relaxed);
            return jobs;
        }
        rows = std::move(now_rows);
    }
    return std::nullopt;
}

}  // namespace

ClaimResult PostgresStore::claim(const ClaimRequest& request) {
    std::vector<Demand> demands;
    for (const QueueDemand& d : request.queues) {
        if (d.limit <= 0) continue;
        auto it = std::find_if(demands.begin(), demands.end(),
                               [&](const Demand& x) { return x.queue == d.queue; });
        if (it == demands.end()) {
            demands.push_back({d.queue, d.limit});
        } else {
            it->limit += d.limit;
        }
    }
    if (demands.empty()) return {};
    auto rank = [&demands](std::string_view queue) {
        return std::find_if(demands.begin(), demands.end(),
                            [&](const Demand& d) { return d.queue == queue; }) -
               demands.begin();
    };

    auto scan_queues = [&](const std::vector<Demand>& which) {
        ArrayWriter queues, cursors;
        {
            std::lock_guard lock(impl_->rotation_mutex);
            for (const Demand& d : which) {
                queues.add(d.queue);
                const auto it = impl_->rotation.find(d.queue);
                cursors.add_text_or_null(it == impl_->rotation.end() ? std::string() : it->second);
            }
        }
        Scan scan = read_scan(impl_->exec("claim", Sql::flow_scan, std::move(queues).finish(),
                                          std::move(cursors).finish(),
                                          micros(Moment::of(request).now), max_tenants_per_claim));
        impl_->flow_hint.store(scan.limits, std::memory_order_relaxed);
        return scan;
    };

    std::vector<Job> plain;
    std::vector<Demand> flow;
    std::optional<Scan> scan;
    if (!impl_->flow_hint.load(std::memory_order_relaxed)) {
        ArrayWriter queues;
        ArrayWriter limits;
        for (const Demand& d : demands) {
            queues.add(d.queue);
            limits.add(d.limit);
        }
        const Moment at = Moment::of(request);
        const pqxx::result r =
            impl_->exec("claim", Sql::claim, std::move(queues).finish(), std::move(limits).finish(),
                        micros(at.now), request.worker_id, micros(at.lease));
        impl_->claims_plain.fetch_add(1, std::memory_order_relaxed);
        plain.reserve(r.size());
        for (const pqxx::row& row : r) plain.push_back(read_job(row));
        // A queue that got nothing may have been left out: flow control may hold its jobs.
        // One that got any was not (Sql::claim leaves a queue out whole), so it simply ran
        // dry: neither it nor a busy queue pays for the look, which would stand between a job
        // enqueued into an idle queue and its start.
        std::vector<Demand> short_of;
        for (const Demand& d : demands) {
            if (std::none_of(plain.begin(), plain.end(),
                             [&](const Job& j) { return j.queue == d.queue; })) {
                short_of.push_back(d);
            }
        }
        if (!short_of.empty()) {
            scan = scan_queues(short_of);
            for (const Demand& d : short_of) {
                const auto it = scan->queues.find(d.queue);
                if (scan->limits || (it != scan->queues.end() && it->second.has_tenants())) {
                    flow.push_back(d);
                }
            }
        }
    } else if (std::optional<std::vector<Job>> jobs = claim_unbound(*impl_, request, demands)) {
        plain = std::move(*jobs);
    } else {
        scan = scan_queues(demands);
        flow = demands;
    }

    ClaimResult result;
    std::vector<Job> flowed;
    if (!flow.empty()) flowed = claim_under_limits(*impl_, request, flow, *scan, result);

    std::sort(plain.begin(), plain.end(), [&](const Job& a, const Job& b) {
        return std::make_tuple(rank(a.queue), a.priority, a.run_at, a.id) <
               std::make_tuple(rank(b.queue), b.priority, b.run_at, b.id);
    });
    // Each queue's jobs together, queues in request order: plain ones, then the flow path's in
    // the order its plan started them.
    std::stable_sort(flowed.begin(), flowed.end(),
                     [&](const Job& a, const Job& b) { return rank(a.queue) < rank(b.queue); });
    result.jobs.reserve(plain.size() + flowed.size());
    auto p = plain.begin();
    auto f = flowed.begin();
    for (std::size_t q = 0; q < demands.size(); ++q) {
        const auto in_queue = [&](const Job& j) {
            return rank(j.queue) == static_cast<long>(q);
        };
        for (; p != plain.end() && in_queue(*p); ++p) result.jobs.push_back(std::move(*p));
        for (; f != flowed.end() && in_queue(*f); ++f) result.jobs.push_back(std::move(*f));
    }
    impl_->vacuumer.rows_claimed(static_cast<std::int64_t>(result.jobs.size()));
    // Jobs of workflows read their dependencies' results now, as they stand when they start
    // (a completed dependency's result no longer changes).
    if (const std::string ids = postgres_detail::upstream_ids(result.jobs); !ids.empty()) {
        postgres_detail::apply_upstream(impl_->exec("claim", Sql::wf_upstream, ids), result.jobs);
    }
    return result;
}

}  // namespace jobq
