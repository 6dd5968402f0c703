#pragma once
// Opening a Store from what an operator types: a file path or a database URL. The jobq CLI,
// the examples and jobq-bench all go through here so that one --db value means the same
// database everywhere.

#include <memory>
#include <string>

// PostgresOptions is a plain struct, so its header is usable (for parsing) even in a build
// without the PostgreSQL backend; only open_store needs the library (JOBQ_TOOLS_HAVE_POSTGRES).
#include "jobq/backend/store.hpp"
#include "jobq/postgres/postgres_store.hpp"
#include "jobq/sqlite/sqlite_store.hpp"

namespace jobq::tools {

/// The environment variable that names the default database.
inline constexpr const char* database_url_env = "JOBQ_DATABASE_URL";

/// The database the tools use when none is given: $JOBQ_DATABASE_URL, else "./jobq.db".
std::string default_database_url();

/// The backend a store URL names.
enum class Backend { sqlite, postgres };

/// Default SqliteOptions of the tools: read-write when possible, else read-only.
inline SqliteOptions automatic_access() {
    SqliteOptions options;
    options.access = SqliteAccess::automatic;
    return options;
}

/// A store URL taken apart, before anything is opened.
struct StoreLocation {
    Backend backend = Backend::sqlite;
    /// The text as given, for messages; a password in it (user:PASSWORD@ or password=) is
    /// replaced by "***", so printing it never shows one.
    std::string url;
    std::string sqlite_path;  ///< sqlite: the database file, percent-decoded
    /// sqlite: from the URL's query. Access is SqliteAccess::automatic unless the URL says
    /// mode=rw or mode=ro, so a database this process may not write can still be read.
    SqliteOptions sqlite_options = automatic_access();
    /// postgres: the URL for libpq, with jobq's own query parameters taken out and the scheme
    /// spelled "postgresql://"; holds the password if the URL had one.
    std::string postgres_conninfo;
    PostgresOptions postgres_options;    ///< postgres: schema and pool_size from the query
    bool postgres_schema_given = false;  ///< postgres: whether the URL chose the schema
};

/// Parses a path or URL without touching any file or server:
///   PATH, sqlite:PATH, sqlite:///ABS/PATH (each may end in ?durability=full|normal and/or
///   mode=rw|ro|auto: rw must write, ro never writes, auto (default) reads what it may not write),
///   postgresql://[USER[:PASSWORD]@][HOST][:PORT][/DBNAME][?PARAM=VALUE&...] or postgres://...
/// In a PostgreSQL URL, schema=NAME and pool_size=N are jobq's (PostgresOptions) and are
/// checked here; every other parameter is libpq's, passed on as written and checked by libpq
/// when the store connects.
/// Throws Error(invalid_argument) naming what is wrong (unknown scheme, option or value); the
/// message never contains a password.
StoreLocation parse_store_url(const std::string& url_or_path);

/// Opens the store a parsed location names. Throws Error(invalid_argument) for a backend this
/// build does not include or bad options, Error(storage) when a SQLite file cannot be opened.
/// PostgreSQL connects lazily: an unreachable server fails the first store call, as
/// Error(unavailable).
std::unique_ptr<Store> open_store(const StoreLocation& location);

/// Opens a store from a path or URL (see parse_store_url): a plain path or "sqlite:PATH" /
/// "sqlite:///abs/path" -> SqliteStore; "postgresql://" or "postgres://" -> PostgresStore when
/// this build has the PostgreSQL backend, else Error(invalid_argument).
std::unique_ptr<Store> open_store(const std::string& url_or_path);

}  // namespace jobq::tools
