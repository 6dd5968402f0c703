#pragma once
// SqliteStore: the embedded backend — one database file, WAL, one writer at a time.

#include <chrono>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "jobq/backend/store.hpp"
#include "jobq/clock.hpp"
#include "jobq/job_spec.hpp"

struct sqlite3;

namespace jobq {

/// When a commit is on disk. Both are crash-safe for the process; they differ on power loss.
enum class SqliteDurability {
    /// synchronous=FULL: a committed enqueue or outcome survives power loss (default).
    full,
    /// synchronous=NORMAL: survives a process crash; the last commits may be lost on power
    /// loss or an OS crash. Several times faster for one-job-per-transaction workloads.
    normal,
};

/// Whether a SqliteStore may write to its database.
enum class SqliteAccess {
    /// Read and write (default). Opening fails with Error(storage) when the file, or the
    /// directory that holds its write-ahead log, is not writable by this process.
    read_write,
    /// Read only: every write (enqueue, claim, cancel, migrate, ...) throws Error(storage)
    /// saying the store is read-only, and nothing is written. Also opens a database whose file
    /// and directory this process cannot write. When SQLite cannot create its shared-memory
    /// file there (no process has the database open) and no write-ahead log is pending, the
    /// file is read as it stands, without locks: a process that starts writing while the
    /// store is open may be seen half-way, so keep such a store briefly (as the CLI does).
    read_only,
    /// read_write when this process can write the database, else read_only. The jobq CLI's
    /// choice, so an operator can inspect a database they may not change.
    automatic,
};

/// Settings of a SqliteStore.
struct SqliteOptions {
    SqliteDurability durability = SqliteDurability::full;
    /// How long a statement waits for another process's write lock before failing.
    std::chrono::milliseconds busy_timeout{5000};
    /// Run migrate() in the constructor.
    bool migrate = false;
    /// Whether the store may write (see SqliteAccess).
    SqliteAccess access = SqliteAccess::read_write;
};

/// Store on a SQLite database file. Thread-safe: one writer connection (serialised) and one
/// reader connection, so inspections do not wait behind claims.
class SqliteStore final : public Store {
  public:
    /// Opens (creating if needed) the database file at `path`: a file name, never a SQLite URI
    /// ("file:x.db" is the file of that name), or ":memory:". Throws Error(storage) on failure,
    /// Error(invalid_argument) for a path with a NUL byte.
    explicit SqliteStore(std::string path, SqliteOptions options = {});
    ~SqliteStore() override;
    SqliteStore(const SqliteStore&) = delete;
    SqliteStore& operator=(const SqliteStore&) = delete;

    int migrate() override;
    int schema_version() override;
    std::vector<InsertResult> insert(std::span<const NewJob> jobs) override;
    ClaimResult claim(const ClaimRequest& request) override;
    std::vector<LostLease> heartbeat(const HeartbeatRequest& request) override;
    std::vector<bool> complete(std::span<const Outcome> outcomes) override;
    /// True: one writer, so a worker's outcomes ride on its next claim (one commit, not two).
    bool completes_with_claims() const override { return true; }
    CompletedAndClaimed complete_and_claim(std::span<const Outcome> outcomes,
                                           const ClaimRequest& request) override;
    std::optional<Job> get(JobId id) override;
    JobPage list(const JobFilter& filter) override;
    std::vector<QueueStats> stats(Timestamp now) override;
    ChangeResult cancel(JobId id, Timestamp now) override;
    ChangeResult retry(JobId id, Timestamp now) override;
    ChangeResult remove(JobId id) override;
    std::int64_t replay_discarded(const JobFilter& filter, Timestamp now) override;
    std::vector<Job> expired_leases(Timestamp now, int limit) override;
    std::int64_t promote_due(Timestamp now) override;
    std::optional<Timestamp> next_run_at(std::span<const std::string> queues) override;
    std::int64_t prune(const PruneRequest& request) override;
    std::vector<ScheduleRecord> schedules() override;
    std::optional<ScheduleRecord> schedule(std::string_view name) override;
    bool add_schedule(const ScheduleRecord& record) override;
    bool update_schedule(const ScheduleRecord& record) override;
    bool remove_schedule(std::string_view name) override;
    ScheduleChange set_schedule_paused(const PauseRequest& request) override;
    ScheduleSync sync_declared_schedules(std::span<const ScheduleRecord> declared,
                                         Timestamp now) override;
    FireResult fire_schedule(const FireRequest& request) override;
    std::vector<ScheduleRun> schedule_runs(std::string_view name, int limit) override;
    std::vector<LimitRecord> limit_records() override;
    std::optional<LimitRecord> limit_record(const LimitScope& scope) override;
    LimitRecord set_limits(const LimitScope& scope, const FlowLimits& limits,
                           Timestamp now) override;
    bool remove_limits(const LimitScope& scope, Timestamp now) override;
    bool set_queue_paused(std::string_view queue, bool paused, Timestamp now) override;
    void record_worker(const WorkerRecord& worker) override;
    void remove_worker(std::string_view id) override;
    std::vector<WorkerRecord> workers(Timestamp now) override;
    std::optional<WaitFacts> wait_facts(JobId id, Timestamp now) override;
    std::vector<WaitGroup> wait_groups(Timestamp now) override;

    WorkflowInsert insert_workflow(const NewWorkflow& workflow) override;
    WorkflowInsert append_workflow(WorkflowId id, const NewWorkflow& workflow) override;
    std::optional<WorkflowRecord> workflow(WorkflowId id) override;
    WorkflowPage workflows(const WorkflowFilter& filter) override;
    std::optional<std::int64_t> cancel_workflow(WorkflowId id, Timestamp now) override;
    std::optional<std::int64_t> rerun_workflow(WorkflowId id, std::optional<JobId> job,
                                               Timestamp now) override;
    std::int64_t settle_workflows(Timestamp now, int limit) override;
    Notifier& notifier() override;

    /// Transactional enqueue: inserts on the caller's own connection to the same database
    /// file, inside whatever transaction the caller has open, so the job exists if and only
    /// if the caller commits. Validates first (throws Error, writes nothing on bad input).
    /// Idle in-process workers are woken at once and will see the job after the commit;
    /// other processes see it at their next poll.
    std::vector<InsertResult> enqueue_in(sqlite3* connection, std::span<const JobSpec> specs,
                                         const Clock& clock = system_clock());
    /// A workflow (WorkflowSpec) inserted on the caller's connection the same way: all of it
    /// if and only if the caller's transaction commits.
    WorkflowInsert enqueue_in(sqlite3* connection, const WorkflowSpec& spec,
                              const Clock& clock = system_clock());
    /// One-job form of enqueue_in.
    InsertResult enqueue_in(sqlite3* connection, const JobSpec& spec,
                            const Clock& clock = system_clock());

    /// The path the store was opened with.
    const std::string& path() const noexcept;
    /// Whether the store was opened read-only (asked for, or chosen by SqliteAccess::automatic);
    /// its writes throw Error(storage).
    bool read_only() const noexcept;

    /// The state behind the store; defined in the backend's sources only (helpers there
    /// take it by name).
    struct Impl;

  private:
    std::unique_ptr<Impl> impl_;
};

}  // namespace jobq
