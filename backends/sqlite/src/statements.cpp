#include "statements.hpp"

#include <array>
#include <string>

#include "job_row.hpp"
#include "schedule_row.hpp"

namespace jobq::sqlite_detail {

namespace {

// SQLite uses a partial index only when the query's WHERE repeats the index's condition word
// for word (state = 'available' for jobq_jobs_claimable, state IN ('scheduled', 'retryable')
// for jobq_jobs_due): keep these in step with sql/. Constant IN lists of three or more values
// are avoided: SQLite builds a temporary b-tree for each evaluation.

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
        " created_at, run_at, timeout_us, unique_key, tags, retry_policy)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)";

    at(Sql::promote_due) =
        "UPDATE jobq_jobs SET state = 'available'"
        " WHERE state IN ('scheduled', 'retryable') AND run_at <= ?1";
    at(Sql::promote_due_queues) = at(Sql::promote_due) + " RETURNING queue";

    // ?1 now, ?2 worker, ?3 lease, ?4 queue, ?5 limit. The inner SELECT walks the partial
    // index of available jobs in claim order, so its cost does not depend on the backlog.
    at(Sql::claim) =
        "UPDATE jobq_jobs SET state = 'running', attempt = attempt + 1, attempted_at = ?1,"
        " worker_id = ?2, lease_expires_at = ?3"
        " WHERE id IN (SELECT id FROM jobq_jobs WHERE state = 'available' AND queue = ?4"
        " ORDER BY priority, run_at, id LIMIT ?5)"
        " RETURNING " +
        cols;

    at(Sql::heartbeat) =
        "UPDATE jobq_jobs SET lease_expires_at = ?4"
        " WHERE id = ?1 AND attempt = ?2 AND worker_id = ?3 AND state = 'running'";

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
    // states, ?3 queue, ?4 kind, ?5 tenant (NULL: any), ?6 limit.
    at(Sql::list) = "SELECT " + cols +
                    " FROM jobq_jobs WHERE id < ?1"
                    " AND (?2 IS NULL OR state IN (SELECT value FROM json_each(?2)))"
                    " AND (?3 IS NULL OR queue = ?3) AND (?4 IS NULL OR kind = ?4)"
                    " AND (?5 IS NULL OR tenant = ?5)"
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
    at(Sql::prune_candidates) =
        "SELECT id FROM jobq_jobs WHERE state = ?1 AND finished_at < ?2 LIMIT ?3";
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

    at(Sql::schedule_list) = "SELECT " + schedule_cols + " FROM jobq_schedules ORDER BY name";
    at(Sql::schedule_get) = at(Sql::schedule_get_for_update);
    // ?1 schedule, ?2 limit: the primary key walked backwards.
    at(Sql::schedule_runs) = "SELECT " + run_cols +
                             " FROM jobq_schedule_runs WHERE schedule = ?1"
                             " ORDER BY fire_at DESC LIMIT ?2";
    return s;
}

}  // namespace

std::string_view sql_text(Sql id) noexcept {
    static const std::array<std::string, sql_count> texts = build();
    return texts[static_cast<std::size_t>(id)];
}

}  // namespace jobq::sqlite_detail
