#pragma once
// JobFilter and JobPage: which jobs to list, and one page of the answer with its cursor.

#include <optional>
#include <string>
#include <vector>

#include "jobq/clock.hpp"
#include "jobq/job.hpp"
#include "jobq/job_state.hpp"

namespace jobq {

/// Selection for listing jobs; empty fields match everything. Newest (highest id) first.
struct JobFilter {
    std::vector<JobState> states;
    std::string queue;
    std::string kind;
    std::string tenant;
    std::string tag;                 ///< only jobs carrying this tag; empty: any
    std::optional<JobId> before_id;  ///< keyset cursor: only ids below this
    /// Only jobs that finished at or after / before this instant (list only; replay ignores
    /// them, as it does `tag`). Unfinished jobs never match when either is set.
    std::optional<Timestamp> finished_after;
    std::optional<Timestamp> finished_before;
    int limit = 100;
};

/// One page of a listing; `next_before_id` is the cursor of the next page when there is one.
struct JobPage {
    std::vector<Job> jobs;
    std::optional<JobId> next_before_id;
};

}  // namespace jobq
