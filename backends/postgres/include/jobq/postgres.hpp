#pragma once
// jobq with the PostgreSQL backend, in one include: the core (jobq/jobq.hpp) and
// jobq::PostgresStore. Link jobq::postgres.

#include "jobq/jobq.hpp"
#include "jobq/postgres/postgres_store.hpp"
