#pragma once
// The SQL of the PostgreSQL backend, one prepared statement per store operation, with the
// store's schema written into each text. No statement here opens a transaction: each runs
// alone (autocommit, one round trip) unless the caller wraps several in one.

#include <cstddef>
#include <string>
#include <string_view>

namespace jobq::postgres_detail {

enum class Sql : std::size_t {
    insert_jobs,
    unique_lock,
    find_unique,
    claim,
    heartbeat,
    heartbeat_lost,
    complete,
    get,
    list,
    stats,
    cancel,
    retry,
    remove,
    replay_discarded,
    expired_leases,
    promote_due,
    next_run_at,
    prune,
    // cron schedules
    schedule_list,
    schedule_get,
    schedule_add,
    schedule_update,
    schedule_remove,
    schedule_pause,
    schedule_resume,
    schedule_fire,
    schedule_runs_taken,
    schedule_runs_insert,
    schedule_runs_list,
    schedule_runs_remove,
    schedule_runs_prune,
    schedules_sync_lock,
    schedules_sync_insert,
    schedules_sync_update,
    schedules_sync_remove,
    // flow control
    flow_scan,
    flow_lock,
    flow_candidates,
    flow_start,
    flow_unbound,
    release_running,
    quota_lock,
    quota_count,
    limit_list,
    limit_get,
    limit_prepare,
    limit_upsert,
    limit_remove,
    queue_pause,
    queue_resume,
    worker_upsert,
    worker_remove,
    worker_list,
    wait_limits,
    wait_ahead,
    wait_workers,
    wait_groups,
    // workflows and batches (workflow_statements.cpp)
    wf_insert,
    wf_insert_edges,
    wf_get,
    wf_lock,
    wf_dependents,
    wf_meet,
    wf_meet_dependents,
    wf_cancel_pending,
    wf_upstream,
    wf_open_left,
    wf_discarded_any,
    wf_state_counts,
    wf_failed_ids,
    wf_finish,
    wf_set_callbacks,
    wf_members,
    wf_edges,
    wf_rearm,
    wf_reopen,
    wf_cancel_all,
    wf_due_deadlines,
    wf_unsettled,
    wf_prune_candidates,
    wf_distinct_states,
    wf_delete_whole,
    job_delete_edges,
    wf_list,
    wf_jobs,
    wf_discarded_of,
    count_,  // not a statement
};

inline constexpr std::size_t sql_count = static_cast<std::size_t>(Sql::count_);

/// Every column of a schedule, in the order the schedule statements return them.
inline constexpr std::string_view schedule_columns =
    "name, expression, zone, job, misfire, declared, paused, cursor, created_at, updated_at";

/// Every column of a history entry, in the order the history statements return them.
inline constexpr std::string_view schedule_run_columns =
    "schedule, fire_at, outcome, job_id, last_fire_at, count, reason, recorded_at";

/// Every column of a limit row, in the order the flow statements return them.
inline constexpr std::string_view limit_columns =
    "scope, name, max_running, rate_limit, rate_period_us, rate_burst, max_queued, weight, "
    "paused, running, tokens, tokens_at, updated_at";

/// Every column of a worker record, in the order the worker statements return them.
inline constexpr std::string_view worker_columns = "id, queues, started_at, seen_at, expires_at";

/// The texts of every statement for one schema.
class Statements {
  public:
    explicit Statements(std::string_view schema);

    const std::string& text(Sql id) const { return texts_[static_cast<std::size_t>(id)]; }
    /// The prepared-statement name of `id` (the same on every connection).
    static const char* name(Sql id);

    /// The NOTIFY channel of the schema's queues; the payload is the queue name ("" = all), or
    /// "cancel <id>" for a cancelled job.
    const std::string& channel() const { return channel_; }

    /// LOCK TABLE of the limits table (a utility statement: not prepared). See set_limits.
    const std::string& lock_limits() const { return lock_limits_; }

  private:
    void add_schedule_statements();
    void add_flow_statements();
    void add_workflow_statements();

    std::string texts_[sql_count];
    std::string channel_;
    std::string lock_limits_;
};

/// `schema` as a quoted SQL identifier.
std::string quote_identifier(std::string_view schema);

}  // namespace jobq::postgres_detail
