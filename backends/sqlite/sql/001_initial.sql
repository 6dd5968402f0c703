-- jobq SQLite schema, version 1. Applied by migrate() inside one BEGIN IMMEDIATE transaction,
-- which also records the version in jobq_meta; this file holds no transaction control.
--
-- Tables carry a jobq_ prefix: with enqueue_in the jobs live in the application's own file.
-- Times are INTEGER microseconds since the Unix epoch. tags and errors are JSON arrays;
-- payload, result and retry_policy JSON text (result and retry_policy NULL when absent).

CREATE TABLE jobq_jobs (
    -- AUTOINCREMENT: an id is never handed out twice, even after the newest job was removed,
    -- so a stale (id, attempt, worker) fence or a cursor can never match a different job.
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    kind             TEXT    NOT NULL,
    queue            TEXT    NOT NULL,
    tenant           TEXT,
    payload          TEXT    NOT NULL,
    priority         INTEGER NOT NULL,
    -- Spelled as ORs, not "state IN (...)": SQLite evaluates a constant IN list of three or
    -- more values through a temporary b-tree each time, and this check runs on every insert
    -- and every state change (measured: half the claim+complete throughput).
    state            TEXT    NOT NULL CHECK (state = 'pending' OR state = 'scheduled'
                         OR state = 'available' OR state = 'running' OR state = 'retryable'
                         OR state = 'completed' OR state = 'cancelled' OR state = 'discarded'),
    attempt          INTEGER NOT NULL DEFAULT 0,
    max_attempts     INTEGER NOT NULL,
    created_at       INTEGER NOT NULL,
    run_at           INTEGER NOT NULL,
    attempted_at     INTEGER,
    finished_at      INTEGER,
    lease_expires_at INTEGER,
    worker_id        TEXT,
    timeout_us       INTEGER,
    unique_key       TEXT,
    tags             TEXT    NOT NULL DEFAULT '[]',
    errors           TEXT    NOT NULL DEFAULT '[]',
    result           TEXT,
    retry_policy     TEXT
);

-- Claims walk this in claim order (the rowid breaks ties), so a claim reads only the rows it
-- takes however long the backlog is. Partial: only available rows pay for it.
CREATE INDEX jobq_jobs_claimable ON jobq_jobs (queue, priority, run_at)
    WHERE state = 'available';

-- Due scheduled and retryable jobs, for promotion and next_run_at.
CREATE INDEX jobq_jobs_due ON jobq_jobs (run_at)
    WHERE state IN ('scheduled', 'retryable');

-- Deliberately absent: indexes on lease_expires_at (rescuer) and finished_at (pruner). Rows
-- enter and leave them on every claim and completion, which cost about 20% of claim+complete
-- throughput in measurement; the rescuer and pruner instead scan on the reader connection
-- (about 80 ms per million rows), so the writer never waits on them.

-- Unique-key lookups; jobs without a key are not in it.
CREATE INDEX jobq_jobs_unique ON jobq_jobs (unique_key)
    WHERE unique_key IS NOT NULL;
