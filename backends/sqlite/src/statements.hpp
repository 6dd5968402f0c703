#pragma once
// The SQL of the SQLite backend: every statement a connection caches, by name.

#include <cstddef>
#include <string_view>

namespace jobq::sqlite_detail {

/// Statements cached per connection. The writer uses the first group, the reader the second.
enum class Sql : std::size_t {
    // Transaction control.
    begin_immediate,
    commit,
    // Writer.
    find_unique,
    insert_job,
    promote_due,
    promote_due_queues,
    claim,
    heartbeat,
    heartbeat_lost,
    complete,
    cancel,
    retry,
    remove,
    get_for_update,
    replay_one,
    prune_one,
    schedule_insert,
    schedule_update,
    schedule_delete,
    schedule_delete_runs,
    schedule_pause,
    schedule_resume,
    schedule_get_for_update,
    schedule_declared_names,
    schedule_fire,
    schedule_run_exists,
    schedule_run_insert,
    prune_schedule_runs,
    // Writer, flow control (sql/003_flow.sql).
    any_limits,
    queue_has_tenant_jobs,
    queue_has_plain_jobs,
    next_tenant,
    candidates_plain,
    candidates_tenant,
    claim_picked,
    limit_started,
    job_scopes,
    limit_release,
    tenant_max_queued,
    tenant_queued,
    limit_get_for_update,
    limit_kinds,
    limit_write,
    limit_delete,
    count_running,
    worker_upsert,
    worker_delete,
    worker_expire,
    worker_list_live,
    // Workflows and batches (sql/004_workflows.sql); writer, except where the reader's
    // methods use them too.
    wf_insert,
    wf_insert_edge,
    wf_get,
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
    wf_running_jobs,
    wf_cancel_all,
    wf_due_deadlines,
    wf_unsettled,
    wf_prune_candidates,
    wf_distinct_states,
    wf_delete_edges,
    wf_delete_jobs,
    wf_delete,
    job_delete_edges,
    wf_list,
    wf_jobs,
    // Reader.
    get,
    list,
    stats,
    expired_leases,
    next_run_at,
    discarded_candidates,
    prune_candidates,
    schedule_list,
    schedule_get,
    schedule_runs,
    // Reader, flow control.
    limit_list,
    limit_get,
    wait_ahead,
    wait_workers,
    wait_groups,
    count_,
};

inline constexpr std::size_t sql_count = static_cast<std::size_t>(Sql::count_);

/// The text of a statement.
std::string_view sql_text(Sql id) noexcept;

}  // namespace jobq::sqlite_detail
