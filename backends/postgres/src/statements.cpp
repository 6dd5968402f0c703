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

// Replaces every "@T" with the schema-qualified jobs table.
std::string with_table(std::string sql, const std::string& table) {
    for (std::size_t at = sql.find("@T"); at != std::string::npos; at = sql.find("@T", at)) {
        sql.replace(at, 2, table);
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
        "jobq_insert_jobs", "jobq_unique_lock", "jobq_find_unique", "jobq_claim",
        "jobq_heartbeat",   "jobq_complete",    "jobq_get",         "jobq_list",
        "jobq_stats",       "jobq_cancel",      "jobq_retry",       "jobq_remove",
        "jobq_replay",      "jobq_expired",     "jobq_promote_due", "jobq_next_run_at",
        "jobq_prune",
    };
    return names[static_cast<std::size_t>(id)];
}

Statements::Statements(std::string_view schema) : channel_("jobq_" + std::string(schema)) {
    const std::string table = quote_identifier(schema) + ".jobs";
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

    for (std::string& t : texts_) t = with_table(std::move(t), table);
}

}  // namespace jobq::postgres_detail
