#include "jobq/job_state.hpp"

namespace jobq {

std::string_view to_string(JobState state) noexcept {
    switch (state) {
        case JobState::pending:
            return "pending";
        case JobState::scheduled:
            return "scheduled";
        case JobState::available:
            return "available";
        case JobState::running:
            return "running";
        case JobState::retryable:
            return "retryable";
        case JobState::completed:
            return "completed";
        case JobState::cancelled:
            return "cancelled";
        case JobState::discarded:
            return "discarded";
    }
    return "unknown";
}

std::optional<JobState> parse_job_state(std::string_view name) noexcept {
    for (JobState s : all_job_states) {
        if (to_string(s) == name) return s;
    }
    return std::nullopt;
}

}  // namespace jobq
