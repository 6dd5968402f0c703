-- jobq SQLite schema, version 4: workflows and batches. Applied by migrate() like
-- 001_initial.sql, in the same transaction as any earlier version still missing.
--
-- Times are INTEGER microseconds since the Unix epoch.

-- One row per workflow or batch. state is 'running' until every job has finished, then how it
-- ended (workflow_record.hpp). callbacks: a batch's callbacks as a JSON array of
-- {"on", "job", "fired_job"}, fired_job set (once) when the callback job is enqueued.
CREATE TABLE jobq_workflows (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT    NOT NULL,
    kind        TEXT    NOT NULL CHECK (kind = 'workflow' OR kind = 'batch'),
    state       TEXT    NOT NULL CHECK (state = 'running' OR state = 'completed'
                    OR state = 'failed' OR state = 'cancelled'),
    tenant      TEXT,
    deadline    INTEGER,
    created_at  INTEGER NOT NULL,
    finished_at INTEGER,
    callbacks   TEXT    NOT NULL DEFAULT '[]'
);

-- Maintenance finds running workflows (settling, deadlines) without reading finished ones.
CREATE INDEX jobq_workflows_running ON jobq_workflows (deadline) WHERE state = 'running';

-- A job's workflow, its name there, and how many of its dependencies are still open: the
-- transaction that ends a dependency counts it off, and the one that reaches 0 releases the
-- job. NULL workflow_id: a plain job, which no workflow statement reads.
ALTER TABLE jobq_jobs ADD COLUMN workflow_id INTEGER;
ALTER TABLE jobq_jobs ADD COLUMN step TEXT;
ALTER TABLE jobq_jobs ADD COLUMN open_deps INTEGER NOT NULL DEFAULT 0;

-- A workflow's jobs, and which of them have not finished (settling asks "any left?" with one
-- seek). Plain jobs are not in it.
CREATE INDEX jobq_jobs_workflow ON jobq_jobs (workflow_id, state) WHERE workflow_id IS NOT NULL;

-- The dependency edges: job_id waits for dep_id, with the waiting job's policies (1 = ignore).
-- Keyed by the waiting job, indexed by the dependency: a dependency's end finds its dependents
-- with one seek, and a job's dependencies are one range.
CREATE TABLE jobq_job_deps (
    job_id           INTEGER NOT NULL,
    dep_id           INTEGER NOT NULL,
    ignore_discarded INTEGER NOT NULL DEFAULT 0,
    ignore_cancelled INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (job_id, dep_id)
) WITHOUT ROWID;
CREATE INDEX jobq_job_deps_dep ON jobq_job_deps (dep_id, job_id);
