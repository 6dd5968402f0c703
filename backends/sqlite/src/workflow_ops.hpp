#pragma once
// The workflow steps of the SQLite backend that run inside other operations' transactions:
// carrying a dependency's end to the jobs waiting for it (jobq/backend/workflow_plan.hpp
// decides, this applies), settling a workflow whose jobs have all finished, inserting a
// workflow's jobs and edges, re-arming a rerun, and reading a claimed job's dependencies. On
// the store's writer (cached statements) or on a caller's connection (enqueue_in).

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "connection.hpp"
#include "jobq/backend/limit_release.hpp"
#include "jobq/backend/store.hpp"
#include "jobq/backend/workflow_plan.hpp"

namespace jobq::sqlite_detail {

/// Gives the slots of one transaction's ended jobs back to their limit rows
/// (jobq/backend/limit_release.hpp): one UPDATE per row rather than per job, which keeps a
/// limited completion batch close to the cost of an unlimited one. Returns the queues to wake.
/// (sqlite_store.cpp)
std::vector<std::string> apply_release(Connection& w, const LimitRelease& release,
                                       std::string_view op);

/// A connection and, when it is the store's writer, its statement cache.
struct Db {
    sqlite3* handle;
    Connection* cached;  ///< null: statements are prepared for the call
    Statement statement(Sql id, std::string_view op) const;
};

/// What a transaction's workflow steps leave to do after commit, and to settle before it.
struct WorkflowEffects {
    std::set<WorkflowId> touched;        ///< workflows that a job of ended in this transaction
    std::set<WorkflowId> discarded;      ///< those of them where a job was discarded
    std::vector<std::string> queues;     ///< queues that got runnable jobs: wake them
    std::vector<JobId> cancelled_running;  ///< running jobs cancelled: announce them

    void add_queue(std::string_view queue);
};

/// Carries `ended` down to the jobs waiting for them (release_dependents), in the caller's
/// transaction.
void release_in(const Db& db, std::vector<std::pair<JobId, DependencyEnd>> ended, Timestamp now,
                WorkflowEffects& effects);

/// Settles each touched workflow that has no unfinished job left (its state and finished_at,
/// a batch's due callbacks enqueued); a batch whose job was discarded gets its any_discarded
/// callback. `forced`: the state it ends in whatever its jobs say (a cancel or deadline).
void settle_in(const Db& db, WorkflowEffects& effects, Timestamp now,
               std::optional<WorkflowState> forced = std::nullopt);

/// Inserts `wf` as a new workflow (append_to empty) or its jobs into a stored one, in the
/// caller's transaction. Throws Error(not_found) for an append to no workflow.
WorkflowInsert insert_workflow_in(const Db& db, const NewWorkflow& wf,
                                  std::optional<WorkflowId> append_to, WorkflowEffects& effects);

/// Re-arms what plan_rerun() chooses; nullopt when there is no such workflow.
std::optional<std::int64_t> rerun_in(const Db& db, WorkflowId id, std::optional<JobId> root,
                                     Timestamp now, WorkflowEffects& effects);

/// Fills Job::upstream of the claimed jobs of a workflow.
void fill_upstream(const Db& db, std::vector<Job>& jobs, std::size_t from = 0);

/// Cancels every unfinished job of workflow `id` with an error of `kind` and `message`,
/// giving running jobs' slots back; the workflow settles as `forced`. Returns how many.
std::int64_t cancel_workflow_in(const Db& db, WorkflowId id, Timestamp now, std::string_view kind,
                                std::string_view message, WorkflowEffects& effects);

}  // namespace jobq::sqlite_detail
