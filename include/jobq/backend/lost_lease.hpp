#pragma once
// For backend authors. Why a heartbeat could not renew a lease, so that a worker learns it from
// the heartbeat itself instead of reading each job back. One rule for every backend: the
// backend reads what the store holds for each job it could not renew (in the heartbeat's own
// call, after the renewal) and passes it to lease_loss().

#include <optional>

#include "jobq/job.hpp"
#include "jobq/job_state.hpp"

namespace jobq {

/// Why a running job's lease was lost.
enum class LeaseLoss {
    /// The job was cancelled, and no later attempt started: its handler should stop as a
    /// cancellation.
    cancelled,
    /// There is no such job any more (removed or pruned).
    missing,
    /// The job no longer runs this attempt under this worker: its lease expired and it was
    /// rescued (and maybe claimed again), it finished, or another attempt started.
    superseded,
};

/// One lease a heartbeat could not renew.
struct LostLease {
    JobId id = 0;
    LeaseLoss why = LeaseLoss::superseded;

    friend bool operator==(const LostLease&, const LostLease&) = default;
};

/// The rule: why the lease of attempt `held_attempt` is lost, given the job's state and attempt
/// in the store now (`state` nullopt: no such job). Called only for leases that were not
/// renewed; a job still running that attempt counts as superseded (another worker's fence).
constexpr LeaseLoss lease_loss(const std::optional<JobState>& state, int attempt,
                               int held_attempt) noexcept {
    if (!state) return LeaseLoss::missing;
    if (*state == JobState::cancelled && attempt == held_attempt) return LeaseLoss::cancelled;
    return LeaseLoss::superseded;
}

}  // namespace jobq
