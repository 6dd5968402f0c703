#include "statements.hpp"

#include <array>
#include <string>

#include "job_row.hpp"
#include "limit_row.hpp"
#include "schedule_row.hpp"

namespace jobq::sqlite_detail {

namespace {

// SQLite uses a partial index only when the query's WHERE repeats the index's condition word
// for word (state = 'available' AND tenant IS NULL for jobq_jobs_claimable, state =
// 'available' AND tenant IS NOT NULL for jobq_jobs_claimable_tenant, state IN ('scheduled',
// 'retryable') for jobq_jobs_due, the state ORs of jobq_jobs_tenant_queued): keep these in step
// with sql/. Constant IN lists of three or more values are avoided: SQLite builds a temporary
// b-tree for each evaluation.

std::array<std::string, sql_count> build() {
    const std::string cols{job_columns};
    const std::string schedule_cols{schedule_columns};
    const std::string run_cols{schedule_run_columns};
    std::array<std::string, sql_count> s;
    auto at = [&s](Sql id) -> std::string& {
        return s[static_cast<std::size_t>(id)];
    };

    at(Sql::begin_immediate) = "BEGIN IMMEDIATE";
    at(Sql::commit) = "COMMIT";

    // ?1 key, ?2 created since, ?3 JSON array of blocking states.
    at(Sql::find_unique) =
        "SELECT id FROM jobq_jobs WHERE unique_key = ?1 AND created_at >= ?2"
        " AND state IN (SELECT value FROM json_each(?3)) ORDER BY id DESC LIMIT 1";
    at(Sql::insert_job) =
        "INSERT INTO jobq_jobs (kind, queue, tenant, payload, priority, state, max_attempts,"
        " created_at, run_at, timeout_us, unique_key, tags, retry_policy, workflow_id, step,"
        " open_deps)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)";

    at(Sql::promote_due) =
        "UPDATE jobq_jobs SET state = 'available'"
        " WHERE state IN ('scheduled', 'retryable') AND run_at <= ?1";
    at(Sql::promote_due_queues) = at(Sql::promote_due) + " RETURNING queue";

    // ?1 now, ?2 worker, ?3 lease, ?4 queue, ?5 limit. The inner SELECT walks the partial
    // index of available jobs in claim order, so its cost does not depend on the backlog.
    // The plain claim: only for jobs without a tenant (tenants take turns: the flow claim).
    at(Sql::claim) =
        "UPDATE jobq_jobs SET state = 'running', attempt = attempt + 1, attempted_at = ?1,"
        " worker_id = ?2, lease_expires_at = ?3"
        " WHERE id IN (SELECT id FROM jobq_jobs WHERE state = 'available' AND tenant IS NULL"
        " AND queue = ?4 ORDER BY priority, run_at, id LIMIT ?5)"
        " RETURNING " +
        cols;

    at(Sql::heartbeat) =
        "UPDATE jobq_jobs SET lease_expires_at = ?4"
        " WHERE id = ?1 AND attempt = ?2 AND worker_id = ?3 AND state = 'running'";
    // ?1 id of a job whose lease was not renewed: what lease_loss() needs to say why.
    at(Sql::heartbeat_lost) = "SELECT state, attempt FROM jobq_jobs WHERE id = ?1";

    // ?1 id, ?2 attempt, ?3 worker (the fence); ?4 lease expired by (NULL: not required);
    // ?5 new state, ?6 run_at (NULL: unchanged), ?7 finished_at, ?8 result, ?9 error entry
    // (NULL: none), ?10 attempts refunded.
    at(Sql::complete) =
        "UPDATE jobq_jobs SET state = ?5, run_at = coalesce(?6, run_at), finished_at = ?7,"
        " lease_expires_at = NULL,"
        " result = CASE WHEN ?5 = 'completed' THEN ?8 ELSE result END,"
        " errors = CASE WHEN ?9 IS NULL THEN errors"
        " ELSE json_insert(errors, '$[#]', json(?9)) END,"
        " max_attempts = max_attempts + ?10"
        " WHERE id = ?1 AND attempt = ?2 AND worker_id = ?3 AND state = 'running'"
        " AND (?4 IS NULL OR lease_expires_at <= ?4)";
    // ?1 a JSON array of ids: the scopes of the jobs whose outcomes applied, to give their
    // slots back. One lookup per batch after the UPDATEs rather than RETURNING on each:
    // RETURNING buffers its rows in a temporary table, opened and closed for every job.
    at(Sql::job_scopes) =
        "SELECT queue, kind, tenant FROM jobq_jobs"
        " WHERE id IN (SELECT value FROM json_each(?1))";

    at(Sql::cancel) =
        "UPDATE jobq_jobs SET state = 'cancelled', finished_at = ?2, lease_expires_at = NULL"
        " WHERE id = ?1 AND state <> 'completed' AND state <> 'cancelled'"
        " AND state <> 'discarded'"
        " RETURNING " +
        cols;
    at(Sql::retry) =
        "UPDATE jobq_jobs SET state = 'available', run_at = ?2, finished_at = NULL,"
        " lease_expires_at = NULL, max_attempts = max(max_attempts, attempt + 1)"
        " WHERE id = ?1 AND state NOT IN ('running', 'available')"
        " RETURNING " +
        cols;
    at(Sql::remove) =
        "DELETE FROM jobq_jobs WHERE id = ?1 AND state <> 'running' RETURNING " + cols;
    at(Sql::get_for_update) = "SELECT " + cols + " FROM jobq_jobs WHERE id = ?1";
    // ?1 now, ?2 queue, ?3 kind, ?4 tenant (NULL: any).
    // Replay and prune find their rows on the reader (a scan: see sql/001_initial.sql) and
    // change them here one by one, each guarded by the condition it was chosen for, in case
    // the job moved on in between. ?1 id, ?2 now.
    at(Sql::replay_one) =
        "UPDATE jobq_jobs SET state = 'available', run_at = ?2, finished_at = NULL,"
        " lease_expires_at = NULL, max_attempts = max(max_attempts, attempt + 1)"
        " WHERE id = ?1 AND state = 'discarded'"
        " RETURNING queue";
    // ?1 id, ?2 state, ?3 cutoff.
    at(Sql::prune_one) = "DELETE FROM jobq_jobs WHERE id = ?1 AND state = ?2 AND finished_at < ?3";

    at(Sql::get) = at(Sql::get_for_update);
    // ?1 below this id (always bound, so the rowid range drives the scan), ?2 JSON array of
    // states, ?3 queue, ?4 kind, ?5 tenant (NULL: any), ?6 limit, ?7 tag, ?8 and ?9 the finish
    // window.
    at(Sql::list) = "SELECT " + cols +
                    " FROM jobq_jobs WHERE id < ?1"
                    " AND (?2 IS NULL OR state IN (SELECT value FROM json_each(?2)))"
                    " AND (?3 IS NULL OR queue = ?3) AND (?4 IS NULL OR kind = ?4)"
                    " AND (?5 IS NULL OR tenant = ?5)"
                    " AND (?7 IS NULL OR EXISTS (SELECT 1 FROM json_each(tags) WHERE value = ?7))"
                    " AND (?8 IS NULL OR finished_at >= ?8) AND (?9 IS NULL OR finished_at < ?9)"
                    " ORDER BY id DESC LIMIT ?6";
    // ?1 now.
    at(Sql::stats) =
        "SELECT queue, state, count(*),"
        " min(CASE WHEN state = 'available'"
        " OR (state IN ('scheduled', 'retryable') AND run_at <= ?1) THEN run_at END)"
        " FROM jobq_jobs GROUP BY queue, state ORDER BY queue";
    at(Sql::expired_leases) = "SELECT " + cols +
                              " FROM jobq_jobs WHERE state = 'running' AND lease_expires_at <= ?1"
                              " ORDER BY lease_expires_at, id LIMIT ?2";
    // ?1 JSON array of queues (NULL: all).
    at(Sql::next_run_at) =
        "SELECT run_at FROM jobq_jobs WHERE state IN ('scheduled', 'retryable')"
        " AND (?1 IS NULL OR queue IN (SELECT value FROM json_each(?1)))"
        " ORDER BY run_at LIMIT 1";
    // ?1 queue, ?2 kind, ?3 tenant (NULL: any).
    at(Sql::discarded_candidates) =
        "SELECT id FROM jobq_jobs WHERE state = 'discarded'"
        " AND (?1 IS NULL OR queue = ?1) AND (?2 IS NULL OR kind = ?2)"
        " AND (?3 IS NULL OR tenant = ?3)";
    // ?1 state, ?2 cutoff, ?3 limit. Rowid order is close to finishing order, and without an
    // ORDER BY the scan stops at the limit.
    // Jobs of a workflow or batch are pruned with it, whole (Sql::wf_prune_candidates).
    at(Sql::prune_candidates) =
        "SELECT id FROM jobq_jobs WHERE state = ?1 AND finished_at < ?2"
        " AND workflow_id IS NULL LIMIT ?3";
    // ---- workflows and batches (sql/004_workflows.sql) ----
    // Unfinished states: 'available', and everything after 'discarded' (pending, retryable,
    // running, scheduled); the terminal states (cancelled, completed, discarded) sort between.
    // Where a workflow's jobs are searched, each half is one seek into the (workflow_id, state)
    // index (an OR of the two scans every job of the workflow; an IN list builds a b-tree).
    const std::string unfinished = "(state = 'available' OR state > 'discarded')";
    auto any_unfinished = [](const std::string& workflow) {
        return "(EXISTS (SELECT 1 FROM jobq_jobs WHERE workflow_id = " + workflow +
               " AND state > 'discarded') OR EXISTS (SELECT 1 FROM jobq_jobs WHERE"
               " workflow_id = " +
               workflow + " AND state = 'available'))";
    };
    const std::string wf_cols =
        "id, name, kind, state, tenant, deadline, created_at, finished_at, callbacks";
    // ?1 name, ?2 kind, ?3 tenant, ?4 deadline, ?5 created_at, ?6 callbacks.
    at(Sql::wf_insert) =
        "INSERT INTO jobq_workflows (name, kind, state, tenant, deadline, created_at, callbacks)"
        " VALUES (?1, ?2, 'running', ?3, ?4, ?5, ?6)";
    // ?1 job, ?2 dependency, ?3 ignore discarded, ?4 ignore cancelled.
    at(Sql::wf_insert_edge) =
        "INSERT INTO jobq_job_deps (job_id, dep_id, ignore_discarded, ignore_cancelled)"
        " VALUES (?1, ?2, ?3, ?4)";
    at(Sql::wf_get) = "SELECT " + wf_cols + " FROM jobq_workflows WHERE id = ?1";
    // ?1 an ended job: the jobs waiting for it (one seek into jobq_job_deps_dep).
    at(Sql::wf_dependents) =
        "SELECT d.dep_id, coalesce((SELECT step FROM jobq_jobs WHERE id = d.dep_id), ''),"
        " d.job_id, j.step, j.state, d.ignore_discarded, d.ignore_cancelled"
        " FROM jobq_job_deps d JOIN jobq_jobs j ON j.id = d.job_id WHERE d.dep_id = ?1";
    // ?1 a JSON array of [job, dependencies met] pairs, ?2 now. At none left open a job is
    // runnable.
    at(Sql::wf_meet) =
        "UPDATE jobq_jobs SET open_deps = open_deps - m.n,"
        " state = CASE WHEN open_deps - m.n > 0 THEN state"
        " WHEN run_at > ?2 THEN 'scheduled' ELSE 'available' END"
        " FROM (SELECT json_extract(value, '$[0]') AS id, json_extract(value, '$[1]') AS n"
        " FROM json_each(?1)) AS m"
        " WHERE jobq_jobs.id = m.id AND jobq_jobs.state = 'pending' RETURNING state, queue";
    // ?1 a JSON array of completed jobs, ?2 now: what waits for them, met (see
    // DependencyGraph::meet_dependents), one seek into jobq_job_deps_dep each.
    at(Sql::wf_meet_dependents) =
        "UPDATE jobq_jobs SET open_deps = open_deps - m.n,"
        " state = CASE WHEN open_deps - m.n > 0 THEN state"
        " WHEN run_at > ?2 THEN 'scheduled' ELSE 'available' END"
        " FROM (SELECT job_id AS id, count(*) AS n FROM jobq_job_deps"
        " WHERE dep_id IN (SELECT value FROM json_each(?1)) GROUP BY job_id) AS m"
        " WHERE jobq_jobs.id = m.id AND jobq_jobs.state = 'pending' RETURNING state, queue";
    // The error entry of a job cancelled by a workflow rule (as encode_error writes one):
    // ?2 now, ?3 message, ?4 kind.
    const std::string cancel_entry =
        "json_insert(errors, '$[#]', json_object('attempt', attempt, 'at', ?2, 'kind', ?4,"
        " 'message', ?3))";
    // ?1 job, ?2 now, ?3 message, ?4 kind.
    at(Sql::wf_cancel_pending) =
        "UPDATE jobq_jobs SET state = 'cancelled', finished_at = ?2, errors = " + cancel_entry +
        " WHERE id = ?1 AND state = 'pending'";
    // ?1 a JSON array of claimed jobs: their dependencies as they stand, one seek each.
    at(Sql::wf_upstream) =
        "SELECT d.job_id, j.step, j.id, j.state, j.result, json_extract(j.errors, '$[#-1].message')"
        " FROM jobq_job_deps d JOIN jobq_jobs j ON j.id = d.dep_id"
        " WHERE d.job_id IN (SELECT value FROM json_each(?1))";
    at(Sql::wf_open_left) = "SELECT 1 WHERE " + any_unfinished("?1");
    at(Sql::wf_discarded_any) =
        "SELECT 1 FROM jobq_jobs WHERE workflow_id = ?1 AND state = 'discarded' LIMIT 1";
    at(Sql::wf_state_counts) =
        "SELECT state, count(*) FROM jobq_jobs WHERE workflow_id = ?1 GROUP BY state";
    at(Sql::wf_failed_ids) =
        "SELECT id FROM jobq_jobs WHERE workflow_id = ?1"
        " AND (state = 'discarded' OR state = 'cancelled') ORDER BY id LIMIT 1000";
    // ?1 id, ?2 state, ?3 finished_at.
    at(Sql::wf_finish) =
        "UPDATE jobq_workflows SET state = ?2, finished_at = ?3 WHERE id = ?1"
        " AND state = 'running'";
    at(Sql::wf_set_callbacks) = "UPDATE jobq_workflows SET callbacks = ?2 WHERE id = ?1";
    at(Sql::wf_members) =
        "SELECT id, step, state, attempt, max_attempts FROM jobq_jobs WHERE workflow_id = ?1"
        " ORDER BY id";
    at(Sql::wf_edges) =
        "SELECT d.job_id, d.dep_id, d.ignore_discarded, d.ignore_cancelled"
        " FROM jobq_jobs j JOIN jobq_job_deps d ON d.job_id = j.id WHERE j.workflow_id = ?1"
        " ORDER BY d.job_id, d.dep_id";
    // ?1 job, ?2 state, ?3 open dependencies, ?4 now.
    at(Sql::wf_rearm) =
        "UPDATE jobq_jobs SET state = ?2, open_deps = ?3, run_at = ?4, finished_at = NULL,"
        " lease_expires_at = NULL, result = NULL,"
        " max_attempts = max(max_attempts, attempt + 1)"
        " WHERE id = ?1 AND (state = 'discarded' OR state = 'cancelled') RETURNING queue";
    at(Sql::wf_reopen) =
        "UPDATE jobq_workflows SET state = 'running', finished_at = NULL WHERE id = ?1";
    at(Sql::wf_running_jobs) =
        "SELECT id, queue, kind, tenant FROM jobq_jobs WHERE workflow_id = ?1"
        " AND state = 'running'";
    // ?1 workflow, ?2 now, ?3 message, ?4 kind.
    at(Sql::wf_cancel_all) =
        "UPDATE jobq_jobs SET state = 'cancelled', finished_at = ?2, lease_expires_at = NULL,"
        " errors = " +
        cancel_entry + " WHERE workflow_id = ?1 AND " + unfinished;
    // ?1 now, ?2 limit.
    at(Sql::wf_due_deadlines) =
        "SELECT id FROM jobq_workflows WHERE state = 'running' AND deadline <= ?1 LIMIT ?2";
    at(Sql::wf_unsettled) =
        "SELECT w.id FROM jobq_workflows w WHERE w.state = 'running'"
        " AND NOT " +
        any_unfinished("w.id") + " LIMIT ?1";
    // ?1 cutoff (the latest of the cutoffs given), ?2 limit.
    at(Sql::wf_prune_candidates) =
        "SELECT id, finished_at FROM jobq_workflows WHERE state <> 'running'"
        " AND finished_at < ?1 ORDER BY finished_at LIMIT ?2";
    at(Sql::wf_distinct_states) = "SELECT DISTINCT state FROM jobq_jobs WHERE workflow_id = ?1";
    at(Sql::wf_delete_edges) =
        "DELETE FROM jobq_job_deps WHERE job_id IN"
        " (SELECT id FROM jobq_jobs WHERE workflow_id = ?1)";
    at(Sql::wf_delete_jobs) = "DELETE FROM jobq_jobs WHERE workflow_id = ?1";
    at(Sql::wf_delete) = "DELETE FROM jobq_workflows WHERE id = ?1";
    at(Sql::job_delete_edges) = "DELETE FROM jobq_job_deps WHERE job_id = ?1";
    // ?1 below this id, ?2 state, ?3 kind, ?4 tenant (NULL: any), ?5 limit.
    at(Sql::wf_list) = "SELECT " + wf_cols +
                       " FROM jobq_workflows WHERE id < ?1 AND (?2 IS NULL OR state = ?2)"
                       " AND (?3 IS NULL OR kind = ?3) AND (?4 IS NULL OR tenant = ?4)"
                       " ORDER BY id DESC LIMIT ?5";
    at(Sql::wf_jobs) = "SELECT " + cols + " FROM jobq_jobs WHERE workflow_id = ?1 ORDER BY id";

    // ---- cron schedules (sql/002_schedules.sql) ----
    // ?1..?10 in schedule_columns order.
    at(Sql::schedule_insert) = "INSERT INTO jobq_schedules (" + schedule_cols +
                               ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
                               " ON CONFLICT (name) DO NOTHING";
    // ?1 name, ?2 expression, ?3 zone, ?4 job, ?5 misfire, ?6 declared, ?7 updated_at.
    at(Sql::schedule_update) =
        "UPDATE jobq_schedules SET expression = ?2, zone = ?3, job = ?4, misfire = ?5,"
        " declared = ?6, updated_at = ?7 WHERE name = ?1";
    at(Sql::schedule_delete) = "DELETE FROM jobq_schedules WHERE name = ?1";
    at(Sql::schedule_delete_runs) = "DELETE FROM jobq_schedule_runs WHERE schedule = ?1";
    // ?1 name, ?2 now. The state guard makes a repeated pause or resume a no-op that the
    // caller sees in sqlite3_changes().
    at(Sql::schedule_pause) =
        "UPDATE jobq_schedules SET paused = 1, updated_at = ?2 WHERE name = ?1 AND paused = 0";
    // ?1 name, ?2 now, ?3 cursor (NULL: unchanged).
    at(Sql::schedule_resume) =
        "UPDATE jobq_schedules SET paused = 0, cursor = coalesce(?3, cursor), updated_at = ?2"
        " WHERE name = ?1 AND paused = 1";
    at(Sql::schedule_get_for_update) =
        "SELECT " + schedule_cols + " FROM jobq_schedules WHERE name = ?1";
    at(Sql::schedule_declared_names) = "SELECT name FROM jobq_schedules WHERE declared = 1";
    // ?1 name, ?2 expected cursor, ?3 new cursor. The compare-and-set on the cursor is the
    // fence between schedulers: only one of them moves it from a given value.
    at(Sql::schedule_fire) =
        "UPDATE jobq_schedules SET cursor = ?3 WHERE name = ?1 AND cursor = ?2 AND paused = 0";
    // ?1 schedule, ?2 fire_at.
    at(Sql::schedule_run_exists) =
        "SELECT 1 FROM jobq_schedule_runs WHERE schedule = ?1 AND fire_at = ?2";
    // ?1..?8 in schedule_run_columns order. A window already recorded keeps its first entry.
    at(Sql::schedule_run_insert) = "INSERT INTO jobq_schedule_runs (" + run_cols +
                                   ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
                                   " ON CONFLICT (schedule, fire_at) DO NOTHING";
    // ?1 cutoff, ?2 limit. The subquery walks jobq_schedule_runs_recorded oldest first and
    // stops at the limit (DELETE ... LIMIT is a compile-time option not every SQLite build has).
    at(Sql::prune_schedule_runs) =
        "DELETE FROM jobq_schedule_runs WHERE (schedule, fire_at) IN"
        " (SELECT schedule, fire_at FROM jobq_schedule_runs WHERE recorded_at < ?1"
        " ORDER BY recorded_at LIMIT ?2)";

    // ---- flow control (sql/003_flow.sql) ----
    const std::string limit_cols{limit_columns};
    const std::string worker_cols{worker_columns};
    // Read once per claim and per completion batch: with no row at all, both take the plain
    // path of version 2.
    at(Sql::any_limits) = "SELECT 1 FROM jobq_limits LIMIT 1";
    // ?1 queue. One seek into each claimable index.
    at(Sql::queue_has_tenant_jobs) =
        "SELECT 1 FROM jobq_jobs WHERE state = 'available' AND tenant IS NOT NULL AND queue = ?1"
        " LIMIT 1";
    at(Sql::queue_has_plain_jobs) =
        "SELECT 1 FROM jobq_jobs WHERE state = 'available' AND tenant IS NULL AND queue = ?1"
        " LIMIT 1";
    // ?1 queue, ?2 above this tenant ('': from the first). A skip-scan step: one seek in the
    // tenant claimable index to the next tenant that has available jobs.
    at(Sql::next_tenant) =
        "SELECT tenant FROM jobq_jobs WHERE state = 'available' AND tenant IS NOT NULL"
        " AND queue = ?1 AND tenant > ?2 ORDER BY tenant LIMIT 1";
    // ?1 queue, ?2 JSON array of kinds to leave out (NULL: none), ?3 limit[, ?4 tenant]. The
    // columns a ClaimCandidate needs, in claim order, walking one claimable index.
    const std::string candidate_cols = "SELECT id, kind, priority, run_at FROM jobq_jobs";
    const std::string skip_kinds =
        " AND (?2 IS NULL OR kind NOT IN (SELECT value FROM json_each(?2)))"
        " ORDER BY priority, run_at, id LIMIT ?3";
    at(Sql::candidates_plain) = candidate_cols +
                                " WHERE state = 'available' AND tenant IS NULL AND queue = ?1" +
                                skip_kinds;
    at(Sql::candidates_tenant) =
        candidate_cols +
        " WHERE state = 'available' AND tenant IS NOT NULL AND queue = ?1 AND tenant = ?4" +
        skip_kinds;
    // ?1 now, ?2 worker, ?3 lease, ?4 JSON array of ids: the planned jobs start, as in the
    // plain claim, in one statement (one primary-key seek each).
    at(Sql::claim_picked) =
        "UPDATE jobq_jobs SET state = 'running', attempt = attempt + 1, attempted_at = ?1,"
        " worker_id = ?2, lease_expires_at = ?3"
        " WHERE id IN (SELECT value FROM json_each(?4)) AND state = 'available'"
        " RETURNING " +
        cols;
    // ?1 scope, ?2 name, ?3 jobs started, ?4 tokens and ?5 tokens_at (NULL: unchanged).
    at(Sql::limit_started) =
        "UPDATE jobq_limits SET running = running + ?3, tokens = coalesce(?4, tokens),"
        " tokens_at = coalesce(?5, tokens_at) WHERE scope = ?1 AND name = ?2";
    // ?1 scope, ?2 name, ?3 how many of its jobs stopped running (summed over a batch: one
    // statement per row, not per job). Never below 0, whatever a hand-edited row says.
    at(Sql::limit_release) =
        "UPDATE jobq_limits SET running = max(running - ?3, 0) WHERE scope = ?1 AND name = ?2";
    // ?1 tenant.
    at(Sql::tenant_max_queued) =
        "SELECT max_queued FROM jobq_limits WHERE scope = 'tenant' AND name = ?1"
        " AND max_queued IS NOT NULL";
    // ?1 tenant. Counted in the covering index jobq_jobs_tenant_queued.
    at(Sql::tenant_queued) =
        "SELECT count(*) FROM jobq_jobs WHERE tenant = ?1 AND tenant IS NOT NULL"
        " AND (state = 'pending' OR state = 'scheduled' OR state = 'available'"
        " OR state = 'retryable')";
    // ?1 scope, ?2 name.
    at(Sql::limit_get_for_update) =
        "SELECT " + limit_cols + " FROM jobq_limits WHERE scope = ?1 AND name = ?2";
    at(Sql::limit_kinds) =
        "SELECT " + limit_cols + " FROM jobq_limits WHERE scope = 'kind' ORDER BY name";
    // ?1..?13 in limit_columns order.
    at(Sql::limit_write) = "INSERT OR REPLACE INTO jobq_limits (" + limit_cols +
                           ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)";
    at(Sql::limit_delete) = "DELETE FROM jobq_limits WHERE scope = ?1 AND name = ?2";
    // ?1 scope, ?2 name. Reads the whole table: no index holds running jobs, since one would
    // cost every claim and completion (see sql/001_initial.sql); setting limits is rare.
    at(Sql::count_running) =
        "SELECT count(*) FROM jobq_jobs WHERE state = 'running'"
        " AND (CASE ?1 WHEN 'queue' THEN queue WHEN 'kind' THEN kind ELSE tenant END) = ?2";
    // ?1..?5 in worker_columns order.
    at(Sql::worker_upsert) =
        "INSERT OR REPLACE INTO jobq_workers (" + worker_cols + ") VALUES (?1, ?2, ?3, ?4, ?5)";
    at(Sql::worker_delete) = "DELETE FROM jobq_workers WHERE id = ?1";
    // ?1 now.
    at(Sql::worker_expire) = "DELETE FROM jobq_workers WHERE expires_at <= ?1";
    at(Sql::worker_list_live) =
        "SELECT " + worker_cols + " FROM jobq_workers WHERE expires_at > ?1 ORDER BY id";

