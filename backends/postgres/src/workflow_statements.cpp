// The SQL of workflows and batches (sql/005_workflows.sql): @F the workflows, @E the
// dependency edges, @T the jobs. Statements that take several jobs take them as arrays and
// lock them in id order, so two transactions that touch the same jobs cannot deadlock on
// them.

#include "jobq/backend/job_columns.hpp"
#include "statements.hpp"

namespace jobq::postgres_detail {

void Statements::add_workflow_statements() {
    const std::string cols{detail::job_columns};
    const std::string wf_cols =
        "id, name, kind, state, tenant, deadline, created_at, finished_at, callbacks";
    auto at = [this](Sql id) -> std::string& {
        return texts_[static_cast<std::size_t>(id)];
    };
    const std::string unfinished =
        "state IN ('pending', 'scheduled', 'available', 'running', 'retryable')";
    // The error entry of a job cancelled by a workflow rule, as encode_error writes one.
    auto cancel_entry = [](const std::string& now, const std::string& kind,
                           const std::string& message) {
        return "j.errors || jsonb_build_array(jsonb_build_object('attempt', j.attempt, 'at', " +
               now + "::bigint, 'kind', " + kind + "::text, 'message', " + message + "::text))";
    };

    // $1 name, $2 kind, $3 tenant, $4 deadline, $5 created_at, $6 callbacks.
    at(Sql::wf_insert) =
        "INSERT INTO @F (name, kind, state, tenant, deadline, created_at, callbacks)"
        " VALUES ($1, $2, 'running', $3, $4, $5, $6::jsonb) RETURNING id";
    // $1 jobs, $2 dependencies, $3 ignore discarded, $4 ignore cancelled.
    at(Sql::wf_insert_edges) =
        "INSERT INTO @E (job_id, dep_id, ignore_discarded, ignore_cancelled)"
        " SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::boolean[], $4::boolean[])";
    at(Sql::wf_get) = "SELECT " + wf_cols + " FROM @F WHERE id = $1";
    // $1 workflow ids: locked in id order (see sql/005_workflows.sql).
    at(Sql::wf_lock) =
        "SELECT " + wf_cols + " FROM @F WHERE id = ANY($1::bigint[])" + " ORDER BY id FOR UPDATE";
    // $1 ended jobs: the jobs waiting for them (one seek each into job_deps_dep).
    at(Sql::wf_dependents) =
        "SELECT d.dep_id, coalesce(dj.step, ''), d.job_id, j.step, j.state,"
        " d.ignore_discarded, d.ignore_cancelled"
        " FROM @E d CROSS JOIN LATERAL (SELECT step, state FROM @T WHERE id = d.job_id"
        " OFFSET 0) j LEFT JOIN LATERAL (SELECT step FROM @T WHERE id = d.dep_id OFFSET 0) dj"
        " ON true WHERE d.dep_id = ANY($1::bigint[])";
    // $1 jobs, $2 dependencies met of each, $3 now. Under the row lock each decrement sees
    // the one before it, so exactly one transaction takes a job's count to 0 and releases it.
    at(Sql::wf_meet) =
        "WITH l AS MATERIALIZED (SELECT j.id, m.n FROM unnest($1::bigint[], $2::int[])"
        " AS m(id, n) JOIN @T j ON j.id = m.id ORDER BY j.id FOR UPDATE OF j)"
        " UPDATE @T j SET open_deps = j.open_deps - l.n,"
        " state = CASE WHEN j.open_deps - l.n > 0 THEN j.state"
        " WHEN j.run_at > $3 THEN 'scheduled' ELSE 'available' END"
        " FROM l WHERE j.id = l.id AND j.state = 'pending'"
        " RETURNING j.state, j.queue";
    // $1 completed jobs, $2 now: what waits for them, met (see
    // DependencyGraph::meet_dependents). The edges are looked up one seek per job (LATERAL:
    // a generic plan would guess a hash join over the whole table), counted, and applied as
    // wf_meet applies them, rows locked in id order.
    at(Sql::wf_meet_dependents) =
        "WITH d AS (SELECT x.job_id AS id, count(*)::int AS n FROM unnest($1::bigint[]) AS e(id)"
        " CROSS JOIN LATERAL (SELECT job_id FROM @E WHERE dep_id = e.id OFFSET 0) x"
        " GROUP BY x.job_id),"
        " l AS MATERIALIZED (SELECT j.id, d.n FROM d JOIN @T j ON j.id = d.id"
        " ORDER BY j.id FOR UPDATE OF j)"
        " UPDATE @T j SET open_deps = j.open_deps - l.n,"
        " state = CASE WHEN j.open_deps - l.n > 0 THEN j.state"
        " WHEN j.run_at > $2 THEN 'scheduled' ELSE 'available' END"
        " FROM l WHERE j.id = l.id AND j.state = 'pending'"
        " RETURNING j.state, j.queue";
    // $1 jobs, $2 their errors, $3 now, $4 error kind. Returns the jobs it cancelled.
    at(Sql::wf_cancel_pending) =
        "WITH l AS MATERIALIZED (SELECT j.id, c.message FROM unnest($1::bigint[], $2::text[])"
        " AS c(id, message) JOIN @T j ON j.id = c.id ORDER BY j.id FOR UPDATE OF j)"
        " UPDATE @T j SET state = 'cancelled', finished_at = $3,"
        " errors = " +
        cancel_entry("$3", "$4", "l.message") +
        " FROM l WHERE j.id = l.id AND j.state = 'pending' RETURNING j.id";
    // $1 claimed jobs: their dependencies as they stand.
    at(Sql::wf_upstream) =
        "SELECT d.job_id, j.step, j.id, j.state, j.result::text, j.errors->-1->>'message'"
        " FROM @E d CROSS JOIN LATERAL (SELECT id, step, state, result, errors FROM @T"
        " WHERE id = d.dep_id OFFSET 0) j WHERE d.job_id = ANY($1::bigint[])"
        " ORDER BY d.job_id, j.id";
    // $1 workflows: those of them with a job not finished, one index probe each. (As an
    // EXISTS, a generic plan may hash every unfinished workflow job of the table instead;
    // a LATERAL with LIMIT stays a probe. wf_unsettled likewise.)
    at(Sql::wf_open_left) =
        "SELECT w.id FROM unnest($1::bigint[]) AS w(id) CROSS JOIN LATERAL (SELECT 1 FROM @T"
        " WHERE workflow_id = w.id AND " +
        unfinished + " LIMIT 1) o";
    at(Sql::wf_discarded_any) =
        "SELECT 1 FROM @T WHERE workflow_id = $1 AND state = 'discarded' LIMIT 1";
    at(Sql::wf_state_counts) =
        "SELECT state, count(*) FROM @T WHERE workflow_id = $1 GROUP BY state";
    at(Sql::wf_failed_ids) =
        "SELECT id FROM @T WHERE workflow_id = $1 AND state IN ('discarded', 'cancelled')"
        " ORDER BY id LIMIT 1000";
    // $1 id, $2 state, $3 finished_at.
    at(Sql::wf_finish) =
        "UPDATE @F SET state = $2, finished_at = $3 WHERE id = $1 AND state = 'running'";
    at(Sql::wf_set_callbacks) = "UPDATE @F SET callbacks = $2::jsonb WHERE id = $1";
    at(Sql::wf_members) =
        "SELECT id, step, state, attempt, max_attempts FROM @T WHERE workflow_id = $1"
        " ORDER BY id";
    at(Sql::wf_edges) =
        "SELECT d.job_id, d.dep_id, d.ignore_discarded, d.ignore_cancelled"
        " FROM @T j JOIN @E d ON d.job_id = j.id WHERE j.workflow_id = $1"
        " ORDER BY d.job_id, d.dep_id";
    // $1 jobs, $2 states, $3 open dependencies, $4 now.
    at(Sql::wf_rearm) =
        "WITH r AS (SELECT * FROM unnest($1::bigint[], $2::text[], $3::int[])"
        " AS r(id, state, open_deps))"
        " UPDATE @T j SET state = r.state, open_deps = r.open_deps, run_at = $4,"
        " finished_at = NULL, lease_expires_at = NULL, result = NULL,"
        " max_attempts = greatest(j.max_attempts, j.attempt + 1)"
        " FROM r WHERE j.id = r.id AND j.state IN ('discarded', 'cancelled')"
        " RETURNING j.state, j.queue";
    at(Sql::wf_reopen) = "UPDATE @F SET state = 'running', finished_at = NULL WHERE id = $1";
    // $1 workflow, $2 now, $3 message, $4 kind. Each cancelled job, whether it was running,
    // and what a running one held.
    at(Sql::wf_cancel_all) =
        "WITH prev AS MATERIALIZED (SELECT id, state FROM @T WHERE workflow_id = $1 AND " +
        unfinished +
        " ORDER BY id FOR UPDATE)"
        " UPDATE @T j SET state = 'cancelled', finished_at = $2, lease_expires_at = NULL,"
        " errors = " +
        cancel_entry("$2", "$4", "$3") +
        " FROM prev WHERE j.id = prev.id"
        " RETURNING j.id, prev.state = 'running', j.queue, j.kind, j.tenant";
    // $1 now, $2 limit.
    at(Sql::wf_due_deadlines) =
        "SELECT id FROM @F WHERE state = 'running' AND deadline <= $1 ORDER BY deadline"
        " LIMIT $2";
    at(Sql::wf_unsettled) =
        "SELECT w.id FROM @F w LEFT JOIN LATERAL (SELECT 1 AS open FROM @T j"
        " WHERE j.workflow_id = w.id AND j." +
        unfinished +
        " LIMIT 1) o ON true"
        " WHERE w.state = 'running' AND o.open IS NULL LIMIT $1";
    // $1 the latest cutoff, $2 limit.
    at(Sql::wf_prune_candidates) =
        "SELECT id, finished_at FROM @F WHERE state <> 'running' AND finished_at < $1"
        " ORDER BY finished_at LIMIT $2";
    at(Sql::wf_distinct_states) = "SELECT DISTINCT state FROM @T WHERE workflow_id = $1";
    // $1 workflow: deleted whole while it is still finished. Returns the jobs deleted.
    at(Sql::wf_delete_whole) =
        "WITH w AS (DELETE FROM @F WHERE id = $1 AND state <> 'running' RETURNING id),"
        " e AS (DELETE FROM @E WHERE job_id IN (SELECT j.id FROM @T j, w"
        " WHERE j.workflow_id = w.id)),"
        " d AS (DELETE FROM @T j USING w WHERE j.workflow_id = w.id RETURNING 1)"
        " SELECT count(*) FROM d";
    at(Sql::job_delete_edges) = "DELETE FROM @E WHERE job_id = $1";
    // $1 below this id, $2 state, $3 kind, $4 tenant (NULL: any), $5 limit.
    at(Sql::wf_list) = "SELECT " + wf_cols +
                       " FROM @F WHERE id < $1 AND ($2::text IS NULL OR state = $2)"
                       " AND ($3::text IS NULL OR kind = $3) AND ($4::text IS NULL OR tenant = $4)"
                       " ORDER BY id DESC LIMIT $5";
    at(Sql::wf_jobs) = "SELECT " + cols + " FROM @T WHERE workflow_id = $1 ORDER BY id";
    // $1 queue, $2 kind, $3 tenant (NULL: any): discarded jobs of workflows, replayed by a
    // rerun each.
    at(Sql::wf_discarded_of) =
        "SELECT id, workflow_id FROM @T WHERE state = 'discarded' AND workflow_id IS NOT NULL"
        " AND ($1::text IS NULL OR queue = $1) AND ($2::text IS NULL OR kind = $2)"
        " AND ($3::text IS NULL OR tenant = $3) ORDER BY id";
}

}  // namespace jobq::postgres_detail
