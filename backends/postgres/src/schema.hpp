#pragma once
// Versioned migrations of the PostgreSQL schema (sql/*.sql, compiled in) and the version check
// every store call relies on.

#include <string_view>
#include <utility>
#include <vector>

#include <pqxx/connection>

namespace jobq::postgres_detail {

/// Every migration as {version, SQL with "@schema@" for the schema}, in version order.
/// Generated from sql/ by cmake/embed_migrations.cmake.
const std::vector<std::pair<int, std::string_view>>& migrations();

/// The version this library's migrations end at.
int library_schema_version();

/// Throws Error(invalid_argument, field "schema") unless `schema` is [a-z_][a-z0-9_]*, at most
/// 63 characters (PostgreSQL's identifier limit; lower case so it needs no quoting anywhere).
void validate_schema_name(std::string_view schema);

/// The version recorded in `schema` (0 when the schema or its meta table does not exist).
int read_schema_version(pqxx::connection& conn, std::string_view schema);

/// Throws Error(schema) unless `version` is this library's.
void check_schema_version(int version);

/// Brings `schema` to library_schema_version() in one transaction under an advisory lock, so
/// concurrent callers in any number of processes serialise and the later ones find the work
/// done. Returns the version.
int migrate(pqxx::connection& conn, std::string_view schema);

}  // namespace jobq::postgres_detail
