#pragma once
// For backend authors. Claim planning under flow limits: pure functions a backend calls inside its
// claim transaction. The backend reads the limit rows and candidate jobs, asks these functions what
// to take, and writes exactly that (jobs -> running, running counts, token buckets), so
// policy stays here and every backend applies the same one.
//
// A claim for one queue goes in two steps:
//   1. gate_claim: from the queue's, the kinds' and the candidate tenants' rows, how many jobs
//      the queue may start now and which kinds and tenants must not be fetched at all;
//   2. plan_claim: from the fetched candidates (each tenant's in claim order), which ones
//      start, in what order, and what that does to each limit row.
// Fairness: candidates are taken in the order (priority, round, run_at, id), where a
// tenant's k-th candidate is in round ceil(k / weight). Priorities still come first; among
// equal priorities tenants take turns, `weight` jobs per turn.

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "jobq/backend/token_bucket_refill.hpp"
#include "jobq/clock.hpp"
#include "jobq/job.hpp"
#include "jobq/limit_record.hpp"
#include "jobq/limit_scope.hpp"

namespace jobq {

/// At most this many named tenants are fetched from in one claim of one queue (jobs without a
/// tenant come on top, as one more); the backend rotates through the rest in later claims and
/// reports the queue in ClaimResult::more.
inline constexpr int max_tenants_per_claim = 16;

/// What may be claimed from one queue before any candidate is fetched.
struct ClaimGate {
    int budget = 0;  ///< jobs the queue may start now: 0 when paused, at its cap or out of tokens
    std::vector<std::string> blocked_kinds;    ///< kinds at their cap or out of tokens
    std::vector<std::string> blocked_tenants;  ///< tenants at their cap or out of tokens
    /// A bucket is dry, or the queue's bucket cut the budget below the demand: when it has a
    /// token again (after this claim spends `budget`).
    std::optional<Timestamp> throttled_until;
};

/// `demand` is the worker's ask for `queue`; `records` are the rows that exist for the queue,
/// for kinds and for tenants (rows of other queues are ignored). Buckets are refilled to `now`.
ClaimGate gate_claim(const std::string& queue, int demand, Timestamp now,
                     const std::vector<LimitRecord>& records);

/// A claimable job as the planner needs it.
struct ClaimCandidate {
    JobId id = 0;
    std::string kind;
    std::string tenant;  ///< empty: no tenant
    int priority = 0;
    Timestamp run_at{};
};

/// Everything plan_claim decides from.
struct ClaimPlanInput {
    std::string queue;
    int budget = 0;  ///< from gate_claim
    Timestamp now{};
    /// Each tenant's candidates in claim order (priority, run_at, id); tenants in any order.
    std::vector<ClaimCandidate> candidates;
    /// Rows of the queue, of kinds and of the candidates' tenants (others are ignored).
    std::vector<LimitRecord> records;
};

/// What a claim does to one limit row (every existing row of a picked job's queue, kind or
/// tenant gets one, so running counts match what complete() takes off).
struct ScopeUpdate {
    LimitScope scope;
    std::int64_t started = 0;           ///< add to the row's running count
    std::optional<TokenBucket> bucket;  ///< write as the row's bucket (rate-limited rows)
};

/// The decision for one queue.
struct ClaimPlan {
    std::vector<JobId> picked;                 ///< jobs to start, in start order
    std::vector<ScopeUpdate> updates;          ///< one per row that limits a picked job, by scope
    std::optional<Timestamp> throttled_until;  ///< a candidate waited for a token: when next
};

/// Picks at most `budget` candidates in fair order, each only while every limit of its queue,
/// kind and tenant still has room (running < max_running, a whole token in the bucket).
ClaimPlan plan_claim(const ClaimPlanInput& input);

/// One queue's ask in unbound_claim.
struct UnboundDemand {
    std::string queue;
    int demand = 0;
};

/// The answer of unbound_claim.
struct UnboundClaim {
    /// Every queue may start its whole demand now, whichever of its jobs without a tenant they
    /// are: gate_claim would pass the demand uncut and block nothing, and plan_claim would pick
    /// every candidate, so the backend may start the first `demand` jobs in claim order without
    /// fetching candidates first.
    bool fits = false;
    /// The rate-limited rows among the queues' and the kinds' rows, each bucket refilled to
    /// `now`. Applying the claim is then what plan_claim's updates would say: each started job
    /// adds one to the running count of its queue's row and of its kind's row, and takes one
    /// token from each of those rows listed here (a row none of the jobs falls under is left
    /// as it is).
    std::vector<std::pair<LimitScope, TokenBucket>> buckets;
};

/// Whether a claim of jobs without a tenant is bound by no limit, from the rows as last read
/// (the demanded queues' rows and every kind row; others are ignored). A backend that knows
/// the rows cannot have changed since (PostgreSQL: each row's version) starts such a claim in
/// one statement; when `fits` is false it plans with gate_claim and plan_claim as usual. The
/// answer is conservative: a kind row must have room for the sum of all demands, since every
/// job started could be of that kind.
UnboundClaim unbound_claim(const std::vector<UnboundDemand>& demands, Timestamp now,
                           const std::vector<LimitRecord>& records);

/// How many claimable jobs to fetch from each tenant: the whole budget, so one tenant can
/// fill a claim when it is the only one with work.
inline int tenant_fetch_limit(int budget) {
    return budget;
}

}  // namespace jobq
