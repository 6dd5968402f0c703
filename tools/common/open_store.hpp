#pragma once
// Opening a Store from what an operator types: a file path or a database URL. The jobq CLI,
// the examples and jobq-bench all go through here so that one --db value means the same
// database everywhere.

#include <memory>
#include <string>

#include "jobq/sqlite/sqlite_store.hpp"
#include "jobq/store.hpp"

namespace jobq::tools {

/// The environment variable that names the default database.
inline constexpr const char* database_url_env = "JOBQ_DATABASE_URL";

/// The database the tools use when none is given: $JOBQ_DATABASE_URL, else "./jobq.db".
std::string default_database_url();

/// The backend a store URL names.
enum class Backend { sqlite, postgres };

/// A store URL taken apart, before anything is opened.
struct StoreLocation {
    Backend backend = Backend::sqlite;
    std::string url;               ///< the text as given, for messages
    std::string sqlite_path;       ///< sqlite: the database file, percent-decoded
    SqliteOptions sqlite_options;  ///< sqlite: from the URL's query
};

/// Parses a path or URL without touching any file or server:
///   PATH, sqlite:PATH, sqlite:///ABS/PATH (each sqlite URL may end in ?durability=full|normal),
///   postgresql://... or postgres://...
/// Throws Error(invalid_argument) naming what is wrong (unknown scheme, option or value).
StoreLocation parse_store_url(const std::string& url_or_path);

/// Opens the store a parsed location names. Throws Error(invalid_argument) for a backend this
/// build does not include, Error(storage) when the database cannot be opened.
std::unique_ptr<Store> open_store(const StoreLocation& location);

/// Opens a store from a path or URL (see parse_store_url): a plain path or "sqlite:PATH" /
/// "sqlite:///abs/path" -> SqliteStore; "postgresql://" or "postgres://" -> Error(invalid_argument)
/// until the PostgreSQL backend is built in.
std::unique_ptr<Store> open_store(const std::string& url_or_path);

}  // namespace jobq::tools
