#include "jobq/backend/schema_check.hpp"

#include <fmt/format.h>

#include "jobq/error.hpp"

namespace jobq::detail {

void check_schema_version(int found, int library) {
    if (found == library) return;
    if (found == 0) {
        throw Error(ErrorCode::schema, "database is not migrated; run migrate()");
    }
    if (found < library) {
        throw Error(ErrorCode::schema,
                    fmt::format("database schema is at version {}, this library needs {}; "
                                "run migrate()",
                                found, library));
    }
    throw Error(ErrorCode::schema,
                fmt::format("database schema version {} is newer than this library's ({}); "
                            "upgrade jobq to use this database",
                            found, library));
}

}  // namespace jobq::detail
