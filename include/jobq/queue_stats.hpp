#pragma once
// QueueStats: how many jobs of one queue are in each state, and the oldest runnable one.

#include <array>
#include <cstdint>
#include <optional>
#include <string>

#include "jobq/clock.hpp"
#include "jobq/job_state.hpp"

namespace jobq {

/// Counts per state of one queue.
struct QueueStats {
    std::string queue;
    std::array<std::int64_t, all_job_states.size()> counts{};  ///< indexed by JobState
    std::optional<Timestamp> oldest_runnable_since;            ///< min run_at of jobs claimable now

    std::int64_t count(JobState s) const { return counts[static_cast<std::size_t>(s)]; }
};

}  // namespace jobq
