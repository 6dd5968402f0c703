#pragma once
// For backend authors: what an application uses is in <jobq/jobq.hpp>.
//
// Store: the one interface between the jobq core and a database. Blocking and batch-shaped;
// a backend runs SQL and applies exactly what it is told, atomically. Policy (backoff, which
// outcome, when) is decided by the core and arrives here as data, with "now" passed in.
//
// Thread safety: every method may be called from several threads at once; a backend
// serialises internally where its database needs it.

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "jobq/backend/lost_lease.hpp"
#include "jobq/backend/new_job.hpp"
#include "jobq/backend/schedule_requests.hpp"
#include "jobq/backend/wait_facts.hpp"
#include "jobq/backend/workflow_plan.hpp"
#include "jobq/clock.hpp"
#include "jobq/job.hpp"
#include "jobq/job_filter.hpp"
#include "jobq/job_state.hpp"
#include "jobq/limit_record.hpp"
#include "jobq/limit_scope.hpp"
#include "jobq/queue_stats.hpp"
#include "jobq/schedule_record.hpp"
#include "jobq/wait_reason.hpp"
#include "jobq/worker_record.hpp"
#include "jobq/workflow_record.hpp"

namespace jobq {

class Notifier;

/// How many jobs a worker wants from one queue.
struct QueueDemand {
    std::string queue;
    int limit = 0;
};

/// A claim: the most urgent claimable jobs of each queue, up to each limit, become `running`
/// under `worker_id` with their attempt counter incremented. A job is claimable when it is
/// `available`, or `scheduled`/`retryable` with run_at <= now. Order within a queue: priority,
/// then run_at, then id.
///
/// Flow control (limit_record.hpp): when the store holds any limit row, the claim applies it
/// in the same transaction, so limits hold across processes. A paused queue gives nothing;
/// caps and rate limits of the queue, of each kind and of each tenant are respected (see
/// claim_plan.hpp, whose functions decide); tenants take turns within a queue. Every started
/// job adds one to the running count of each row of its queue, kind and tenant, and takes a
/// token from each of their buckets. With no limit row at all, the claim is the plain one.
struct ClaimRequest {
    std::vector<QueueDemand> queues;
    std::string worker_id;
    Timestamp now{};
    Timestamp lease_expires_at{};
    /// When set, the claim reads "now" from this clock once it holds its locks (and moves the
    /// lease by as much), instead of using `now`: a job's attempted_at is then never earlier
    /// than the completion that freed its slot, so start/finish times in the store show the
    /// limits exactly.
    const Clock* clock = nullptr;
};

/// What a claim took, and why it may have taken less than asked.
struct ClaimResult {
    std::vector<Job> jobs;  ///< per queue in claim order, queues in request order
    /// Queues that may hold more claimable jobs than this claim could reach (the tenant
    /// rotation fetched from max_tenants_per_claim tenants only): claim again soon.
    std::vector<std::string> more;
    /// A rate limit held jobs back: the earliest time one of its buckets has a token again.
    std::optional<Timestamp> throttled_until;
};

/// One running job as a worker knows it: the fence of every answer about it.
struct JobAttempt {
    JobId id = 0;
    int attempt = 0;
};

/// Extends the leases of running jobs that `worker_id` still holds.
struct HeartbeatRequest {
    std::vector<JobAttempt> jobs;
    std::string worker_id;
    Timestamp lease_expires_at{};
};

/// The verbs that end an attempt.
enum class OutcomeKind {
    complete,  ///< -> completed; result stored
    retry,     ///< -> retryable at run_at; error appended
    snooze,    ///< -> scheduled at run_at (available when due now); no error
    discard,   ///< -> discarded (the dead-letter queue); error appended
    cancel,    ///< -> cancelled; error appended when given
};

/// The end of one attempt, decided by the core. Applied only while the job is still running
/// the same attempt under the same worker (the fence); otherwise it changes nothing.
struct Outcome {
    JobId id = 0;
    int attempt = 0;
    std::string worker_id;
    OutcomeKind kind = OutcomeKind::complete;
    Timestamp at{};                     ///< when the attempt ended (finished_at when terminal)
    Timestamp run_at{};                 ///< retry, snooze: when the job runs next
    std::optional<AttemptError> error;  ///< appended to the job's errors when set
    std::string result;                 ///< complete: JSON text, empty when none
    bool refund_attempt = false;        ///< max_attempts += 1 so this attempt is not spent
    std::optional<Timestamp> only_if_lease_expired_by;  ///< rescuer: also require the lease to
                                                        ///< have expired at this time
    /// The job's workflow or batch (Job::workflow_id), 0 when none: a terminal outcome of such
    /// a job also releases or cancels the jobs waiting for it, in the same transaction. Set by
    /// whoever read the job; a store needs no lookup for the jobs of no workflow.
    WorkflowId workflow_id = 0;
};

/// The job after an operator action, and whether the action changed it.
struct ChangeResult {
    std::optional<Job> job;  ///< nullopt: no such job
    bool changed = false;
};

/// Which finished jobs to delete: those that finished before each cutoff (unset: keep).
struct PruneRequest {
    std::optional<Timestamp> completed_before;
    std::optional<Timestamp> cancelled_before;
    std::optional<Timestamp> discarded_before;
    std::optional<Timestamp> schedule_runs_before;  ///< cron history entries recorded before
    int limit = 10000;  ///< at most this many rows of each kind per call: short transactions
};

/// What Store::complete_and_claim() did: complete()'s and claim()'s results.
struct CompletedAndClaimed {
    std::vector<bool> applied;  ///< applied[i]: whether outcomes[i] passed its fence
    ClaimResult claimed;
};

/// The batch-oriented, blocking storage contract every backend implements.
class Store {
  public:
    virtual ~Store() = default;

