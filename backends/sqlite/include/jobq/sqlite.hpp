#pragma once
// jobq with the embedded SQLite backend, in one include: the core (jobq/jobq.hpp) and
// jobq::SqliteStore. Link jobq::sqlite.

#include "jobq/jobq.hpp"
#include "jobq/sqlite/sqlite_store.hpp"
