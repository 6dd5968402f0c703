-- jobq PostgreSQL schema, version 3: flow control (limits, pauses, tenant quotas and weights),
-- worker records, and the claim index split by tenant. Applied as 001_initial.sql is (one
-- transaction under the migration lock; no transaction control here); "@schema@" is replaced
-- by the store's schema name. Times are bigint microseconds.

-- One row per scope that has limits (or a paused queue). The store keeps `running` exact: it
-- is counted when a row is written and changed in the same transaction as every claim,
-- completion and cancel. Whoever locks several rows locks them in (scope, name) order.
CREATE TABLE @schema@.limits (
    scope          text COLLATE "C" NOT NULL CHECK (scope IN ('queue', 'kind', 'tenant')),
    -- "C": names sort byte by byte, as in the SQLite backend and std::string.
    name           text COLLATE "C" NOT NULL,
    max_running    integer,
    -- The rate limit: all three set, or all NULL.
    rate_limit     integer,
    rate_period_us bigint,
    rate_burst     integer,
    max_queued     bigint,
    weight         integer NOT NULL DEFAULT 1,
    paused         boolean NOT NULL DEFAULT false,
    running        bigint  NOT NULL DEFAULT 0,
    -- The token bucket of the rate limit as of tokens_at.
    tokens         double precision NOT NULL DEFAULT 0,
    tokens_at      bigint  NOT NULL DEFAULT 0,
    updated_at     bigint  NOT NULL,
    PRIMARY KEY (scope, name),
    CHECK ((rate_limit IS NULL) = (rate_period_us IS NULL))
) WITH (
    -- Every limited claim and completion updates these few rows: a dead version each time.
    -- The updated columns are in no index, so the updates stay HOT (room on the page for
    -- them) and page pruning reclaims most versions; vacuum after a small fixed number of
    -- changes too, without the cost-based pauses, so the table stays a few pages long.
    fillfactor = 50,
    autovacuum_vacuum_scale_factor = 0,
    autovacuum_vacuum_threshold = 1000,
    autovacuum_vacuum_insert_scale_factor = 0,
    autovacuum_vacuum_insert_threshold = 1000,
    autovacuum_analyze_scale_factor = 0,
    autovacuum_analyze_threshold = 1000,
    autovacuum_vacuum_cost_delay = 0
);

-- Running workers, so an operator (and explain) can tell whether anything serves a queue.
CREATE TABLE @schema@.workers (
    id         text COLLATE "C" PRIMARY KEY,
    queues     text[] NOT NULL,
    started_at bigint NOT NULL,
    seen_at    bigint NOT NULL,
    expires_at bigint NOT NULL
);

-- The claim index of version 1 now holds jobs without a tenant only: they are claimed in plain
-- priority order exactly as before, at the same cost. Every available job is in exactly one
-- of the two claim indexes.
DROP INDEX @schema@.jobs_claimable;
CREATE INDEX jobs_claimable ON @schema@.jobs (queue, priority, run_at, id)
    WHERE state = 'available' AND tenant IS NULL;

-- Jobs with a tenant: a claim seeks from tenant to tenant in it (one seek per tenant), then
-- walks each tenant's jobs in claim order. Only tenant jobs pay for it. Tenants in byte order
-- ("C", whatever the database's collation), as the claim's rotation through them expects;
-- statements name the collation to use it.
CREATE INDEX jobs_claimable_tenant ON @schema@.jobs (queue, tenant COLLATE "C", priority, run_at, id)
    WHERE state = 'available' AND tenant IS NOT NULL;

-- A tenant's queued jobs, counted against its quota (max_queued) on enqueue.
CREATE INDEX jobs_tenant_queued ON @schema@.jobs (tenant)
    WHERE tenant IS NOT NULL AND state IN ('pending', 'scheduled', 'available', 'retryable');
