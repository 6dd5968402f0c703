#pragma once
// The workflow steps of the PostgreSQL backend that run inside other operations' transactions:
// carrying a dependency's end to the jobs waiting for it (jobq/backend/workflow_plan.hpp
// decides, this applies), settling a workflow whose jobs have all finished, inserting a
// workflow's jobs and edges, re-arming a rerun, cancelling a whole workflow, and reading
// claimed jobs' dependencies. In the store's own transactions (prepared statements) or in a
// caller's (enqueue_in: the same texts as one-off statements).

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <pqxx/result>
#include <pqxx/transaction_base>

#include "jobq/backend/store.hpp"
#include "jobq/backend/workflow_plan.hpp"
#include "statements.hpp"

namespace jobq::postgres_detail {

/// A transaction and how statements run in it.
struct Tx {
    pqxx::transaction_base& tx;
    const Statements& sql;
    bool prepared = true;           ///< the store's connection: statements are prepared
    const char* channel = nullptr;  ///< a caller's transaction: NOTIFY here, at its commit
    std::string schema;             ///< for the unique-key advisory locks of inserts

    template <class... Args>
    pqxx::result operator()(Sql id, Args&&... args) const {
        if (prepared) return tx.exec_prepared(Statements::name(id), std::forward<Args>(args)...);
        return tx.exec_params(sql.text(id), std::forward<Args>(args)...);
    }
};

/// What a transaction's workflow steps leave to do after commit.
struct WorkflowEffects {
    std::set<WorkflowId> touched;          ///< workflows a job of ended in this transaction
    std::set<WorkflowId> discarded;        ///< those of them where a job was discarded
    std::vector<std::string> queues;       ///< queues that got runnable jobs: wake them
    std::vector<JobId> cancelled_running;  ///< running jobs cancelled: announce them
    std::vector<LimitScope> freed;         ///< limit rows those running jobs held

    void add_queue(std::string_view queue);
};

/// Carries `ended` down to the jobs waiting for them (release_dependents).
void release_in(const Tx& tx, std::vector<std::pair<JobId, DependencyEnd>> ended, Timestamp now,
                WorkflowEffects& effects);

/// Settles each touched workflow with no unfinished job left, under its row lock (taken in id
/// order; see settle_in for the one race left to the Scheduler); a batch whose job was
/// discarded gets its any_discarded callback. `forced`: the state
/// it ends in whatever its jobs say.
void settle_in(const Tx& tx, WorkflowEffects& effects, Timestamp now,
               std::optional<WorkflowState> forced = std::nullopt);

/// Inserts `wf` as a new workflow (append_to empty) or its jobs into a stored one.
WorkflowInsert insert_workflow_in(const Tx& tx, const NewWorkflow& wf,
                                  std::optional<WorkflowId> append_to, WorkflowEffects& effects);

/// Re-arms what plan_rerun() chooses; nullopt when there is no such workflow.
std::optional<std::int64_t> rerun_in(const Tx& tx, WorkflowId id, std::optional<JobId> root,
                                     Timestamp now, WorkflowEffects& effects);

/// Cancels every unfinished job of workflow `id` (error `kind`, `message`) and settles it as
/// cancelled. The slots of running jobs are given back (WorkflowEffects::freed is applied).
std::int64_t cancel_workflow_in(const Tx& tx, WorkflowId id, Timestamp now, std::string_view kind,
                                std::string_view message, WorkflowEffects& effects);

/// The ids of the jobs of a workflow among `jobs` as an array literal (Sql::wf_upstream's
/// parameter); empty when there is none, and then no statement is needed.
std::string upstream_ids(const std::vector<Job>& jobs);
/// Fills Job::upstream from Sql::wf_upstream's rows.
void apply_upstream(const pqxx::result& rows, std::vector<Job>& jobs);

}  // namespace jobq::postgres_detail
