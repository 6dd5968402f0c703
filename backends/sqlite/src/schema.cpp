#include "schema.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "jobq/backend/schema_check.hpp"
#include "jobq/error.hpp"

namespace jobq::sqlite_detail {

namespace {

void check_version(int version) {
    detail::check_schema_version(version, library_schema_version());
}

}  // namespace

int library_schema_version() {
    const auto& all = migrations();
    return all.empty() ? 0 : all.back().first;
}

int read_schema_version(sqlite3* db, std::string_view op) {
    // The meta table itself may be missing (a fresh file), so look before querying it.
    {
        Statement exists = prepare_once(
            db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'jobq_meta'", op);
        if (!exists.step()) return 0;
    }
    Statement version =
        prepare_once(db, "SELECT value FROM jobq_meta WHERE key = 'schema_version'", op);
    return version.step() ? version.int32(0) : 0;
}

int migrate(Connection& writer) {
    Transaction tx(writer, "migrate");
    writer.exec(
        "CREATE TABLE IF NOT EXISTS jobq_meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL)"
        " WITHOUT ROWID",
        "migrate");
    const int current = read_schema_version(writer.handle(), "migrate");
    const int library = library_schema_version();
    if (current > library) check_version(current);
    for (const auto& [version, sql] : migrations()) {
        if (version <= current) continue;
        // The embedded text is NUL-terminated: it comes from a string literal.
        writer.exec(sql.data(), fmt::format("migrate to version {}", version));
    }
    if (current < library) {
        Statement set = prepare_once(writer.handle(),
                                     "INSERT INTO jobq_meta (key, value) VALUES"
                                     " ('schema_version', ?1) ON CONFLICT (key) DO UPDATE"
                                     " SET value = excluded.value",
                                     "migrate");
        set.bind(1, library);
        set.run();
    }
    tx.commit();
    return library;
}

void require_schema(sqlite3* db, std::atomic<bool>& verified) {
    if (verified.load(std::memory_order_relaxed)) return;
    check_version(read_schema_version(db, "schema check"));
    verified.store(true, std::memory_order_relaxed);
}

}  // namespace jobq::sqlite_detail
