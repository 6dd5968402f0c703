-- jobq PostgreSQL schema, version 4: slots given back without waiting for a limit row.
-- Applied as 001_initial.sql is.
--
-- A job that stops running gives its slot back to the limit rows of its queue, kind and
-- tenant. Until version 3 each completion updated those rows, and so waited for every claim
-- that held them locked (a flow claim holds them for its whole transaction): with limits
-- configured but not binding, claims and completions took turns on a few rows and a worker
-- processed half as many jobs. Now a completion only appends one row here per limit row it
-- frees (no lock on the limit row); the next flow claim that locks that row folds the
-- releases into `running` and deletes them, in its own transaction. Whoever reads `running`
-- subtracts the releases not yet folded, so the count stays exact.
CREATE TABLE @schema@.limit_releases (
    scope text COLLATE "C" NOT NULL,
    name  text COLLATE "C" NOT NULL,
    n     bigint NOT NULL
) WITH (
    -- Appended by completions, deleted by the next claim: short-lived rows, vacuumed often.
    autovacuum_vacuum_scale_factor = 0,
    autovacuum_vacuum_threshold = 1000,
    autovacuum_vacuum_insert_scale_factor = 0,
    autovacuum_vacuum_insert_threshold = 1000,
    autovacuum_vacuum_cost_delay = 0
);
CREATE INDEX limit_releases_row ON @schema@.limit_releases (scope, name);