    /// Brings the schema to this library's version; idempotent. Returns the version.
    virtual int migrate() = 0;
    /// The schema version in the database (0 when not migrated).
    virtual int schema_version() = 0;

    /// Inserts jobs in one transaction, in order; unique keys coalesce into existing jobs
    /// (also within the batch). Wakes listeners of the affected queues after commit. A job
    /// whose tenant has max_queued set and already has that many queued jobs (pending,
    /// scheduled, available, retryable; counting the batch's earlier new jobs) makes the whole
    /// call throw QuotaExceeded, writing nothing. Coalesced duplicates do not count.
    virtual std::vector<InsertResult> insert(std::span<const NewJob> jobs) = 0;

    /// Claims jobs for a worker (see ClaimRequest), in one transaction.
    virtual ClaimResult claim(const ClaimRequest& request) = 0;
    /// Renews leases. Returns, in request order, each job in the request whose lease the worker
    /// no longer holds and why (lost_lease.hpp: lease_loss() decides from what the store holds
    /// after the renewal).
    virtual std::vector<LostLease> heartbeat(const HeartbeatRequest& request) = 0;
    /// Applies outcomes in one transaction; result[i] says whether outcomes[i] passed its fence.
    /// Each applied outcome takes one off the running count of the limit rows of the job's
    /// queue, kind and tenant; their queues are woken after commit (a slot came free).
    virtual std::vector<bool> complete(std::span<const Outcome> outcomes) = 0;

    /// Whether complete_and_claim() is implemented. A worker then carries the outcomes it has
    /// ready on its next claim: one commit per batch of jobs instead of two. That pays on a
    /// store with one writer (SQLite), where a completion and a claim cannot run side by side
    /// anyway; a store whose calls run in parallel on many connections may keep them apart.
    virtual bool completes_with_claims() const { return false; }
    /// complete(outcomes), then claim(request), in one transaction: either both take effect or,
    /// when it throws, neither. The claim sees the slots the outcomes freed. Called only when
    /// completes_with_claims(); the default throws Error(invalid_argument).
    virtual CompletedAndClaimed complete_and_claim(std::span<const Outcome> outcomes,
                                                   const ClaimRequest& request);

    /// The job, or nullopt.
    virtual std::optional<Job> get(JobId id) = 0;
    /// Jobs matching the filter, newest first.
    virtual JobPage list(const JobFilter& filter) = 0;
    /// Counts per queue and state; `now` decides which jobs are claimable.
    virtual std::vector<QueueStats> stats(Timestamp now) = 0;

