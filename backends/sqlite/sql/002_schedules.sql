-- jobq SQLite schema, version 2: cron schedules and the history of their windows. Applied by
-- migrate() like 001_initial.sql, in the same transaction as any earlier version still missing.
--
-- job and misfire are JSON text the core writes and reads; the backend never parses them, and
-- TEXT keeps them byte for byte. Times are INTEGER microseconds since the Unix epoch.

-- A rowid table, not WITHOUT ROWID: each row carries a job template of any size, and a
-- schedule table holds tens of rows, so the clustered primary key would buy nothing.
CREATE TABLE jobq_schedules (
    name       TEXT    NOT NULL PRIMARY KEY,
    expression TEXT    NOT NULL,
    zone       TEXT    NOT NULL,
    job        TEXT    NOT NULL,
    misfire    TEXT    NOT NULL,
    declared   INTEGER NOT NULL CHECK (declared = 0 OR declared = 1),
    paused     INTEGER NOT NULL CHECK (paused = 0 OR paused = 1),
    -- The newest window handled; fire_schedule moves it only from the value the firing
    -- scheduler read, which is what keeps two schedulers from both firing a window.
    cursor     INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

-- At most one entry per window: the primary key is what makes a window fire once.
-- No foreign keys: jobs are pruned on their own retention, and the history outlives them;
-- removing a schedule deletes its history in the same transaction.
CREATE TABLE jobq_schedule_runs (
    schedule     TEXT    NOT NULL,
    fire_at      INTEGER NOT NULL,
    outcome      TEXT    NOT NULL CHECK (outcome = 'enqueued' OR outcome = 'skipped'),
    job_id       INTEGER,
    last_fire_at INTEGER NOT NULL,
    count        INTEGER NOT NULL,
    reason       TEXT    NOT NULL DEFAULT '',
    recorded_at  INTEGER NOT NULL,
    PRIMARY KEY (schedule, fire_at)
) WITHOUT ROWID;

-- Pruning by age walks this; it also holds the primary key, so finding the rows to delete
-- never reads the table.
CREATE INDEX jobq_schedule_runs_recorded ON jobq_schedule_runs (recorded_at);
