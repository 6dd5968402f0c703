#pragma once
// For backend authors: what a Store gathers for explain and for the wait-reason counts, and
// the core's pure functions that turn those facts into answers.

#include <cstdint>
#include <string>
#include <vector>

#include "jobq/clock.hpp"
#include "jobq/job.hpp"
#include "jobq/job_state.hpp"
#include "jobq/limit_record.hpp"
#include "jobq/wait_reason.hpp"
#include "jobq/worker_record.hpp"

namespace jobq {

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

/// Classifies every group as explain_wait would its jobs (available groups: the first limit
/// in the way, else no_worker, else queued), summed per (queue, reason), sorted by queue then
/// reason; reasons with no jobs are left out. `workers` are the live ones.
std::vector<WaitReasonCount> count_wait_reasons(const std::vector<WaitGroup>& groups,
                                                const std::vector<LimitRecord>& limits,
                                                const std::vector<WorkerRecord>& workers,
                                                Timestamp now);

}  // namespace jobq
