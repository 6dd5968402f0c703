#pragma once
// Text and JSON renderings of jobs, pages of jobs and queue stats, shared by the commands.

#include <ostream>
#include <span>

#include <nlohmann/json.hpp>

#include "jobq/backend/store.hpp"
#include "jobq/job.hpp"

namespace jobq::cli {

/// Every field of a job, one per line, then each attempt's error and the result.
void print_job_details(std::ostream& out, const Job& job, Timestamp now);

/// A page as a table (ID, STATE, QUEUE, KIND, ATTEMPT/MAX, PRIORITY, RUN AT), then a hint
/// naming the --before cursor of the next page when there is one.
void print_job_table(std::ostream& out, const JobPage& page);

/// Dead-letter jobs as a table with their last error, then the next-page hint.
void print_dead_letter_table(std::ostream& out, const JobPage& page);

/// {"jobs": [...], "next_before_id": N or null}.
nlohmann::json page_to_json(const JobPage& page);

/// One row per queue: counts per state and the age of the oldest runnable job.
void print_stats_table(std::ostream& out, std::span<const QueueStats> stats, Timestamp now);

/// {"queues": [{"queue", "counts": {state: n}, "total", "oldest_runnable_at",
/// "oldest_runnable_age_ms"}]}.
nlohmann::json stats_to_json(std::span<const QueueStats> stats, Timestamp now);

}  // namespace jobq::cli
