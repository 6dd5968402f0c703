#pragma once
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

#include "jobq/clock.hpp"
#include "jobq/job.hpp"
#include "jobq/job_state.hpp"
#include "jobq/new_job.hpp"
#include "jobq/schedule_record.hpp"

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
struct ClaimRequest {
    std::vector<QueueDemand> queues;
    std::string worker_id;
    Timestamp now{};
    Timestamp lease_expires_at{};
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
};

/// Selection for listing jobs; empty fields match everything. Newest (highest id) first.
struct JobFilter {
    std::vector<JobState> states;
    std::string queue;
    std::string kind;
    std::string tenant;
    std::optional<JobId> before_id;  ///< keyset cursor: only ids below this
    int limit = 100;
};

/// One page of a listing; `next_before_id` is the cursor of the next page when there is one.
struct JobPage {
    std::vector<Job> jobs;
    std::optional<JobId> next_before_id;
};

/// Counts per state of one queue.
struct QueueStats {
    std::string queue;
    std::array<std::int64_t, all_job_states.size()> counts{};  ///< indexed by JobState
    std::optional<Timestamp> oldest_runnable_since;            ///< min run_at of jobs claimable now

    std::int64_t count(JobState s) const { return counts[static_cast<std::size_t>(s)]; }
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

/// The batch-oriented, blocking storage contract every backend implements.
class Store {
  public:
    virtual ~Store() = default;

    /// Brings the schema to this library's version; idempotent. Returns the version.
    virtual int migrate() = 0;
    /// The schema version in the database (0 when not migrated).
    virtual int schema_version() = 0;

    /// Inserts jobs in one transaction, in order; unique keys coalesce into existing jobs
    /// (also within the batch). Wakes listeners of the affected queues after commit.
    virtual std::vector<InsertResult> insert(std::span<const NewJob> jobs) = 0;

    /// Claims jobs for a worker (see ClaimRequest), in one transaction.
    virtual std::vector<Job> claim(const ClaimRequest& request) = 0;
    /// Renews leases; returns the jobs in the request the worker no longer holds.
    virtual std::vector<JobId> heartbeat(const HeartbeatRequest& request) = 0;
    /// Applies outcomes in one transaction; result[i] says whether outcomes[i] passed its fence.
    virtual std::vector<bool> complete(std::span<const Outcome> outcomes) = 0;

    /// The job, or nullopt.
    virtual std::optional<Job> get(JobId id) = 0;
    /// Jobs matching the filter, newest first.
    virtual JobPage list(const JobFilter& filter) = 0;
    /// Counts per queue and state; `now` decides which jobs are claimable.
    virtual std::vector<QueueStats> stats(Timestamp now) = 0;

    /// Any non-terminal job -> cancelled (a running job's worker loses its fence).
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

    /// Wake-ups for this store's queues (in-process for SQLite, LISTEN/NOTIFY for PostgreSQL).
    virtual Notifier& notifier() = 0;
};

}  // namespace jobq
