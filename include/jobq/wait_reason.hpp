#pragma once
// Why a job is not running: reason codes, the facts a store gathers for one job, and the pure
// functions that turn facts into an explanation (Queue::explain) or into counts per reason
// over every waiting job (Queue::wait_reasons, for metrics).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "jobq/clock.hpp"
#include "jobq/job.hpp"
#include "jobq/job_state.hpp"
#include "jobq/limit_record.hpp"
#include "jobq/limit_scope.hpp"
#include "jobq/worker_record.hpp"

namespace jobq {

/// The first reason that keeps a job from starting, checked in this order for an available
/// job: queue_paused, queue_cap, kind_cap, tenant_cap, rate_limited, no_worker, queued, ready.
enum class WaitReason {
    running,        ///< not waiting: it runs now
    finished,       ///< not waiting: completed, cancelled or discarded
    scheduled,      ///< run_at is in the future
    retry_backoff,  ///< a failed attempt's backoff: runs again at run_at
    dependencies,   ///< pending: waiting on other jobs
    queue_paused,
    queue_cap,     ///< its queue's max_running jobs run already
    kind_cap,      ///< its kind's max_running jobs run already
    tenant_cap,    ///< its tenant's max_running jobs run already
    rate_limited,  ///< a rate limit of its queue, kind or tenant has no token now
    no_worker,     ///< no live worker claims from its queue
    queued,        ///< behind `ahead` other available jobs of its queue
    ready,         ///< nothing ahead and nothing in the way: the next claim takes it
};

/// Stable code of a reason as the CLI and metrics print it: "running", "finished",
/// "scheduled", "retry_backoff", "waiting_on_dependencies", "queue_paused",
/// "queue_concurrency_cap", "kind_concurrency_cap", "tenant_cap", "rate_limited",
/// "no_worker", "queued_behind", "ready".
std::string_view to_string(WaitReason reason) noexcept;

/// What a store knows about one job for explain (Store::wait_facts).
struct WaitFacts {
    Job job;
    /// The rows that exist for the job's queue, kind and tenant.
    std::vector<LimitRecord> limits;
    /// Available jobs of the same queue before this one in claim order (priority, run_at, id);
    /// 0 unless the job is available (or scheduled/retryable and due).
    std::int64_t ahead = 0;
    /// Live workers (expires_at > now) that claim from the job's queue.
    std::vector<WorkerRecord> workers;
};

/// An answer to "why is it not running".
struct WaitExplanation {
    WaitReason reason = WaitReason::ready;
    std::string text;                 ///< one sentence for a person, with the numbers
    std::optional<Timestamp> until;   ///< scheduled, retry_backoff, rate_limited: when it may run
    std::optional<LimitScope> scope;  ///< the limit or pause in the way, when one is
    std::int64_t ahead = 0;           ///< queued: how many are before it
};

/// The explanation of `facts` at `now` (buckets refilled to now).
WaitExplanation explain_wait(const WaitFacts& facts, Timestamp now);

/// Waiting jobs of one (queue, kind, tenant, state) as a store counts them
/// (Store::wait_groups): scheduled and retryable jobs that are already due count as available.
struct WaitGroup {
    std::string queue;
    std::string kind;
    std::string tenant;
    JobState state = JobState::available;
    std::int64_t count = 0;
};

/// How many waiting jobs of a queue wait for one reason.
struct WaitReasonCount {
    std::string queue;
    WaitReason reason = WaitReason::queued;
    std::int64_t count = 0;

    friend bool operator==(const WaitReasonCount&, const WaitReasonCount&) = default;
};

/// Classifies every group as explain_wait would its jobs (available groups: the first limit
/// in the way, else no_worker, else queued), summed per (queue, reason), sorted by queue then
/// reason; reasons with no jobs are left out. `workers` are the live ones.
std::vector<WaitReasonCount> count_wait_reasons(const std::vector<WaitGroup>& groups,
                                                const std::vector<LimitRecord>& limits,
                                                const std::vector<WorkerRecord>& workers,
                                                Timestamp now);

}  // namespace jobq