    /// Any non-terminal job -> cancelled. A running job's worker loses its fence; the running
    /// counts of its limit rows drop by one, and after commit the notifier announces the
    /// cancellation (Notifier::notify_cancelled) and wakes the job's queue.
    virtual ChangeResult cancel(JobId id, Timestamp now) = 0;
    /// Any job but a running or available one -> available at `now`; a job out of attempts
    /// gets one more (max_attempts = attempt + 1).
    virtual ChangeResult retry(JobId id, Timestamp now) = 0;
    /// Deletes a job that is not running. changed=false (job returned) when it is running.
    virtual ChangeResult remove(JobId id) = 0;
    /// Every discarded job matching the filter's queue/kind/tenant -> available, as retry().
    virtual std::int64_t replay_discarded(const JobFilter& filter, Timestamp now) = 0;

    /// Running jobs whose lease expired at or before `now`, oldest lease first.
    virtual std::vector<Job> expired_leases(Timestamp now, int limit) = 0;
    /// scheduled/retryable jobs with run_at <= now -> available. Returns how many.
    virtual std::int64_t promote_due(Timestamp now) = 0;
    /// Earliest run_at among scheduled and retryable jobs of these queues (all when empty).
    virtual std::optional<Timestamp> next_run_at(std::span<const std::string> queues) = 0;
    /// Deletes finished jobs and cron history entries past their cutoffs, at most
    /// `limit` of each. Returns how many rows it deleted.
    virtual std::int64_t prune(const PruneRequest& request) = 0;

    // ---- cron schedules (schedule_record.hpp) ----------------------------------------------

    /// Every schedule, by name.
    virtual std::vector<ScheduleRecord> schedules() = 0;
    /// One schedule, or nullopt.
    virtual std::optional<ScheduleRecord> schedule(std::string_view name) = 0;
    /// Inserts a new schedule as given. Returns false and writes nothing when the name exists.
    virtual bool add_schedule(const ScheduleRecord& record) = 0;
    /// Replaces expression, zone, job, misfire and declared of an existing schedule and sets
    /// updated_at; keeps cursor, paused and created_at. Returns false when there is none.
    virtual bool update_schedule(const ScheduleRecord& record) = 0;
    /// Deletes a schedule and its history. Returns false when there is none.
    virtual bool remove_schedule(std::string_view name) = 0;
    /// Pauses a running schedule, or resumes a paused one (see PauseRequest); changed=false
    /// when it already was in that state.
    virtual ScheduleChange set_schedule_paused(const PauseRequest& request) = 0;
    /// In one transaction: every record in `declared` is inserted as given when its name is
    /// new, otherwise its definition is replaced (as update_schedule, and declared = true); a
    /// declared schedule whose name is not in the list is removed with its history.
    virtual ScheduleSync sync_declared_schedules(std::span<const ScheduleRecord> declared,
                                                 Timestamp now) = 0;
    /// The exactly-once step of a schedule (see FireRequest).
    virtual FireResult fire_schedule(const FireRequest& request) = 0;
    /// A schedule's history, newest fire_at first, at most `limit` entries.
    virtual std::vector<ScheduleRun> schedule_runs(std::string_view name, int limit) = 0;

    // ---- flow control (limit_record.hpp, claim_plan.hpp) -----------------------------------

    /// Every limit row, by scope (type, then name).
    virtual std::vector<LimitRecord> limit_records() = 0;
    /// One scope's row, or nullopt.
    virtual std::optional<LimitRecord> limit_record(const LimitScope& scope) = 0;
    /// Sets a scope's limits (replacing all of them), creating its row when there is none; a
    /// queue's pause flag is kept. The row's running count is recounted from the jobs. The
    /// bucket: a new rate starts full; a changed one is rebucket()ed; none is left as is.
    /// Expects validated limits. Returns the row as written. Wakes the queue (or every queue)
    /// after commit: a raised limit may let jobs start.
    virtual LimitRecord set_limits(const LimitScope& scope, const FlowLimits& limits,
                                   Timestamp now) = 0;
    /// Removes a scope's limits: its row is deleted, except that a paused queue's row stays
    /// (with no limits) so the queue stays paused. Returns false when there were none (no row,
    /// or a paused queue's row without limits). Wakes as set_limits.
    virtual bool remove_limits(const LimitScope& scope, Timestamp now) = 0;
    /// Pauses or resumes a queue (creating its row when needed; a resumed queue's row without
    /// limits is deleted). Returns whether it changed. Resuming wakes the queue after commit.
    virtual bool set_queue_paused(std::string_view queue, bool paused, Timestamp now) = 0;

