#pragma once
// A job as stored: what was asked for, where it is in its lifecycle, and what happened to it.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "jobq/clock.hpp"
#include "jobq/job_state.hpp"
#include "jobq/retry_policy.hpp"

namespace jobq {

/// Identifier of a job, unique within a store.
using JobId = std::int64_t;

/// The record of one failed (or interrupted) attempt.
struct AttemptError {
    int attempt = 0;      ///< which attempt failed (1-based)
    Timestamp at{};       ///< when it was recorded
    std::string kind;     ///< "exception", "timeout", "lease_expired", "shutdown", "no_handler",
                          ///< "retry", "discard", "cancel"
    std::string message;  ///< the exception's what() or the signal's reason

    friend bool operator==(const AttemptError&, const AttemptError&) = default;
};

/// How one dependency of a workflow job stood when the job was claimed (Job::upstream).
struct UpstreamResult {
    std::string name;  ///< the dependency's name in the workflow
    JobId id = 0;
    JobState state = JobState::completed;  ///< completed, or discarded/cancelled under `ignore`
    nlohmann::json result;                 ///< its result; null when none
    std::string error;                     ///< its latest error's message; empty when none

    friend bool operator==(const UpstreamResult&, const UpstreamResult&) = default;
};

/// Identifier of a workflow or batch, unique within a store.
using WorkflowId = std::int64_t;

/// A stored job.
struct Job {
    JobId id = 0;
    std::string kind;
    std::string queue;
    std::string tenant;      ///< empty when the job has no tenant
    nlohmann::json payload;  ///< always a JSON object
    int priority = 0;        ///< 0 (most urgent) .. 9
    JobState state = JobState::available;
    int attempt = 0;  ///< attempts started so far
    int max_attempts = 0;
    Timestamp created_at{};
    Timestamp run_at{};                         ///< when it becomes (or became) runnable
    std::optional<Timestamp> attempted_at;      ///< start of the latest attempt
    std::optional<Timestamp> finished_at;       ///< when it reached a terminal state
    std::optional<Timestamp> lease_expires_at;  ///< while running
    std::string worker_id;                      ///< the worker of the latest attempt
    std::optional<Duration> timeout;            ///< per-attempt limit
    std::string unique_key;                     ///< effective unique key, empty when none
    std::vector<std::string> tags;
    std::vector<AttemptError> errors;         ///< one entry per failed attempt, oldest first
    nlohmann::json result;                    ///< the handler's result; null when none
    std::optional<RetryPolicy> retry_policy;  ///< the job's own policy, if it set one
    WorkflowId workflow_id = 0;               ///< its workflow or batch; 0 when none
    std::string step;                         ///< its name in the workflow; empty when none
    /// Its dependencies as they stood when it was claimed (read then, not copied at insert):
    /// filled only in a job a worker claimed. Empty for a job without dependencies.
    std::vector<UpstreamResult> upstream;
};

/// JSON form of a job, as the CLI's --json prints it (timestamps as ISO 8601 UTC strings).
nlohmann::json to_json(const Job& job);

/// Scope of a job's unique key, from its stored form.
enum class UniqueScope { none, global, tenant };
/// The unique key as the caller gave it, without the scope prefix the store keeps it under
/// ("welcome:42", not "t:acme:welcome:42"); empty when the job has none.
std::string unique_key_as_given(const Job& job);
/// Whether the key coalesces within the job's tenant or across all jobs.
UniqueScope unique_scope(const Job& job);

}  // namespace jobq
