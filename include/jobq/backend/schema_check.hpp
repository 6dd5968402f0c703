#pragma once
// For backend authors. The check every backend makes before touching its tables: is the schema in
// the database the one this library was built for? Not part of the API.

namespace jobq::detail {

/// Throws Error(schema) with what to do unless `found` (0: not migrated) equals `library`.
void check_schema_version(int found, int library);

}  // namespace jobq::detail
