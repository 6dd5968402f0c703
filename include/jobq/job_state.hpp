#pragma once
// The lifecycle states of a job.

#include <array>
#include <optional>
#include <string_view>

namespace jobq {

/// Where a job is in its lifecycle. Terminal: completed, cancelled, discarded.
enum class JobState {
    pending,    ///< waiting on dependencies (workflows)
    scheduled,  ///< run_at is in the future (delayed or snoozed)
    available,  ///< ready to be claimed
    running,    ///< claimed by a worker that holds its lease
    retryable,  ///< failed an attempt and waits for its backoff
    completed,  ///< finished successfully
    cancelled,  ///< cancelled by an operator or by its handler
    discarded,  ///< out of attempts or discarded by its handler: the dead-letter queue
};

/// Every state, in lifecycle order.
inline constexpr std::array<JobState, 8> all_job_states{
    JobState::pending,   JobState::scheduled, JobState::available, JobState::running,
    JobState::retryable, JobState::completed, JobState::cancelled, JobState::discarded};

/// The state's name as stored and shown ("available", "running", ...).
std::string_view to_string(JobState state) noexcept;
/// Parses a state name; nullopt when it names no state.
std::optional<JobState> parse_job_state(std::string_view name) noexcept;
/// True for completed, cancelled and discarded.
constexpr bool is_terminal(JobState s) noexcept {
    return s == JobState::completed || s == JobState::cancelled || s == JobState::discarded;
}

}  // namespace jobq
