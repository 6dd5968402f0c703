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

/// An answer to "why is it not running".
struct WaitExplanation {
    WaitReason reason = WaitReason::ready;
    std::string text;                 ///< one sentence for a person, with the numbers
    std::optional<Timestamp> until;   ///< scheduled, retry_backoff, rate_limited: when it may run
    std::optional<LimitScope> scope;  ///< the limit or pause in the way, when one is
    std::int64_t ahead = 0;           ///< queued: how many are before it
};

/// How many waiting jobs of a queue wait for one reason.
struct WaitReasonCount {
    std::string queue;
    WaitReason reason = WaitReason::queued;
    std::int64_t count = 0;

    friend bool operator==(const WaitReasonCount&, const WaitReasonCount&) = default;
};

}  // namespace jobq
