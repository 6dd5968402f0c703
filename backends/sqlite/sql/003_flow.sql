-- jobq SQLite schema, version 3: flow control (limits, pauses, tenant quotas and weights),
-- worker records, and the claimable index split by tenant. Applied by migrate() like
-- 001_initial.sql, in the same transaction as any earlier version still missing.
--
-- Times are INTEGER microseconds since the Unix epoch. No tenant is stored as NULL.

-- One row per scope that has limits (or a paused queue). The store keeps `running` exact: it
-- is counted when a row is written and changed in the same transaction as every claim,
-- completion and cancel (all under the one write lock, so the count needs no other guard).
-- WITHOUT ROWID: rows are small and always found by their (scope, name) key, which is then
-- the table itself.
CREATE TABLE jobq_limits (
    scope          TEXT    NOT NULL CHECK (scope = 'queue' OR scope = 'kind'
                       OR scope = 'tenant'),
    name           TEXT    NOT NULL,
    max_running    INTEGER,
    -- The rate limit: limit and period set together, or neither; burst 0 means "= limit".
    rate_limit     INTEGER,
    rate_period_us INTEGER,
    rate_burst     INTEGER,
    max_queued     INTEGER,
    weight         INTEGER NOT NULL DEFAULT 1,
    paused         INTEGER NOT NULL DEFAULT 0 CHECK (paused = 0 OR paused = 1),
    running        INTEGER NOT NULL DEFAULT 0,
    -- The rate limit's token bucket as of tokens_at (REAL: buckets refill by fractions).
    tokens         REAL    NOT NULL DEFAULT 0,
    tokens_at      INTEGER NOT NULL DEFAULT 0,
    updated_at     INTEGER NOT NULL,
    PRIMARY KEY (scope, name),
    CHECK ((rate_limit IS NULL) = (rate_period_us IS NULL))
) WITHOUT ROWID;

-- Running workers, so an operator (and explain) can tell whether anything serves a queue.
-- queues is a JSON array of queue names.
CREATE TABLE jobq_workers (
    id         TEXT    NOT NULL PRIMARY KEY,
    queues     TEXT    NOT NULL,
    started_at INTEGER NOT NULL,
    seen_at    INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
) WITHOUT ROWID;

-- The claimable index of version 1 now holds jobs without a tenant only: they are claimed in
-- plain priority order exactly as before, by the same walk at the same cost. Every available
-- job is in exactly one of the two claimable indexes. Statements repeat each index's WHERE
-- word for word (state = 'available' AND tenant IS [NOT] NULL): SQLite uses a partial index
-- only then.
DROP INDEX jobq_jobs_claimable;
CREATE INDEX jobq_jobs_claimable ON jobq_jobs (queue, priority, run_at)
    WHERE state = 'available' AND tenant IS NULL;

-- Jobs with a tenant: a claim steps from tenant to tenant through it (one seek each), then
-- walks each tenant's jobs in claim order. Only tenant jobs pay for it. Tenants sort byte by
-- byte (BINARY), as std::string compares them, which the claim's rotation relies on.
CREATE INDEX jobq_jobs_claimable_tenant ON jobq_jobs (queue, tenant, priority, run_at)
    WHERE state = 'available' AND tenant IS NOT NULL;

-- A tenant's queued jobs, counted against its quota (max_queued) on enqueue. Only tenant jobs
-- pay for it. state is a key column although the WHERE already pins it: with it the count is
-- covered by the index (SQLite reads every column a query names, partial condition or not),
-- without it each counted job costs a table lookup. ORs, not IN: see the state check in
-- 001_initial.sql.
CREATE INDEX jobq_jobs_tenant_queued ON jobq_jobs (tenant, state)
    WHERE tenant IS NOT NULL AND (state = 'pending' OR state = 'scheduled'
        OR state = 'available' OR state = 'retryable');
