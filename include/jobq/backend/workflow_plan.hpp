#pragma once
// For backend authors. The rules of workflows and batches that every backend applies inside
// its own transactions, as pure functions over what the backend read: where new jobs start
// (insert and append), how a dependency's end travels down to the jobs waiting for it (the
// backend answers the graph's questions, DependencyGraph), which jobs a rerun re-arms, how a
// finished workflow ended, and the payload of a batch callback.

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "jobq/backend/dependency_end.hpp"
#include "jobq/backend/new_job.hpp"
#include "jobq/batch_spec.hpp"
#include "jobq/clock.hpp"
#include "jobq/job.hpp"
#include "jobq/job_state.hpp"
#include "jobq/workflow_record.hpp"
#include "jobq/workflow_spec.hpp"

namespace jobq {

// From store.hpp, which includes this header.
enum class OutcomeKind;
struct PruneRequest;

/// One new job of a workflow, validated (its NewJob built by to_new_job).
struct NewWorkflowJob {
    NewJob job;
    std::string step;               ///< its name in the workflow
    std::vector<std::string> deps;  ///< names of new or (appending) stored jobs
    DependencyPolicy on_discarded = DependencyPolicy::cancel;
    DependencyPolicy on_cancelled = DependencyPolicy::cancel;
};

/// A workflow or batch to insert, or jobs to append to a stored one; built by the core.
struct NewWorkflow {
    std::string name;
    WorkflowKind kind = WorkflowKind::workflow;
    std::optional<Timestamp> deadline;
    std::string tenant;  ///< the tenant of every job, or empty (none, or mixed)
    Timestamp now{};
    /// In an order where each job comes after the new jobs it depends on
    /// (WorkflowSpec::insertion_order / append_order); ids are handed out in this order.
    std::vector<NewWorkflowJob> jobs;
    /// Where each job of the caller's spec is in `jobs` (results go back in spec order).
    std::vector<std::size_t> spec_index;
    /// A batch's callbacks: [{"on": "all_completed", "job": <JobSpec JSON>}, ...].
    nlohmann::json callbacks = nlohmann::json::array();
};

/// `spec` validated (WorkflowSpec::insertion_order, or append_order with `append`) and
/// resolved against `now`: each job's NewJob in insertion order. Throws as validate() does.
NewWorkflow to_new_workflow(const WorkflowSpec& spec, Timestamp now, const InputLimits& limits = {},
                            bool append = false);
/// The same for a batch: its jobs without dependencies, its callbacks as JSON.
NewWorkflow to_new_workflow(const BatchSpec& spec, Timestamp now, const InputLimits& limits = {});

/// Throws Error(invalid_argument, field "id"): jobs are appended to workflows only; a batch's
/// set of jobs is fixed when it is added (its callbacks count them).
[[noreturn]] void refuse_batch_append(WorkflowId id);

/// A stored job of a workflow as a backend reads it for planning.
struct WorkflowMember {
    JobId id = 0;
    std::string step;
    JobState state = JobState::pending;
    int attempt = 0;
    int max_attempts = 1;
};

/// Where one dependency of a new job points: a new job (its index in NewWorkflow::jobs) or a
/// stored one (its id).
struct PlacedDep {
    std::optional<std::size_t> new_index;
    JobId stored_id = 0;
    DependencyPolicy on_discarded = DependencyPolicy::cancel;
    DependencyPolicy on_cancelled = DependencyPolicy::cancel;
};

/// How one new job starts.
struct PlacedJob {
    JobState state = JobState::available;  ///< pending, its NewJob's own state, or cancelled
    int open_deps = 0;
    std::optional<std::string> cancel_error;  ///< set when it starts cancelled
    std::vector<PlacedDep> deps;
};

/// Places `wf`'s jobs beside the `stored` jobs of the workflow (none on insert): each
/// dependency resolved, a job with open dependencies pending. A stored dependency that
/// completed is met at once; one that was discarded or cancelled is judged by the policy
/// (judge_dependency_end), so a new job can start cancelled, and so can the new jobs waiting
/// for it. Throws Error(invalid_argument) naming the field (`jobs[2].name`, `jobs[0].deps[1]`)
/// for a new name that a stored job has, or a dependency on a name neither has.
std::vector<PlacedJob> place_workflow_jobs(const NewWorkflow& wf,
                                           std::span<const WorkflowMember> stored);

/// One edge as the release walk reads it: `job` (named `job_step`, in `job_state`) waits for
/// `dep` (named `dep_step`).
struct DependentEdge {
    JobId dep = 0;
    std::string dep_step;
    JobId job = 0;
    std::string job_step;
    JobState job_state = JobState::pending;
    DependencyPolicy on_discarded = DependencyPolicy::cancel;
    DependencyPolicy on_cancelled = DependencyPolicy::cancel;
};

/// What a backend answers and applies for release_dependents(), inside the transaction that
/// ended the dependencies. Each call takes a whole level of the walk, so a backend can batch.
class DependencyGraph {
  public:
    virtual ~DependencyGraph() = default;
    /// Every edge whose `dep` is one of `ended`.
    virtual std::vector<DependentEdge> dependents(std::span<const JobId> ended) = 0;
    /// Each (job, n): n more of its dependencies are met; a pending job with none left open
    /// becomes available (scheduled when its run_at is still ahead).
    virtual void meet(std::span<const std::pair<JobId, int>> met) = 0;
    /// Each (job, error): a pending job is cancelled with that error. Returns the jobs it
    /// cancelled (those still pending).
    virtual std::vector<JobId> cancel(std::span<const std::pair<JobId, std::string>> jobs) = 0;
    /// A shortcut for the common level where every ended job completed, which meets every
    /// dependency whatever its policy: each pending job waiting for some of `completed` has
    /// that many fewer open dependencies, as meet() does, in one step without reading the edges
    /// out. Returns false (and changes nothing) when the backend has no such shortcut.
    virtual bool meet_dependents(std::span<const JobId> completed) {
        (void)completed;
        return false;
    }
};

/// Carries the ends of `ended` down the graph: met dependencies counted off, cancellations
/// applied and carried on from the cancelled jobs, level by level until nothing changes. A job
/// that one dependency cancels is not also counted off by another. Jobs are given to the graph
/// in ascending id order, so two transactions lock shared rows in one order.
void release_dependents(DependencyGraph& graph, std::vector<std::pair<JobId, DependencyEnd>> ended);

/// The end a terminal state gives the jobs waiting for a job.
DependencyEnd dependency_end_of(JobState terminal);

/// One job a rerun re-arms: its new state (pending or available) and open dependencies.
struct RearmedJob {
    JobId id = 0;
    JobState state = JobState::available;
    int open_deps = 0;
};

/// The jobs a rerun re-arms. Without `root`: every discarded and cancelled job of the
/// workflow. With it: that job (which must be discarded or cancelled; otherwise nothing) and
/// every discarded or cancelled job downstream of it. Completed jobs stay as they are, results
/// and all. A job whose dependency stays discarded or cancelled under policy `cancel` is not
/// re-armed (it would be cancelled again at once), nor is anything that waits on it.
std::vector<RearmedJob> plan_rerun(std::span<const WorkflowMember> members,
                                   std::span<const WorkflowEdge> edges, std::optional<JobId> root);

/// The end a terminal outcome gives the jobs waiting for its job.
DependencyEnd dependency_end_of(OutcomeKind terminal);

/// Retention of finished workflows (Store::prune): the latest cutoff `request` gives, which
/// bounds the workflows worth looking at (none when it gives no cutoff).
std::optional<Timestamp> latest_prune_cutoff(const PruneRequest& request);
/// Whether a workflow that finished at `finished_at` with jobs in `states` is pruned whole:
/// past the cutoff of every state its jobs ended in (a state without a cutoff keeps it).
bool workflow_prunable(const PruneRequest& request, Timestamp finished_at,
                       std::span<const JobState> states);

/// How a workflow all of whose jobs have finished ended (see WorkflowState), from its jobs'
/// counts per state (indexed by JobState).
WorkflowState finished_state(const std::array<std::int64_t, all_job_states.size()>& counts);

/// A batch callback job's payload: the callback's own payload with "batch" set to
/// {"id", "name", "callback", "total", "completed", "discarded", "cancelled", "failed_ids"}
/// (failed_ids: discarded and cancelled jobs, at most the first 1,000).
nlohmann::json batch_callback_payload(const nlohmann::json& own, WorkflowId id,
                                      const std::string& name, BatchCallback callback,
                                      const std::array<std::int64_t, all_job_states.size()>& counts,
                                      const std::vector<JobId>& failed_ids);

/// The callbacks of `wf` (NewWorkflow::callbacks) as BatchSpec stores them, from a spec.
nlohmann::json callbacks_json(const BatchSpec& spec);

/// Which of a batch's stored callbacks (callbacks_json() with "fired_job" set on those that
/// ran) are due at `counts` (batch_callbacks_due): their indices in `stored`.
std::vector<std::size_t> due_callbacks(
    const nlohmann::json& stored, const std::array<std::int64_t, all_job_states.size()>& counts);
/// Whether a batch's any_discarded callback has yet to run (worth looking for a discard).
bool awaits_discard(const nlohmann::json& stored);
/// The JobSpec JSON of due callback `cb`, its payload built by batch_callback_payload().
nlohmann::json callback_job(const nlohmann::json& cb, WorkflowId id, const std::string& name,
                            const std::array<std::int64_t, all_job_states.size()>& counts,
                            const std::vector<JobId>& failed_ids);
/// The callback job to insert at `now`: callback_job() resolved by to_new_job() without the
/// enqueue-time size limits. The callback was validated when its batch was added; a summary
/// added on top must not refuse it at fire time, where a refusal would fail the completion
/// that made it due (and every completion after it, for ever).
NewJob callback_new_job(const nlohmann::json& cb, WorkflowId id, const std::string& name,
                        const std::array<std::int64_t, all_job_states.size()>& counts,
                        const std::vector<JobId>& failed_ids, Timestamp now);

}  // namespace jobq
