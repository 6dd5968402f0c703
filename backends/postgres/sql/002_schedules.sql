-- jobq PostgreSQL schema, version 2: cron schedules and the history of their windows. Applied
-- as 001_initial.sql is (one transaction under the migration lock; no transaction control
-- here); "@schema@" is replaced by the store's schema name. Times are bigint microseconds.

CREATE TABLE @schema@.schedules (
    -- "C": names compare and sort byte by byte, as in the SQLite backend and std::string,
    -- whatever the database's default collation is.
    name       text COLLATE "C" PRIMARY KEY,
    expression text    NOT NULL,
    zone       text    NOT NULL,
    -- text, not jsonb: the definitions must read back byte for byte (jsonb reorders keys and
    -- respaces), since the core compares them as text to find changed declarations.
    job        text    NOT NULL,
    misfire    text    NOT NULL,
    declared   boolean NOT NULL,
    paused     boolean NOT NULL,
    -- The newest window handled. Every fire compares and moves it (see fire_schedule); it is in
    -- no index, so that update stays HOT.
    cursor     bigint  NOT NULL,
    created_at bigint  NOT NULL,
    updated_at bigint  NOT NULL
);

-- One entry per (schedule, window): the primary key is what lets a window be enqueued once.
-- No foreign keys: a job may be pruned while the entry that enqueued it stays, and a
-- schedule's entries are deleted with it by the statements that delete it.
CREATE TABLE @schema@.schedule_runs (
    schedule     text COLLATE "C" NOT NULL,
    fire_at      bigint NOT NULL,
    outcome      text   NOT NULL CHECK (outcome IN ('enqueued', 'skipped')),
    job_id       bigint,
    last_fire_at bigint NOT NULL,
    count        bigint NOT NULL,
    reason       text   NOT NULL,
    recorded_at  bigint NOT NULL,
    PRIMARY KEY (schedule, fire_at)
);

-- The pruner deletes the oldest entries of every schedule.
CREATE INDEX schedule_runs_recorded ON @schema@.schedule_runs (recorded_at);
