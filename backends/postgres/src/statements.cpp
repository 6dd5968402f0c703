#include "statements.hpp"

#include <array>

#include "jobq/backend/job_columns.hpp"

namespace jobq::postgres_detail {

namespace {

// "id, kind, ..." -> "j.id, j.kind, ...": statements that join a batch to the table name
// their columns.
std::string qualified_columns(std::string_view prefix,
                              std::string_view cols = detail::job_columns) {
    std::string out;
    while (!cols.empty()) {
        const std::size_t comma = cols.find(',');
        std::string_view col = cols.substr(0, comma);
        while (!col.empty() && col.front() == ' ') col.remove_prefix(1);
        if (!out.empty()) out += ", ";
        out += prefix;
        out += col;
        if (comma == std::string_view::npos) break;
        cols.remove_prefix(comma + 1);
    }
    return out;
}

// Replaces every `marker` with the schema-qualified `table`.
std::string with_table(std::string sql, std::string_view marker, const std::string& table) {
    for (std::size_t at = sql.find(marker); at != std::string::npos; at = sql.find(marker, at)) {
        sql.replace(at, marker.size(), table);
        at += table.size();
    }
    return sql;
}

// limit_columns with the prefix `prefix` and `running` given as `running`.
std::string with_running(const std::string& prefix, const std::string& running) {
    std::string cols = qualified_columns(prefix, limit_columns);
    const std::string name = prefix + "running";
    cols.replace(cols.find(name), name.size(), running + " AS running");
    return cols;
}

// A limit row's running jobs as of the statement: its count less the releases not yet folded
// into it (sql/004_limit_releases.sql). `alias` names the row.
std::string pending_running(const std::string& alias) {
    return alias + ".running - coalesce((SELECT sum(d.n) FROM @D d WHERE d.scope = " + alias +
           ".scope AND d.name = " + alias + ".name), 0)";
}

// The CTEs that give `keys`' n (a CTE of scope, name, n) back to those limit rows that exist:
// one row each in @D (see sql/004_limit_releases.sql), no lock on the limit row. `freed`
// returns one row per row released, `was_full` when it was at its cap (someone may be waiting
// for the slot), read without a lock: a wake-up too many costs one claim. `gate` changes no
// row: it takes the limits table's ROW EXCLUSIVE lock before the statement's snapshot, so a
// set_limits (EXCLUSIVE), which counts running jobs and drops the releases, never sees a job
// counted and its release both, or neither.
std::string release_running(const std::string& keys) {
    return " gate AS (UPDATE @L SET running = running WHERE false RETURNING 1),"
           " rel AS MATERIALIZED (SELECT l.scope, l.name, k.n, l.max_running IS NOT NULL AND " +
           std::string(pending_running("l")) + " >= l.max_running AS was_full FROM @L l JOIN " +
           keys +
           " k ON l.scope = k.scope AND l.name = k.name),"
           " ins AS (INSERT INTO @D (scope, name, n) SELECT scope, name, n FROM rel),"
           " freed AS (SELECT was_full FROM rel)";
}

// The CTEs `avail`, `due` and `picked` (no trailing comma): for each queue of `demand` (a CTE
// of queue, lim), its most urgent `lim` jobs without a tenant among the available ones (an
// ordered walk of the partial claim index) and the due scheduled or retryable ones (few: the
// scheduler promotes them), each locked with SKIP LOCKED so concurrent claimers pass each
// other instead of queueing on row locks. $3 now.
std::string claimable(const std::string& demand) {
    auto walk = [&demand](const std::string& which) {
        return "(SELECT c.* FROM " + demand +
               " d CROSS JOIN LATERAL (SELECT id, priority, run_at, queue FROM @T WHERE " + which +
               " AND tenant IS NULL AND queue = d.queue ORDER BY priority, run_at, id"
               " LIMIT d.lim FOR UPDATE SKIP LOCKED) c)";
    };
    return " avail AS MATERIALIZED " + walk("state = 'available'") + ", due AS MATERIALIZED " +
           walk("state IN ('scheduled', 'retryable') AND run_at <= $3") +
           ", picked AS (SELECT y.id FROM (SELECT x.id, x.queue, row_number() OVER"
           " (PARTITION BY x.queue ORDER BY x.priority, x.run_at, x.id) AS rn"
           " FROM (SELECT * FROM avail UNION ALL SELECT * FROM due) x) y"
           " JOIN " +
           demand + " d ON d.queue = y.queue WHERE y.rn <= d.lim)";
}

// Starts the jobs of `picked` ($3 now, $4 worker, $5 lease); the caller appends RETURNING.
constexpr std::string_view start_picked =
    " UPDATE @T j SET state = 'running', attempt = j.attempt + 1, attempted_at = $3,"
    " worker_id = $4, lease_expires_at = $5 FROM picked WHERE j.id = picked.id";

// Whether a queue of `demand` (a CTE with a column queue) has a claimable job with a tenant
// (available, or scheduled or retryable and due by $3): such a queue needs the flow path.
std::string tenant_jobs_in(const std::string& demand) {
    return "EXISTS (SELECT 1 FROM " + demand +
           " d WHERE EXISTS (SELECT 1 FROM @T t WHERE t.state = 'available'"
           " AND t.tenant IS NOT NULL AND t.queue = d.queue)"
           " OR EXISTS (SELECT 1 FROM @T t WHERE t.state IN ('scheduled', 'retryable')"
           " AND t.run_at <= $3 AND t.tenant IS NOT NULL AND t.queue = d.queue))";
}

}  // namespace

std::string quote_identifier(std::string_view schema) {
    std::string out = "\"";
    for (const char c : schema) {
        if (c == '"') out += '"';
        out += c;
    }
    out += '"';
    return out;
}

const char* Statements::name(Sql id) {
    static constexpr std::array<const char*, sql_count> names{
        "jobq_insert_jobs",
        "jobq_unique_lock",
        "jobq_find_unique",
        "jobq_claim",
        "jobq_heartbeat",
        "jobq_heartbeat_lost",
        "jobq_complete",
        "jobq_get",
        "jobq_list",
        "jobq_stats",
        "jobq_cancel",
        "jobq_retry",
        "jobq_remove",
        "jobq_replay",
        "jobq_expired",
        "jobq_promote_due",
        "jobq_next_run_at",
        "jobq_prune",
        "jobq_schedule_list",
        "jobq_schedule_get",
        "jobq_schedule_add",
        "jobq_schedule_update",
        "jobq_schedule_remove",
        "jobq_schedule_pause",
        "jobq_schedule_resume",
        "jobq_schedule_fire",
        "jobq_schedule_runs_taken",
        "jobq_schedule_runs_insert",
        "jobq_schedule_runs_list",
        "jobq_schedule_runs_remove",
        "jobq_schedule_runs_prune",
        "jobq_schedules_sync_lock",
        "jobq_schedules_sync_insert",
        "jobq_schedules_sync_update",
        "jobq_schedules_sync_remove",
        "jobq_flow_scan",
        "jobq_flow_lock",
        "jobq_flow_candidates",
        "jobq_flow_start",
        "jobq_flow_unbound",
        "jobq_release_running",
        "jobq_quota_lock",
        "jobq_quota_count",
        "jobq_limit_list",
        "jobq_limit_get",
        "jobq_limit_prepare",
        "jobq_limit_upsert",
        "jobq_limit_remove",
        "jobq_queue_pause",
        "jobq_queue_resume",
        "jobq_worker_upsert",
        "jobq_worker_remove",
        "jobq_worker_list",
        "jobq_wait_limits",
        "jobq_wait_ahead",
        "jobq_wait_workers",
        "jobq_wait_groups",
        "jobq_wf_insert",
        "jobq_wf_insert_edges",
        "jobq_wf_get",
        "jobq_wf_lock",
        "jobq_wf_dependents",
        "jobq_wf_meet",
        "jobq_wf_meet_dependents",
        "jobq_wf_cancel_pending",
        "jobq_wf_upstream",
        "jobq_wf_open_left",
        "jobq_wf_discarded_any",
        "jobq_wf_state_counts",
        "jobq_wf_failed_ids",
        "jobq_wf_finish",
        "jobq_wf_set_callbacks",
        "jobq_wf_members",
        "jobq_wf_edges",
        "jobq_wf_rearm",
        "jobq_wf_reopen",
        "jobq_wf_cancel_all",
        "jobq_wf_due_deadlines",
        "jobq_wf_unsettled",
        "jobq_wf_prune_candidates",
        "jobq_wf_distinct_states",
        "jobq_wf_delete_whole",
        "jobq_job_delete_edges",
        "jobq_wf_list",
        "jobq_wf_jobs",
        "jobq_wf_discarded_of",
    };
    // A statement added to Sql without a name here would be registered as nullptr.
    static_assert(names.back() != nullptr, "every statement of Sql needs a name");
    return names[static_cast<std::size_t>(id)];
}

Statements::Statements(std::string_view schema) : channel_("jobq_" + std::string(schema)) {
    const std::string quoted = quote_identifier(schema);
    const std::string table = quoted + ".jobs";
    const std::string cols{detail::job_columns};
    const std::string jcols = qualified_columns("j.");
    auto at = [this](Sql id) -> std::string& {
        return texts_[static_cast<std::size_t>(id)];
    };

    // One row per job in 13 parallel arrays; returns the new ids. $14 the channel to NOTIFY
    // in the same transaction, or NULL for none: only enqueue_in, inside the caller's
    // transaction, needs that (see listener.hpp for why the store's own inserts do not).
    // Only jobs runnable now wake anyone, one NOTIFY per distinct queue. $15 the batch's
    // tenants (NULL: none): when one of them has a quota, nothing is inserted and no id
    // returned, and the caller takes the quota path (see job_insert.hpp).
    // $16..$18 a workflow's jobs' workflow_id, step and open_deps (NULL for plain jobs:
    // unnest pads a missing array with NULLs).
    at(Sql::insert_jobs) =
        "WITH ins AS (INSERT INTO @T (kind, queue, tenant, payload, priority, state,"
        " max_attempts, created_at, run_at, timeout_us, unique_key, tags, retry_policy,"
        " workflow_id, step, open_deps)"
        " SELECT u.kind, u.queue, u.tenant, u.payload, u.priority, u.state, u.max_attempts,"
        " u.created_at, u.run_at, u.timeout_us, u.unique_key, u.tags, u.retry_policy,"
        " u.workflow_id, u.step, coalesce(u.open_deps, 0)"
        " FROM unnest($1::text[], $2::text[], $3::text[], $4::jsonb[], $5::smallint[],"
        " $6::text[], $7::int[], $8::bigint[], $9::bigint[], $10::bigint[], $11::text[],"
        " $12::jsonb[], $13::jsonb[], $16::bigint[], $17::text[], $18::int[])"
        " AS u(kind, queue, tenant, payload, priority, state, max_attempts, created_at, run_at,"
        " timeout_us, unique_key, tags, retry_policy, workflow_id, step, open_deps)"
        " WHERE $15::text[] IS NULL OR NOT EXISTS (SELECT 1 FROM @L WHERE scope = 'tenant'"
        " AND name = ANY($15::text[]) AND max_queued IS NOT NULL)"
        " RETURNING id, queue, state),"
        " woken AS (SELECT pg_notify($14, d.queue) FROM"
        " (SELECT DISTINCT queue FROM ins WHERE state = 'available') d"
        " WHERE $14::text IS NOT NULL)"
        " SELECT ins.id FROM ins, (SELECT count(*) FROM woken) w";

    // Unique jobs: the lookup and the insert run under a transaction-scoped advisory lock on
    // (schema, key), so two processes enqueueing one key at once cannot both miss each other.
    // $1 schema, $2 key.
    at(Sql::unique_lock) = "SELECT pg_advisory_xact_lock(hashtext($1), hashtext($2))";
    // $1 key, $2 created since, $3 blocking states.
    at(Sql::find_unique) =
        "SELECT id FROM @T WHERE unique_key = $1 AND created_at >= $2"
        " AND state = ANY($3::text[]) ORDER BY id DESC LIMIT 1";

    // $1 queues, $2 limits, $3 now, $4 worker, $5 lease. For each queue, the most urgent
    // available jobs (an ordered walk of the partial claim index) and due scheduled or
    // retryable ones (few: the scheduler promotes them), each locked with SKIP LOCKED so
    // concurrent claimers pass each other instead of queueing on row locks; the best of both
    // per queue become running in the same statement.
    //
    // This is the plain claim, for jobs without a tenant while the store holds no limit row.
    // A queue is left out (claims nothing here; the caller takes the flow path, see
    // postgres_claim.cpp) when any limit row exists or the queue has a claimable tenant job. The
    // `gate` update changes no row: it takes the limits table's ROW EXCLUSIVE lock before the
    // statement's snapshot, so a set_limits (EXCLUSIVE) that creates a row either waits for
    // this claim to commit, and counts its jobs, or commits first, and this claim sees the row.
    at(Sql::claim) =
        "WITH demand AS (SELECT * FROM unnest($1::text[], $2::int[]) AS d(queue, lim)"
        " WHERE NOT EXISTS (SELECT 1 FROM @L)"
        " AND NOT EXISTS (SELECT 1 FROM @T t WHERE t.state = 'available'"
        " AND t.tenant IS NOT NULL AND t.queue = d.queue)"
        " AND NOT EXISTS (SELECT 1 FROM @T t WHERE t.state IN ('scheduled', 'retryable')"
        " AND t.run_at <= $3 AND t.tenant IS NOT NULL AND t.queue = d.queue)),"
        " gate AS (UPDATE @L SET running = running WHERE false RETURNING 1)," +
        claimable("demand") + std::string(start_picked) + " RETURNING " + jcols;

    // $1 ids, $2 attempts, $3 worker, $4 lease. Returns the jobs still held.
    at(Sql::heartbeat) =
        "UPDATE @T j SET lease_expires_at = $4"
        " FROM unnest($1::bigint[], $2::int[]) AS h(id, attempt)"
        " WHERE j.id = h.id AND j.attempt = h.attempt AND j.worker_id = $3"
        " AND j.state = 'running' RETURNING j.id";
    // $1 ids of jobs whose lease was not renewed: what lease_loss() needs to say why, one row
    // per id (state NULL: no such job).
    at(Sql::heartbeat_lost) =
        "SELECT h.id, j.state, j.attempt FROM unnest($1::bigint[]) AS h(id)"
        " LEFT JOIN @T j ON j.id = h.id";

    // One row per outcome: id, attempt, worker (the fence); lease expired by (NULL: not
    // required); new state; run_at (NULL: unchanged); finished_at; result; error entry
    // (NULL: none); attempts refunded. $11: also take the applied jobs off the running counts
    // of their limit rows (in the same statement, so a store without limits pays one
    // existence check for it; its update of the limits table takes that table's ROW EXCLUSIVE
    // lock before the snapshot, which keeps a row created meanwhile exact, as in Sql::claim).
    // Returns per applied outcome its ordinal, queue, kind and tenant, and how many of the
    // limit rows changed were at their cap.
    at(Sql::complete) =
        "WITH done AS (UPDATE @T j SET state = o.state, run_at = coalesce(o.run_at, j.run_at),"
        " finished_at = o.finished_at, lease_expires_at = NULL,"
        " result = CASE WHEN o.state = 'completed' THEN o.result ELSE j.result END,"
        " errors = CASE WHEN o.error IS NULL THEN j.errors"
        " ELSE j.errors || jsonb_build_array(o.error) END,"
        " max_attempts = j.max_attempts + o.refund"
        " FROM unnest($1::bigint[], $2::int[], $3::text[], $4::bigint[], $5::text[],"
        " $6::bigint[], $7::bigint[], $8::jsonb[], $9::jsonb[], $10::int[]) WITH ORDINALITY"
        " AS o(id, attempt, worker_id, expired_by, state, run_at, finished_at, result, error,"
        " refund, ord)"
        " WHERE j.id = o.id AND j.attempt = o.attempt AND j.worker_id = o.worker_id"
        " AND j.state = 'running' AND (o.expired_by IS NULL OR j.lease_expires_at <= o.expired_by)"
        " RETURNING o.ord, j.queue, j.kind, j.tenant),"
        " dec AS (SELECT k.scope, k.name, count(*) AS n FROM done d CROSS JOIN LATERAL"
        " (VALUES ('queue', d.queue), ('kind', d.kind), ('tenant', d.tenant)) AS k(scope, name)"
        " WHERE $11::boolean AND k.name IS NOT NULL AND EXISTS (SELECT 1 FROM @L)"
        " GROUP BY k.scope, k.name)," +
        release_running("dec") +
        " SELECT d.ord, d.queue, d.kind, d.tenant,"
        " (SELECT count(*) FROM freed WHERE was_full) FROM done d";

    at(Sql::get) = "SELECT " + cols + " FROM @T WHERE id = $1";

    // Operator actions: the job and whether the action applied (last column), in one
    // statement. The second branch reads the row as it was before the update (the same
    // snapshot), so "not in a state this applies to" still returns the job.
    auto change_one = [&](const std::string& change) {
        return "WITH u AS (" + change + " RETURNING " + cols +
               ") SELECT u.*, true FROM u UNION ALL SELECT " + cols +
               ", false FROM @T WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM u)";
    };
    // $1 id, $2 now. As change_one, with one more column before the last: whether the job
    // was running (its limit rows' running counts drop by one in the same statement). The job
    // row is locked before the limit rows, as complete() does.
    at(Sql::cancel) =
        "WITH prev AS MATERIALIZED (SELECT id, state FROM @T WHERE id = $1 FOR UPDATE),"
        " u AS (UPDATE @T j SET state = 'cancelled', finished_at = $2, lease_expires_at = NULL"
        " FROM prev WHERE j.id = prev.id"
        " AND prev.state NOT IN ('completed', 'cancelled', 'discarded')"
        " RETURNING " +
        jcols +
        ", prev.state = 'running' AS was_running),"
        " dec AS (SELECT k.scope, k.name, 1 AS n FROM u CROSS JOIN LATERAL"
        " (VALUES ('queue', u.queue), ('kind', u.kind), ('tenant', u.tenant)) AS k(scope, name)"
        " WHERE u.was_running AND k.name IS NOT NULL)," +
        release_running("dec") + " SELECT u.*, true FROM u UNION ALL SELECT " + cols +
        ", false, false FROM @T WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM u)";
    at(Sql::retry) = change_one(
        "UPDATE @T SET state = 'available', run_at = $2, finished_at = NULL,"
        " lease_expires_at = NULL, max_attempts = greatest(max_attempts, attempt + 1)"
        " WHERE id = $1 AND state NOT IN ('running', 'available')");
    // $1 id.
    at(Sql::remove) = change_one("DELETE FROM @T WHERE id = $1 AND state <> 'running'");

    // $1 queue, $2 kind, $3 tenant (NULL: any), $4 now, $5 channel. Returns how many.
    at(Sql::replay_discarded) =
        "WITH u AS (UPDATE @T SET state = 'available', run_at = $4, finished_at = NULL,"
        " lease_expires_at = NULL, max_attempts = greatest(max_attempts, attempt + 1)"
        " WHERE state = 'discarded' AND workflow_id IS NULL AND ($1::text IS NULL OR queue = $1)"
        " AND ($2::text IS NULL OR kind = $2) AND ($3::text IS NULL OR tenant = $3)"
        " RETURNING queue),"
        " woken AS (SELECT pg_notify($5, d.queue) FROM (SELECT DISTINCT queue FROM u) d)"
        " SELECT (SELECT count(*) FROM u), (SELECT count(*) FROM woken)";

    // $1 below this id, $2 states, $3 queue, $4 kind, $5 tenant (NULL: any), $6 limit, $7 tag,
    // $8 and $9 the finish window.
    at(Sql::list) = "SELECT " + cols +
                    " FROM @T WHERE id < $1"
                    " AND ($2::text[] IS NULL OR state = ANY($2::text[]))"
                    " AND ($3::text IS NULL OR queue = $3) AND ($4::text IS NULL OR kind = $4)"
                    " AND ($5::text IS NULL OR tenant = $5)"
                    " AND ($7::text IS NULL OR tags ? $7::text)"
                    " AND ($8::bigint IS NULL OR finished_at >= $8)"
                    " AND ($9::bigint IS NULL OR finished_at < $9)"
                    " ORDER BY id DESC LIMIT $6";
    // $1 now.
    at(Sql::stats) =
        "SELECT queue, state, count(*),"
        " min(CASE WHEN state = 'available'"
        " OR (state IN ('scheduled', 'retryable') AND run_at <= $1) THEN run_at END)"
        " FROM @T GROUP BY queue, state ORDER BY queue";
    // $1 now, $2 limit.
    at(Sql::expired_leases) = "SELECT " + cols +
                              " FROM @T WHERE state = 'running' AND lease_expires_at <= $1"
                              " ORDER BY lease_expires_at, id LIMIT $2";
    // $1 now, $2 channel. Rows another promoter or a claim holds are theirs to move.
    at(Sql::promote_due) =
        "WITH p AS (UPDATE @T SET state = 'available' WHERE id IN"
        " (SELECT id FROM @T WHERE state IN ('scheduled', 'retryable') AND run_at <= $1"
        " FOR UPDATE SKIP LOCKED) RETURNING queue),"
        " woken AS (SELECT pg_notify($2, d.queue) FROM (SELECT DISTINCT queue FROM p) d)"
        " SELECT (SELECT count(*) FROM p), (SELECT count(*) FROM woken)";
    // $1 queues (NULL: all).
    at(Sql::next_run_at) =
        "SELECT run_at FROM @T WHERE state IN ('scheduled', 'retryable')"
        " AND ($1::text[] IS NULL OR queue = ANY($1::text[])) ORDER BY run_at LIMIT 1";
    // $1 state, $2 cutoff, $3 limit. Returns how many.
    at(Sql::prune) =
        "WITH d AS (DELETE FROM @T WHERE id IN (SELECT id FROM @T WHERE state = $1"
        " AND finished_at < $2 AND workflow_id IS NULL LIMIT $3 FOR UPDATE SKIP LOCKED)"
        " RETURNING 1)"
        " SELECT count(*) FROM d";

    add_schedule_statements();
    add_flow_statements();
    add_workflow_statements();

    // @T the jobs, @S the schedules, @R the schedules' history, @L the limit rows, @D their
    // releases not yet folded in, @W the workers.
    for (std::string& t : texts_) {
        t = with_table(std::move(t), "@T", table);
        t = with_table(std::move(t), "@S", quoted + ".schedules");
        t = with_table(std::move(t), "@R", quoted + ".schedule_runs");
        t = with_table(std::move(t), "@L", quoted + ".limits");
        t = with_table(std::move(t), "@W", quoted + ".workers");
        t = with_table(std::move(t), "@D", quoted + ".limit_releases");
        t = with_table(std::move(t), "@F", quoted + ".workflows");
        t = with_table(std::move(t), "@E", quoted + ".job_deps");
    }
    lock_limits_ = "LOCK TABLE " + quoted + ".limits IN EXCLUSIVE MODE";
}

void Statements::add_schedule_statements() {
    const std::string cols{schedule_columns};
    const std::string run_cols{schedule_run_columns};
    auto at = [this](Sql id) -> std::string& {
        return texts_[static_cast<std::size_t>(id)];
    };
    // History entries of one schedule (the SQL expression `schedule`, over the FROM items in
    // `from`) in 7 parallel arrays from parameter `first` on: fire_at, outcome, job_id,
    // last_fire_at, count, reason, recorded_at. An entry whose window is in the history
    // already is left out.
    auto insert_runs = [&](int first, const std::string& schedule, const std::string& from) {
        std::string arrays;
        const char* types[] = {"bigint", "text", "bigint", "bigint", "bigint", "text", "bigint"};
        for (int i = 0; i < 7; ++i) {
            if (i > 0) arrays += ", ";
            arrays += "$" + std::to_string(first + i) + "::" + types[i] + "[]";
        }
        return "INSERT INTO @R (" + run_cols + ") SELECT " + schedule + ", r.* FROM " + from +
               "unnest(" + arrays + ") AS r ON CONFLICT (schedule, fire_at) DO NOTHING";
    };

    // Names sort byte by byte (the column's collation is "C"), as in SQLite.
    at(Sql::schedule_list) = "SELECT " + cols + " FROM @S ORDER BY name";
    // $1 name.
    at(Sql::schedule_get) = "SELECT " + cols + " FROM @S WHERE name = $1";
    // $1..$10 the columns in schedule_columns order.
    at(Sql::schedule_add) = "INSERT INTO @S (" + cols +
                            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
                            " ON CONFLICT (name) DO NOTHING";
    // $1 name, $2 expression, $3 zone, $4 job, $5 misfire, $6 declared, $7 updated_at.
    at(Sql::schedule_update) =
        "UPDATE @S SET expression = $2, zone = $3, job = $4, misfire = $5, declared = $6,"
        " updated_at = $7 WHERE name = $1";
    // $1 name. The history goes in a later statement (schedule_runs_remove), whose snapshot
    // includes the entries of a fire that held the row while this delete waited for it.
    at(Sql::schedule_remove) = "DELETE FROM @S WHERE name = $1";
    // $1 name, $2 now. Returns the schedule when it was running (and now is paused).
    at(Sql::schedule_pause) =
        "UPDATE @S SET paused = true, updated_at = $2"
        " WHERE name = $1 AND NOT paused RETURNING " +
        cols;
    // $1 name, $2 now, $3 cursor (NULL: unchanged), $4.. the history entry of the paused
    // windows (empty arrays: none), written only when this resume changed the schedule.
    // Returns the schedule when it was paused (and now runs).
    at(Sql::schedule_resume) =
        "WITH u AS (UPDATE @S SET paused = false, cursor = coalesce($3::bigint, cursor),"
        " updated_at = $2 WHERE name = $1 AND paused RETURNING " +
        cols + "), skipped AS (" + insert_runs(4, "u.name", "u, ") + ") SELECT * FROM u";

    // The exactly-once step: $1 name, $2 expected cursor, $3 new cursor. Under READ COMMITTED
    // a concurrent firer waits for this row's lock and then re-checks the moved cursor, so of
    // all firers holding one cursor exactly one updates a row; it holds the row lock until it
    // commits, which serialises every history write of the schedule.
    at(Sql::schedule_fire) =
        "UPDATE @S SET cursor = $3 WHERE name = $1 AND cursor = $2 AND NOT paused";
    // $1 name, $2 windows. Which of them the history has.
    at(Sql::schedule_runs_taken) =
        "SELECT fire_at FROM @R WHERE schedule = $1 AND fire_at = ANY($2::bigint[])";
    // $1 name, $2.. the entries.
    at(Sql::schedule_runs_insert) = insert_runs(2, "$1::text", "");
    // $1 name, $2 limit.
    at(Sql::schedule_runs_list) =
        "SELECT " + run_cols + " FROM @R WHERE schedule = $1 ORDER BY fire_at DESC LIMIT $2";
    // $1 names.
    at(Sql::schedule_runs_remove) = "DELETE FROM @R WHERE schedule = ANY($1::text[])";
    // $1 recorded before, $2 limit. Returns how many. By ctid: joined on the key instead,
    // the planner hashes the whole table (measured: 6x slower with 200k entries, and growing).
    at(Sql::schedule_runs_prune) =
        "WITH d AS (DELETE FROM @R WHERE ctid = ANY(ARRAY(SELECT ctid FROM @R"
        " WHERE recorded_at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED)) RETURNING 1)"
        " SELECT count(*) FROM d";

    // Syncs of one schema's declared schedules take turns (processes of a deploy start
    // together), so each compares against what the previous one wrote. $1 schema.
    at(Sql::schedules_sync_lock) =
        "SELECT pg_advisory_xact_lock(hashtext('jobq.schedules'), hashtext($1))";
    // $1..$9 arrays: name, expression, zone, job, misfire, paused, cursor, created_at,
    // updated_at. Returns the names that were new.
    at(Sql::schedules_sync_insert) =
        "INSERT INTO @S (" + cols +
        ") SELECT d.name, d.expression, d.zone, d.job, d.misfire, true, d.paused, d.cursor,"
        " d.created_at, d.updated_at FROM unnest($1::text[], $2::text[], $3::text[],"
        " $4::text[], $5::text[], $6::boolean[], $7::bigint[], $8::bigint[], $9::bigint[])"
        " AS d(name, expression, zone, job, misfire, paused, cursor, created_at, updated_at)"
        " ON CONFLICT (name) DO NOTHING RETURNING name";
    // $1..$5 arrays: name, expression, zone, job, misfire; $6 now. Only rows whose definition
    // differs (byte for byte) or that were added at run time are written. Returns their names.
    at(Sql::schedules_sync_update) =
        "UPDATE @S s SET expression = d.expression, zone = d.zone, job = d.job,"
        " misfire = d.misfire, declared = true, updated_at = $6"
        " FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[])"
        " AS d(name, expression, zone, job, misfire)"
        " WHERE s.name = d.name AND (s.expression <> d.expression OR s.zone <> d.zone"
        " OR s.job <> d.job OR s.misfire <> d.misfire OR NOT s.declared) RETURNING s.name";
    // $1 the declared names. Returns the names removed (their history goes separately, as
    // for schedule_remove).
    at(Sql::schedules_sync_remove) =
        "DELETE FROM @S WHERE declared AND name <> ALL($1::text[]) RETURNING name";
}

void Statements::add_flow_statements() {
    const std::string lcols{limit_columns};
    const std::string qlcols = qualified_columns("l.", limit_columns);
    // qlcols with `running` as of the statement, for reads (see pending_running).
    const std::string rlcols = with_running("l.", "(" + pending_running("l") + ")");
    const std::string wcols{worker_columns};
    auto at = [this](Sql id) -> std::string& {
        return texts_[static_cast<std::size_t>(id)];
    };
    // A skip-scan step over the tenant claim index: the first tenant of queue `queue` above
    // `above` (byte order), one index seek. Tenants compare as "C", as the index holds them.
    auto next_tenant = [](const std::string& queue, const std::string& above) {
        return "(SELECT j.tenant FROM @T j WHERE j.state = 'available' AND j.tenant IS NOT NULL"
               " AND j.queue = " +
               queue + (above.empty() ? "" : " AND j.tenant COLLATE \"C\" > " + above) +
               " ORDER BY j.tenant COLLATE \"C\" LIMIT 1)";
    };
    // limit_columns' types, all NULL: the columns of flow_scan's rows that are not a row.
    const std::string no_limit_row =
        "NULL::text, NULL::text, NULL::int, NULL::int, NULL::bigint, NULL::int, NULL::bigint,"
        " NULL::int, NULL::boolean, NULL::bigint, NULL::float8, NULL::bigint, NULL::bigint";
    const std::string limited =
        "(max_running IS NOT NULL OR rate_limit IS NOT NULL OR max_queued IS NOT NULL"
        " OR weight <> 1)";

    // What a claim under flow control looks at first, in one autocommit statement (no row
    // lock is held after it). $1 queues, $2 their rotation cursors (NULL: from the start),
    // $3 now, $4 max_tenants_per_claim. Due scheduled and retryable jobs of the queues become
    // available first (SKIP LOCKED, as promote_due). Rows, by `part`:
    //   'a' tenant:  the queue's tenants with available jobs after the cursor, by a skip-scan
    //                of the tenant claim index (at most $4 + 1: one more says there are more);
    //   'w' tenant:  when those were not more than $4, tenants from the start up to the
    //                cursor (the rotation wraps; at most $4 + 1);
    //   (what plan_tenant_visit, jobq/backend/tenant_rotation.hpp, asks a backend to find)
    //   'p':         the queue has available jobs without a tenant;
    //   'd' tenant:  tenants of the jobs just promoted (invisible to the scans above, which
    //                read the statement's snapshot; NULL: no tenant);
    //   'l':         the store holds a limit row;
    //   'q' + row:   a queue's limit row (limit_columns from column 3 on), unlocked: a queue
    //                that is paused, at its cap or out of tokens is left alone without
    //                taking any lock (a completion that frees its slot wakes it).
    // Promotion goes by id = ANY(ARRAY(...)): as a join, the generic plan hashes the table.
    // 'p' probes each queue with a scalar subquery and LIMIT 1, not EXISTS: the planner turns
    // EXISTS into a semi-join that, on a freshly filled table whose statistics say "empty",
    // hashed every available job of the claim index (16 ms for 20k jobs, on every claim).
    at(Sql::flow_scan) =
        "WITH RECURSIVE demand AS (SELECT * FROM unnest($1::text[], $2::text[]) AS d(queue, "
        "cursor)),"
        " promoted AS (UPDATE @T SET state = 'available' WHERE id = ANY(ARRAY(SELECT id FROM @T"
        " WHERE state IN ('scheduled', 'retryable') AND run_at <= $3 AND queue = ANY($1::text[])"
        " FOR UPDATE SKIP LOCKED)) RETURNING queue, tenant),"
        " after(queue, tenant, n) AS (SELECT d.queue, " +
        next_tenant("d.queue", "coalesce(d.cursor, '')") +
        ", 1 FROM demand d UNION ALL SELECT a.queue, " + next_tenant("a.queue", "a.tenant") +
        ", a.n + 1 FROM after a WHERE a.tenant IS NOT NULL AND a.n <= $4),"
        " wrap(queue, cursor, tenant, n) AS (SELECT d.queue, d.cursor, " +
        next_tenant("d.queue", "") +
        ", 1 FROM demand d WHERE d.cursor IS NOT NULL AND (SELECT count(*) FROM after a"
        " WHERE a.queue = d.queue AND a.tenant IS NOT NULL) <= $4"
        " UNION ALL SELECT w.queue, w.cursor, " +
        next_tenant("w.queue", "w.tenant") +
        ", w.n + 1 FROM wrap w WHERE w.tenant IS NOT NULL AND w.tenant COLLATE \"C\" < w.cursor"
        " AND w.n <= $4)"
        " SELECT s.*, " +
        no_limit_row +
        " FROM (SELECT 'a' AS part, queue, tenant FROM after WHERE tenant IS NOT NULL"
        " UNION ALL SELECT 'w', queue, tenant FROM wrap"
        " WHERE tenant IS NOT NULL AND tenant COLLATE \"C\" <= cursor"
        " UNION ALL SELECT 'p', d.queue, NULL FROM demand d WHERE (SELECT true FROM @T j"
        " WHERE j.state = 'available' AND j.tenant IS NULL AND j.queue = d.queue LIMIT 1)"
        " UNION ALL (SELECT DISTINCT 'd', queue, tenant FROM promoted)"
        " UNION ALL SELECT 'l', NULL, NULL WHERE EXISTS (SELECT 1 FROM @L)) s"
        " UNION ALL SELECT 'q', NULL, NULL, " +
        rlcols + " FROM @L l WHERE l.scope = 'queue' AND l.name = ANY($1::text[])";

    // The limit rows a flow claim reads, locked in (scope, name) order until it commits: so
    // claimers in every process take turns on them and each reads the counts the previous one
    // wrote. $1 the queues, $2 the tenants it will fetch from; every kind row. The releases
    // of these rows that completions left (sql/004_limit_releases.sql) are folded into their
    // running counts here. FOR UPDATE returns each row as its latest version (the snapshot may
    // be older, when the lock was waited for), so the counts come from `locked`; a release
    // another claimer folded meanwhile is gone for the DELETE, one committed after the
    // snapshot stays for the next claim.
    at(Sql::flow_lock) =
        "WITH locked AS MATERIALIZED (SELECT " + lcols +
        " FROM @L WHERE scope = 'kind'"
        " OR (scope = 'queue' AND name = ANY($1::text[]))"
        " OR (scope = 'tenant' AND name = ANY($2::text[]))"
        " ORDER BY scope, name FOR UPDATE),"
        " folded AS (DELETE FROM @D d USING locked k WHERE d.scope = k.scope AND d.name = k.name"
        " RETURNING d.scope, d.name, d.n),"
        " sums AS MATERIALIZED (SELECT scope, name, sum(n) AS n FROM folded GROUP BY scope, name),"
        " upd AS (UPDATE @L l SET running = greatest(0, l.running - s.n) FROM sums s"
        " WHERE l.scope = s.scope AND l.name = s.name)"
        " SELECT " +
        with_running("k.", "greatest(0, k.running - coalesce(s.n, 0))") +
        " FROM locked k LEFT JOIN sums s ON s.scope = k.scope AND s.name = k.name"
        " ORDER BY k.scope, k.name";

    // Candidates of a flow claim: for each (queue, tenant, limit) of $1, $2, $3 (tenant '': the
    // jobs without one) the first `limit` available jobs in claim order, locked with SKIP
    // LOCKED, leaving out the (queue, kind) pairs of $4, $5 (kinds at their cap). One ordered
    // walk of a claim index per tenant. Returns id, queue, kind, tenant, priority, run_at.
    auto candidates = [](const std::string& tenant_match) {
        return " (SELECT c.* FROM want w CROSS JOIN LATERAL (SELECT j.id, j.queue, j.kind,"
               " j.tenant, j.priority, j.run_at FROM @T j WHERE j.state = 'available'"
               " AND j.queue = w.queue AND " +
               tenant_match +
               " AND NOT EXISTS (SELECT 1 FROM blocked b WHERE b.queue = j.queue"
               " AND b.kind = j.kind)"
               " ORDER BY j.priority, j.run_at, j.id LIMIT w.lim FOR UPDATE OF j SKIP LOCKED) c)";
    };
    at(Sql::flow_candidates) =
        "WITH want AS (SELECT * FROM unnest($1::text[], $2::text[], $3::int[]) AS w(queue,"
        " tenant, lim)),"
        " blocked AS (SELECT * FROM unnest($4::text[], $5::text[]) AS b(queue, kind)),"
        " named AS MATERIALIZED" +
        candidates(
            "j.tenant IS NOT NULL AND j.tenant COLLATE \"C\" = w.tenant AND w.tenant <> ''") +
        ", plain AS MATERIALIZED" + candidates("j.tenant IS NULL AND w.tenant = ''") +
        " SELECT * FROM named UNION ALL SELECT * FROM plain";

    // The end of a flow claim: $1 the picked ids become running as in the plain claim ($2 now,
    // $3 worker, $4 lease); each limit row of $5 scope, $6 name (all locked by flow_lock) gets
    // $7 more running jobs and, unless NULL, the bucket $8 tokens at $9.
    at(Sql::flow_start) =
        "WITH lim AS (UPDATE @L l SET running = l.running + u.started,"
        " tokens = coalesce(u.tokens, l.tokens), tokens_at = coalesce(u.tokens_at, l.tokens_at)"
        " FROM unnest($5::text[], $6::text[], $7::bigint[], $8::float8[], $9::bigint[])"
        " AS u(scope, name, started, tokens, tokens_at)"
        " WHERE l.scope = u.scope AND l.name = u.name RETURNING 1)"
        " UPDATE @T j SET state = 'running', attempt = j.attempt + 1, attempted_at = $2,"
        " worker_id = $3, lease_expires_at = $4 FROM unnest($1::bigint[]) AS p(id)"
        " WHERE j.id = p.id RETURNING " +
        qualified_columns("j.");

    // A flow claim in one autocommit statement, for limits that do not bind (unbound_claim,
    // jobq/backend/claim_plan.hpp): the caller planned it from limit rows it read earlier and
    // passes their versions (xmin), and the statement starts the jobs only if the rows are
    // still those versions. A row only changes version when it is written (a claim, set_limits,
    // a pause), and what else happens meanwhile (completions leaving releases, time refilling
    // buckets) only adds room, so the plan still holds. Otherwise it starts nothing and returns
    // the rows as they are, to plan with again or to hand over to the full flow path.
    //
    // $1 queues, $2 limits, $3 now, $4 worker, $5 lease, as in Sql::claim; $6 scopes, $7 names,
    // $8 versions of the rows planned with (the queues' rows and every kind row); $9 scopes,
    // $10 names, $11 tokens, $12 tokens_at: the rate-limited rows' buckets refilled to now,
    // from which each started job under the row takes one token.
    //   1. `locked`: the queues' rows and every kind row, locked in (scope, name) order, as
    //      Sql::flow_lock does, so this takes its turn with the flow path's claims. Their
    //      running counts are returned as stored, releases not yet folded still counted as
    //      running: when the lock was waited for, the row is the newer version but the
    //      releases read with the older snapshot may be ones the claim waited for has just
    //      folded in, and taking them off again would let the next plan exceed a cap;
    //   2. `ok`: whether they are the planned versions (`fresh`), whether a queue has a
    //      claimable job with a tenant (the flow path's rotation handles those), whether the
    //      store holds any limit row;
    //   3. if fresh and no tenant job: start jobs as Sql::claim does, fold the rows' releases
    //      (as Sql::flow_lock) and add the started jobs to their queue's and kind's rows.
    // One row comes back per started job and per locked row, side by side (NULLs where one
    // side has run out), and at least one row: the job columns, limit_columns with the row's
    // version, then fresh, tenants, limits.
    at(Sql::flow_unbound) =
        "WITH demand AS (SELECT * FROM unnest($1::text[], $2::int[]) AS d(queue, lim)),"
        " locked AS MATERIALIZED (SELECT " +
        qlcols +
        ", l.xmin::text AS v FROM @L l WHERE l.scope = 'kind'"
        " OR (l.scope = 'queue' AND l.name = ANY($1::text[])) ORDER BY l.scope, l.name"
        " FOR UPDATE OF l),"
        " ok AS MATERIALIZED (SELECT NOT EXISTS (SELECT 1 FROM locked k FULL JOIN"
        " unnest($6::text[], $7::text[], $8::text[]) AS e(scope, name, v)"
        " ON e.scope = k.scope AND e.name = k.name WHERE k.v IS DISTINCT FROM e.v) AS fresh, " +
        tenant_jobs_in("demand") +
        " AS tenants, EXISTS (SELECT 1 FROM @L) AS limits),"
        " go AS (SELECT d.* FROM demand d, ok WHERE ok.fresh AND NOT ok.tenants)," +
        claimable("go") + ", started AS (" + std::string(start_picked) + " RETURNING " +
        qualified_columns("j.") +
        "),"
        " counts AS (SELECT 'queue' AS scope, queue AS name, count(*) AS n FROM started"
        " GROUP BY queue UNION ALL SELECT 'kind', kind, count(*) FROM started GROUP BY kind),"
        " folded AS (DELETE FROM @D r USING locked k, ok WHERE ok.fresh AND NOT ok.tenants"
        " AND r.scope = k.scope AND r.name = k.name RETURNING r.scope, r.name, r.n),"
        " freed AS (SELECT scope, name, sum(n) AS n FROM folded GROUP BY scope, name),"
        " buckets AS (SELECT * FROM unnest($9::text[], $10::text[], $11::float8[], $12::bigint[])"
        " AS b(scope, name, tokens, tokens_at)),"
        " lim AS (UPDATE @L l SET running = greatest(0, l.running - coalesce(f.n, 0))"
        " + coalesce(c.n, 0),"
        " tokens = CASE WHEN c.n IS NULL OR b.tokens IS NULL THEN l.tokens"
        " ELSE b.tokens - c.n END,"
        " tokens_at = CASE WHEN c.n IS NULL OR b.tokens IS NULL THEN l.tokens_at"
        " ELSE b.tokens_at END"
        " FROM locked k LEFT JOIN freed f ON f.scope = k.scope AND f.name = k.name"
        " LEFT JOIN counts c ON c.scope = k.scope AND c.name = k.name"
        " LEFT JOIN buckets b ON b.scope = k.scope AND b.name = k.name"
        " WHERE l.scope = k.scope AND l.name = k.name AND (f.n IS NOT NULL OR c.n IS NOT NULL)"
        " RETURNING " +
        qlcols +
        ", l.xmin::text AS v),"
        " rows AS (SELECT * FROM lim UNION ALL SELECT * FROM locked k WHERE NOT EXISTS"
        " (SELECT 1 FROM lim x WHERE x.scope = k.scope AND x.name = k.name))"
        " SELECT " +
        qualified_columns("s.") + ", " + qualified_columns("r.", limit_columns) +
        ", r.v, ok.fresh, ok.tenants, ok.limits FROM ok LEFT JOIN"
        " ((SELECT row_number() OVER () AS rn, * FROM started) s FULL JOIN"
        " (SELECT row_number() OVER () AS rn, * FROM rows) r ON s.rn = r.rn) ON true";

    // Takes one running job off the limit rows $1 scope, $2 name per element (repeats add
    // up). Returns how many of the rows changed were at their cap.
    at(Sql::release_running) =
        "WITH keys AS (SELECT scope, name, count(*) AS n FROM unnest($1::text[], $2::text[])"
        " AS k(scope, name) GROUP BY scope, name)," +
        release_running("keys") + " SELECT count(*) FROM freed WHERE was_full";

    // Quotas: $1 the batch's tenants, $2 the schema. The tenants with max_queued, each under a
    // transaction-scoped advisory lock taken in name order, so the enqueues of one tenant
    // count and insert one at a time. Not the row lock: a caller's transaction (enqueue_in)
    // may stay open long, and claims lock the tenant rows.
    at(Sql::quota_lock) =
        "SELECT q.name, q.max_queued,"
        " pg_advisory_xact_lock(hashtext('jobq.quota'), hashtext($2 || ':' || q.name))::text"
        " FROM (SELECT name, max_queued FROM @L WHERE scope = 'tenant'"
        " AND name = ANY($1::text[]) AND max_queued IS NOT NULL ORDER BY name OFFSET 0) q";
    // $1 tenants. Their queued jobs now (a statement after the lock: a fresh snapshot).
    at(Sql::quota_count) =
        "SELECT t.name, (SELECT count(*) FROM @T j WHERE j.tenant = t.name"
        " AND j.state IN ('pending', 'scheduled', 'available', 'retryable'))"
        " FROM unnest($1::text[]) AS t(name)";

    at(Sql::limit_list) = "SELECT " + rlcols + " FROM @L l";
    // $1 scope, $2 name.
    at(Sql::limit_get) = "SELECT " + rlcols + " FROM @L l WHERE l.scope = $1 AND l.name = $2";
    // $1 scope, $2 name: the scope's running jobs now, and its row (NULLs when none). Runs
    // under the limits table's EXCLUSIVE lock, so no claim, completion or cancel is between
    // its job update and its limit rows while the jobs are counted.
    at(Sql::limit_prepare) =
        "SELECT (SELECT count(*) FROM @T j WHERE j.state = 'running' AND CASE $1::text"
        " WHEN 'queue' THEN j.queue = $2 WHEN 'kind' THEN j.kind = $2 ELSE j.tenant = $2 END), " +
        qlcols + " FROM (SELECT 1) x LEFT JOIN @L l ON l.scope = $1 AND l.name = $2";
    // $1..$13 the columns of limit_columns. An existing row keeps its pause flag. $10 running
    // was counted afresh under the EXCLUSIVE lock: the row's releases are dropped with it.
    at(Sql::limit_upsert) =
        "WITH gone AS (DELETE FROM @D WHERE scope = $1 AND name = $2)"
        " INSERT INTO @L AS l (" +
        lcols +
        ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
        " ON CONFLICT (scope, name) DO UPDATE SET max_running = excluded.max_running,"
        " rate_limit = excluded.rate_limit, rate_period_us = excluded.rate_period_us,"
        " rate_burst = excluded.rate_burst, max_queued = excluded.max_queued,"
        " weight = excluded.weight, running = excluded.running, tokens = excluded.tokens,"
        " tokens_at = excluded.tokens_at, updated_at = excluded.updated_at RETURNING " +
        lcols;
    // $1 scope, $2 name, $3 now. Deletes the row, or clears the limits of a paused queue's
    // row. Returns how many rows it changed.
    at(Sql::limit_remove) =
        "WITH old AS MATERIALIZED (SELECT scope, name, paused, " + limited +
        " AS limited FROM @L WHERE scope = $1 AND name = $2 FOR UPDATE),"
        " del AS (DELETE FROM @L l USING old WHERE l.scope = old.scope AND l.name = old.name"
        " AND NOT old.paused RETURNING 1),"
        " upd AS (UPDATE @L l SET max_running = NULL, rate_limit = NULL, rate_period_us = NULL,"
        " rate_burst = NULL, max_queued = NULL, weight = 1, updated_at = $3 FROM old"
        " WHERE l.scope = old.scope AND l.name = old.name AND old.paused AND old.limited"
        " RETURNING 1)"
        " SELECT (SELECT count(*) FROM del) + (SELECT count(*) FROM upd)";
    // $1 queue, $2 now; under the EXCLUSIVE lock (a new row counts the running jobs). Returns
    // a row when it changed something.
    at(Sql::queue_pause) =
        "WITH gone AS (DELETE FROM @D WHERE scope = 'queue' AND name = $1"
        " AND NOT EXISTS (SELECT 1 FROM @L WHERE scope = 'queue' AND name = $1))"
        " INSERT INTO @L AS l (scope, name, paused, running, updated_at) VALUES ('queue', $1,"
        " true, (SELECT count(*) FROM @T WHERE state = 'running' AND queue = $1), $2)"
        " ON CONFLICT (scope, name) DO UPDATE SET paused = true, updated_at = $2"
        " WHERE NOT l.paused RETURNING 1";
    // $1 queue, $2 now. A paused row without limits goes; one with limits is unpaused.
    // Returns how many rows it changed.
    at(Sql::queue_resume) =
        "WITH old AS MATERIALIZED (SELECT scope, name, " + limited +
        " AS limited FROM @L WHERE scope = 'queue' AND name = $1 AND paused FOR UPDATE),"
        " del AS (DELETE FROM @L l USING old WHERE l.scope = old.scope AND l.name = old.name"
        " AND NOT old.limited RETURNING 1),"
        " upd AS (UPDATE @L l SET paused = false, updated_at = $2 FROM old"
        " WHERE l.scope = old.scope AND l.name = old.name AND old.limited RETURNING 1)"
        " SELECT (SELECT count(*) FROM del) + (SELECT count(*) FROM upd)";

    // $1..$5 the columns of worker_columns.
    at(Sql::worker_upsert) = "INSERT INTO @W (" + wcols +
                             ") VALUES ($1, $2::text[], $3, $4, $5)"
                             " ON CONFLICT (id) DO UPDATE SET queues = excluded.queues,"
                             " started_at = excluded.started_at, seen_at = excluded.seen_at,"
                             " expires_at = excluded.expires_at";
    // $1 id.
    at(Sql::worker_remove) = "DELETE FROM @W WHERE id = $1";
    // $1 now. Live workers by id; the expired ones are deleted.
    at(Sql::worker_list) = "WITH gone AS (DELETE FROM @W WHERE expires_at <= $1) SELECT " + wcols +
                           " FROM @W WHERE expires_at > $1 ORDER BY id";

    // $1 queue, $2 kind, $3 tenant (NULL: none). The rows of a job's scopes.
    at(Sql::wait_limits) = "SELECT " + rlcols +
                           " FROM @L l WHERE (l.scope = 'queue' AND l.name = $1)"
                           " OR (l.scope = 'kind' AND l.name = $2)"
                           " OR (l.scope = 'tenant' AND l.name = $3)";
    // $1 queue, $2 priority, $3 run_at, $4 id, $5 now: the jobs of the queue that a claim would
    // take before that place in claim order, in both claim indexes and among the due ones.
    const std::string before =
        " AND queue = $1 AND (priority, run_at, id) < ($2::smallint, $3, $4))";
    at(Sql::wait_ahead) =
        "SELECT (SELECT count(*) FROM @T WHERE state = 'available' AND tenant IS NULL" + before +
        " + (SELECT count(*) FROM @T WHERE state = 'available' AND tenant IS NOT NULL" + before +
        " + (SELECT count(*) FROM @T WHERE state IN ('scheduled', 'retryable') AND run_at <= $5" +
        before;
    // $1 queue, $2 now.
    at(Sql::wait_workers) =
        "SELECT " + wcols + " FROM @W WHERE expires_at > $2 AND $1 = ANY(queues) ORDER BY id";
    // $1 now. Waiting jobs per (queue, kind, tenant, state); due ones count as available.
    at(Sql::wait_groups) =
        "SELECT queue, kind, coalesce(tenant, ''), CASE WHEN state IN ('scheduled', 'retryable')"
        " AND run_at <= $1 THEN 'available' ELSE state END AS st, count(*) FROM @T"
        " WHERE state IN ('pending', 'scheduled', 'available', 'retryable')"
        " GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4";
}

}  // namespace jobq::postgres_detail