    // ---- workers and explain (worker_record.hpp, wait_reason.hpp) --------------------------

    /// Inserts or replaces a worker's record (by id).
    virtual void record_worker(const WorkerRecord& worker) = 0;
    /// Deletes a worker's record; nothing when there is none.
    virtual void remove_worker(std::string_view id) = 0;
    /// Live workers (expires_at > now), by id; records that expired are deleted.
    virtual std::vector<WorkerRecord> workers(Timestamp now) = 0;
    /// The facts explain needs about one job (see WaitFacts), or nullopt when there is none.
    virtual std::optional<WaitFacts> wait_facts(JobId id, Timestamp now) = 0;
    /// Every waiting job (pending, scheduled, available, retryable) counted per (queue, kind,
    /// tenant, state), due scheduled/retryable jobs as available. One scan: for metrics.
    virtual std::vector<WaitGroup> wait_groups(Timestamp now) = 0;

    // ---- workflows and batches (workflow_record.hpp, workflow_plan.hpp) --------------------
    //
    // A job of a workflow that still has open dependencies is `pending`. Whenever a job of a
    // workflow reaches a terminal state (complete(), cancel(), remove() of a waiting-on job,
    // the calls below), the same transaction carries its end to the jobs waiting for it
    // (release_dependents: O(its dependents), never a scan) and, when it was the workflow's
    // last unfinished job, settles the workflow (its state and finished_at; a batch's due
    // callbacks enqueued once, with batch_callback_payload). A transaction that cannot tell
    // for sure whether a concurrent one finished the rest leaves that to settle_workflows().
    // retry() of a workflow's discarded or cancelled job is rerun_workflow() of that job;
    // prune() keeps every job of an unfinished workflow and deletes a finished one whole,
    // once it is past the cutoff of each state its jobs ended in.

    /// Inserts a workflow or batch and its jobs in one transaction, each job started as
    /// place_workflow_jobs() says, its dependency edges written; writes nothing when it throws.
    /// A batch without jobs is settled at once (its callbacks due). Returns the ids, job ids
    /// in the order of NewWorkflow::spec_index.
    virtual WorkflowInsert insert_workflow(const NewWorkflow& workflow) = 0;
    /// Adds `workflow`'s jobs to the stored workflow `id` (name, kind and deadline are not
    /// changed), in one transaction; a finished workflow runs again. Throws not_found.
    virtual WorkflowInsert append_workflow(WorkflowId id, const NewWorkflow& workflow) = 0;
    /// The workflow with its jobs and edges, or nullopt.
    virtual std::optional<WorkflowRecord> workflow(WorkflowId id) = 0;
    /// Workflows matching the filter, newest first.
    virtual WorkflowPage workflows(const WorkflowFilter& filter) = 0;
    /// Cancels every unfinished job of the workflow, running ones as cancel() does, each with
    /// an error of kind "cancel"; the workflow ends cancelled. Returns how many jobs it
    /// cancelled; nullopt when there is no such workflow.
    virtual std::optional<std::int64_t> cancel_workflow(WorkflowId id, Timestamp now) = 0;
    /// Re-arms what plan_rerun() chooses (the whole workflow, or `job` and what waits on it):
    /// each job pending or available at `now` with its open dependencies counted, one more
    /// attempt when it ran out, completed jobs untouched; the workflow runs again. Returns how
    /// many jobs it re-armed; nullopt when there is no such workflow.
    virtual std::optional<std::int64_t> rerun_workflow(WorkflowId id, std::optional<JobId> job,
                                                       Timestamp now) = 0;
    /// Maintenance, for the Scheduler: workflows past their deadline get their unfinished jobs
    /// cancelled (error kind "deadline") and end cancelled; running workflows whose jobs have
    /// all finished are settled. At most `limit` workflows. Returns how many it changed.
    virtual std::int64_t settle_workflows(Timestamp now, int limit) = 0;

    /// Wake-ups for this store's queues (in-process for SQLite, LISTEN/NOTIFY for PostgreSQL).
    virtual Notifier& notifier() = 0;
};

}  // namespace jobq
