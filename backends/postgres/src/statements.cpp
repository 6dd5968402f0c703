#include "statements.hpp"

#include <array>

#include "jobq/detail/job_columns.hpp"

namespace jobq::postgres_detail {

namespace {

// "id, kind, ..." -> "j.id, j.kind, ...": statements that join a batch to the table name
// their columns.
std::string qualified_columns(std::string_view prefix) {
    std::string out;
    std::string_view cols = detail::job_columns;
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
    // Only jobs runnable now wake anyone, one NOTIFY per distinct queue.
    at(Sql::insert_jobs) =
        "WITH ins AS (INSERT INTO @T (kind, queue, tenant, payload, priority, state,"
        " max_attempts, created_at, run_at, timeout_us, unique_key, tags, retry_policy)"
        " SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::jsonb[], $5::smallint[],"
        " $6::text[], $7::int[], $8::bigint[], $9::bigint[], $10::bigint[], $11::text[],"
        " $12::jsonb[], $13::jsonb[])"
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
    at(Sql::claim) =
        "WITH demand AS (SELECT * FROM unnest($1::text[], $2::int[]) AS d(queue, lim)),"
        " avail AS MATERIALIZED (SELECT c.* FROM demand d CROSS JOIN LATERAL"
        " (SELECT id, priority, run_at, queue FROM @T WHERE state = 'available'"
        " AND queue = d.queue ORDER BY priority, run_at, id LIMIT d.lim"
        " FOR UPDATE SKIP LOCKED) c),"
        " due AS MATERIALIZED (SELECT c.* FROM demand d CROSS JOIN LATERAL"
        " (SELECT id, priority, run_at, queue FROM @T"
        " WHERE state IN ('scheduled', 'retryable') AND run_at <= $3 AND queue = d.queue"
        " ORDER BY priority, run_at, id LIMIT d.lim FOR UPDATE SKIP LOCKED) c),"
        " picked AS (SELECT y.id FROM (SELECT x.id, x.queue, row_number() OVER"
        " (PARTITION BY x.queue ORDER BY x.priority, x.run_at, x.id) AS rn"
        " FROM (SELECT * FROM avail UNION ALL SELECT * FROM due) x) y"
        " JOIN demand d ON d.queue = y.queue WHERE y.rn <= d.lim)"
        " UPDATE @T j SET state = 'running', attempt = j.attempt + 1, attempted_at = $3,"
        " worker_id = $4, lease_expires_at = $5 FROM picked WHERE j.id = picked.id"
        " RETURNING " +
        jcols;

    // $1 ids, $2 attempts, $3 worker, $4 lease. Returns the jobs still held.
    at(Sql::heartbeat) =
        "UPDATE @T j SET lease_expires_at = $4"
        " FROM unnest($1::bigint[], $2::int[]) AS h(id, attempt)"
        " WHERE j.id = h.id AND j.attempt = h.attempt AND j.worker_id = $3"
        " AND j.state = 'running' RETURNING j.id";

    // One row per outcome: id, attempt, worker (the fence); lease expired by (NULL: not
    // required); new state; run_at (NULL: unchanged); finished_at; result; error entry
    // (NULL: none); attempts refunded. Returns the ordinals of the outcomes that applied.
    at(Sql::complete) =
        "UPDATE @T j SET state = o.state, run_at = coalesce(o.run_at, j.run_at),"
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
        " RETURNING o.ord";

    at(Sql::get) = "SELECT " + cols + " FROM @T WHERE id = $1";

    // Operator actions: the job and whether the action applied (last column), in one
    // statement. The second branch reads the row as it was before the update (the same
    // snapshot), so "not in a state this applies to" still returns the job.
    auto change_one = [&](const std::string& change) {
        return "WITH u AS (" + change + " RETURNING " + cols +
               ") SELECT u.*, true FROM u UNION ALL SELECT " + cols +
               ", false FROM @T WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM u)";
    };
    // $1 id, $2 now.
    at(Sql::cancel) = change_one(
        "UPDATE @T SET state = 'cancelled', finished_at = $2, lease_expires_at = NULL"
        " WHERE id = $1 AND state NOT IN ('completed', 'cancelled', 'discarded')");
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
        " WHERE state = 'discarded' AND ($1::text IS NULL OR queue = $1)"
        " AND ($2::text IS NULL OR kind = $2) AND ($3::text IS NULL OR tenant = $3)"
        " RETURNING queue),"
        " woken AS (SELECT pg_notify($5, d.queue) FROM (SELECT DISTINCT queue FROM u) d)"
        " SELECT (SELECT count(*) FROM u), (SELECT count(*) FROM woken)";

    // $1 below this id, $2 states, $3 queue, $4 kind, $5 tenant (NULL: any), $6 limit.
    at(Sql::list) = "SELECT " + cols +
                    " FROM @T WHERE id < $1"
                    " AND ($2::text[] IS NULL OR state = ANY($2::text[]))"
                    " AND ($3::text IS NULL OR queue = $3) AND ($4::text IS NULL OR kind = $4)"
                    " AND ($5::text IS NULL OR tenant = $5)"
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
        " AND finished_at < $2 LIMIT $3 FOR UPDATE SKIP LOCKED) RETURNING 1)"
        " SELECT count(*) FROM d";

    add_schedule_statements();

    // @T the jobs, @S the schedules, @R the schedules' history.
    for (std::string& t : texts_) {
        t = with_table(std::move(t), "@T", table);
        t = with_table(std::move(t), "@S", quoted + ".schedules");
        t = with_table(std::move(t), "@R", quoted + ".schedule_runs");
    }
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

}  // namespace jobq::postgres_detail