    at(Sql::schedule_list) = "SELECT " + schedule_cols + " FROM jobq_schedules ORDER BY name";
    at(Sql::schedule_get) = at(Sql::schedule_get_for_update);
    // ?1 schedule, ?2 limit: the primary key walked backwards.
    at(Sql::schedule_runs) = "SELECT " + run_cols +
                             " FROM jobq_schedule_runs WHERE schedule = ?1"
                             " ORDER BY fire_at DESC LIMIT ?2";
    at(Sql::limit_list) = "SELECT " + limit_cols + " FROM jobq_limits";
    at(Sql::limit_get) = at(Sql::limit_get_for_update);
    // ?1 queue, ?2 priority, ?3 run_at, ?4 id, ?5 now: the jobs of the queue that a claim
    // would take before the given one, in each claimable index and among the due ones.
    const std::string before = " AND queue = ?1 AND (priority, run_at, id) < (?2, ?3, ?4))";
    at(Sql::wait_ahead) =
        "SELECT (SELECT count(*) FROM jobq_jobs WHERE state = 'available' AND tenant IS NULL" +
        before +
        " + (SELECT count(*) FROM jobq_jobs WHERE state = 'available' AND tenant IS NOT NULL" +
        before +
        " + (SELECT count(*) FROM jobq_jobs WHERE state IN ('scheduled', 'retryable')"
        " AND run_at <= ?5" +
        before;
    // ?1 now, ?2 queue.
    at(Sql::wait_workers) = "SELECT " + worker_cols +
                            " FROM jobq_workers WHERE expires_at > ?1"
                            " AND EXISTS (SELECT 1 FROM json_each(queues) WHERE value = ?2)"
                            " ORDER BY id";
    // ?1 now. One scan of the table, grouped; due jobs count as available.
    at(Sql::wait_groups) =
        "SELECT queue, kind, tenant, CASE WHEN (state = 'scheduled' OR state = 'retryable')"
        " AND run_at <= ?1 THEN 'available' ELSE state END AS waiting, count(*)"
        " FROM jobq_jobs WHERE state = 'pending' OR state = 'scheduled' OR state = 'available'"
        " OR state = 'retryable' GROUP BY queue, kind, tenant, waiting";
    return s;
}

}  // namespace

std::string_view sql_text(Sql id) noexcept {
    static const std::array<std::string, sql_count> texts = build();
    return texts[static_cast<std::size_t>(id)];
}

}  // namespace jobq::sqlite_detail
