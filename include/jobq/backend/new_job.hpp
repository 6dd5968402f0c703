#pragma once
// For backend authors. NewJob: a validated job in the form a Store inserts, and its derivation from
// a JobSpec.

#include <optional>
#include <span>
#include <string>
#include <vector>

#include "jobq/clock.hpp"
#include "jobq/input_limits.hpp"
#include "jobq/insert_result.hpp"
#include "jobq/job.hpp"
#include "jobq/job_spec.hpp"
#include "jobq/job_state.hpp"

namespace jobq {

/// A validated job ready to insert; built by the core from a JobSpec.
struct NewJob {
    std::string kind;
    std::string queue;
    std::string tenant;
    std::string payload;  ///< JSON object text
    int priority = 0;
    JobState state = JobState::available;  ///< available, or scheduled when run_at > created_at
    Timestamp created_at{};
    Timestamp run_at{};
    int max_attempts = 1;
    std::optional<Duration> timeout;
    std::vector<std::string> tags;
    std::string retry_policy;  ///< JSON text of the job's own policy, empty when none
    std::string unique_key;    ///< effective key (tenant scope applied); empty: not unique
    std::vector<JobState> unique_states;    ///< a job in one of these states blocks a duplicate
    std::optional<Timestamp> unique_since;  ///< only jobs created at or after this block
    // Set by a backend for a job of a workflow or batch (Store::insert_workflow); a plain
    // job leaves them empty.
    WorkflowId workflow_id = 0;  ///< 0: none
    std::string step;            ///< its name in the workflow
    int open_deps = 0;           ///< dependencies not yet met (state pending while > 0)
};

/// Validates `spec` against `limits` (throws Error naming the field; the payload's size too)
/// and resolves it against `now`: delay to run_at, initial state, tenant-scoped unique key,
/// default unique states, serialised payload.
NewJob to_new_job(const JobSpec& spec, Timestamp now, const InputLimits& limits = {});

/// to_new_job for a batch: every spec is validated before any is returned, and an error names
/// which job of the batch was at fault ("job 3 of 5: priority: ...").
std::vector<NewJob> to_new_jobs(std::span<const JobSpec> specs, Timestamp now,
                                const InputLimits& limits = {});

}  // namespace jobq
