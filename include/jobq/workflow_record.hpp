#pragma once
// A stored workflow or batch as Queue::workflow() and Queue::workflows() show it: its jobs,
// the dependencies between them, and how far it has come.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "jobq/clock.hpp"
#include "jobq/job.hpp"
#include "jobq/job_state.hpp"
#include "jobq/workflow_spec.hpp"

namespace jobq {

/// Where a workflow stands. It is running while any of its jobs has not finished; once all
/// have, it is completed (every job completed), failed (a job was discarded) or cancelled
/// (no job discarded, some cancelled; and always after Queue::cancel_workflow or its deadline).
enum class WorkflowState { running, completed, failed, cancelled };

/// "running", "completed", "failed", "cancelled".
std::string_view to_string(WorkflowState s) noexcept;
/// The state named `name`, or nullopt.
std::optional<WorkflowState> parse_workflow_state(std::string_view name) noexcept;

/// A workflow has dependencies between its jobs; a batch has independent jobs and callbacks.
enum class WorkflowKind { workflow, batch };

/// "workflow", "batch".
std::string_view to_string(WorkflowKind k) noexcept;

/// One dependency: `job` waits for `dep`.
struct WorkflowEdge {
    JobId job = 0;
    JobId dep = 0;
    DependencyPolicy on_discarded = DependencyPolicy::cancel;
    DependencyPolicy on_cancelled = DependencyPolicy::cancel;

    friend bool operator==(const WorkflowEdge&, const WorkflowEdge&) = default;
};

/// A batch's callback as stored: when it fires, the job it runs, and the job it became.
struct BatchCallbackRecord {
    std::string on;  ///< "all_completed", "any_discarded", "all_finished"
    nlohmann::json job;  ///< the callback's JobSpec in its JSON form
    JobId fired_job = 0;  ///< the callback job once enqueued; 0 while not fired
};

/// A workflow or batch without its jobs: what a list shows.
struct WorkflowSummary {
    WorkflowId id = 0;
    std::string name;
    WorkflowKind kind = WorkflowKind::workflow;
    WorkflowState state = WorkflowState::running;
    std::string tenant;  ///< the tenant of all its jobs; empty when none (or mixed)
    std::optional<Timestamp> deadline;
    Timestamp created_at{};
    std::optional<Timestamp> finished_at;
    /// Its jobs per state, indexed by JobState.
    std::array<std::int64_t, all_job_states.size()> counts{};
};

/// A workflow or batch with its jobs and edges.
struct WorkflowRecord {
    WorkflowSummary summary;
    std::vector<Job> jobs;  ///< by id (insertion order)
    std::vector<WorkflowEdge> edges;
    std::vector<BatchCallbackRecord> callbacks;
};

/// Which workflows Queue::workflows() lists, newest first.
struct WorkflowFilter {
    std::optional<WorkflowState> state;
    std::optional<WorkflowKind> kind;
    std::string tenant;                  ///< empty: any
    std::optional<WorkflowId> before_id;  ///< cursor: only ids below this
    int limit = 50;
};

/// One page of workflows; next_before_id is set when more follow.
struct WorkflowPage {
    std::vector<WorkflowSummary> workflows;
    std::optional<WorkflowId> next_before_id;
};

/// JSON forms, as the CLI's --json prints them (timestamps as ISO 8601 UTC strings).
nlohmann::json to_json(const WorkflowSummary& w);
nlohmann::json to_json(const WorkflowRecord& w);

/// What Queue::enqueue_workflow and append_workflow did: the workflow's id and the new jobs'
/// ids in the order of the spec's jobs.
struct WorkflowInsert {
    WorkflowId id = 0;
    std::vector<JobId> job_ids;
};

}  // namespace jobq
