#pragma once
// PostgresStore: the server backend — many worker processes on many hosts against one
// PostgreSQL database, claims with FOR UPDATE SKIP LOCKED, wake-ups with LISTEN/NOTIFY.

#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "jobq/backend/store.hpp"
#include "jobq/clock.hpp"
#include "jobq/job_spec.hpp"

namespace pqxx {
class transaction_base;
}

namespace jobq {

/// Settings of a PostgresStore.
struct PostgresOptions {
    /// The schema that holds jobq's tables; created by migrate(). Several independent jobq
    /// installations can share one database under different schemas. A plain lower-case SQL
    /// identifier: [a-z_][a-z0-9_]*, at most 63 characters.
    std::string schema = "jobq";
    /// Connections for store calls, opened on demand and reopened after a loss. The LISTEN
    /// connection of notifier() is one more, opened on the first subscription.
    int pool_size = 4;
    /// How long opening a connection may take before the call fails as `unavailable`.
    std::chrono::milliseconds connect_timeout{5000};
    /// Run migrate() in the constructor.
    bool migrate = false;
    /// VACUUM the jobs table after this many jobs were claimed through this store (on a
    /// connection and thread of its own; one process at a time), so claims stay fast while a
    /// large backlog drains; autovacuum alone comes too rarely. 0: leave it to autovacuum.
    std::int64_t vacuum_after_claims = 20000;
};

/// Store on a PostgreSQL database. Thread-safe: each call borrows one connection of the pool.
///
/// Connection loss: a call whose connection breaks throws Error(unavailable) and the
/// connection is dropped; the next call opens a new one. The Worker and Scheduler retry with
/// backoff, and every outcome is fenced by (id, attempt, worker), so an outcome whose commit
/// was in doubt may be sent again without being applied twice.
class PostgresStore final : public Store {
  public:
    /// `conninfo` is a libpq connection string: a URL (postgresql://user@host:port/db?...) or
    /// key=value pairs. Connects lazily; throws Error(invalid_argument) on bad options.
    explicit PostgresStore(std::string conninfo, PostgresOptions options = {});
    ~PostgresStore() override;
    PostgresStore(const PostgresStore&) = delete;
    PostgresStore& operator=(const PostgresStore&) = delete;

    /// Creates or upgrades the schema under an advisory lock, so any number of processes may
    /// call it at once: one applies each migration, the others wait and find it done.
    int migrate() override;
    int schema_version() override;
    std::vector<InsertResult> insert(std::span<const NewJob> jobs) override;
    ClaimResult claim(const ClaimRequest& request) override;
    std::vector<LostLease> heartbeat(const HeartbeatRequest& request) override;
    std::vector<bool> complete(std::span<const Outcome> outcomes) override;
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
    /// LISTEN/NOTIFY: wakes subscribers in every process connected to this schema.
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

    /// Transactional enqueue: inserts inside the caller's own open transaction (any
    /// connection to the same database), so the job exists if and only if that transaction
    /// commits; the wake-up NOTIFY is sent by the same commit. Validates first (throws Error,
    /// writes nothing on bad input).
    std::vector<InsertResult> enqueue_in(pqxx::transaction_base& tx, std::span<const JobSpec> specs,
                                         const Clock& clock = system_clock());
    /// A workflow (WorkflowSpec) inserted in the caller's transaction the same way: all of it
    /// if and only if the caller commits. A refused workflow leaves the transaction usable.
    WorkflowInsert enqueue_in(pqxx::transaction_base& tx, const WorkflowSpec& spec,
                              const Clock& clock = system_clock());
    /// One-job form of enqueue_in.
    InsertResult enqueue_in(pqxx::transaction_base& tx, const JobSpec& spec,
                            const Clock& clock = system_clock());

    /// The schema the store works in.
    const std::string& schema() const noexcept;

    /// How this store's claims went so far, by path: the plain claim (no limit row in the
    /// store), the one-statement claim under limits that do not bind, and the flow path (limits
    /// that bind, tenants taking turns). Claims that found nothing count too, and a plain claim
    /// that came up short and went on to the flow path counts in both. For tests and
    /// diagnostics.
    struct ClaimPaths {
        std::uint64_t plain = 0;
        std::uint64_t unbound = 0;
        std::uint64_t flow = 0;
    };
    ClaimPaths claim_paths() const noexcept;

    /// The state behind the store; defined in the backend's sources only (helpers there
    /// take it by name).
    struct Impl;

  private:
    std::unique_ptr<Impl> impl_;
};

}  // namespace jobq
