#include "schema.hpp"

#include <fmt/format.h>
#include <pqxx/nontransaction>
#include <pqxx/transaction>

#include "jobq/backend/schema_check.hpp"
#include "jobq/error.hpp"
#include "statements.hpp"

namespace jobq::postgres_detail {

namespace {

std::string substitute_schema(std::string_view sql, const std::string& quoted) {
    std::string out;
    out.reserve(sql.size());
    constexpr std::string_view marker = "@schema@";
    for (;;) {
        const std::size_t at = sql.find(marker);
        out.append(sql.substr(0, at));
        if (at == std::string_view::npos) break;
        out += quoted;
        sql.remove_prefix(at + marker.size());
    }
    return out;
}

int version_in(pqxx::transaction_base& tx, std::string_view schema) {
    const std::string meta = quote_identifier(schema) + ".meta";
    const pqxx::row exists = tx.exec_params1("SELECT to_regclass($1) IS NOT NULL", meta);
    if (!exists[0].as<bool>()) return 0;
    const pqxx::result r = tx.exec("SELECT value FROM " + meta + " WHERE key = 'schema_version'");
    return r.empty() ? 0 : r[0][0].as<int>();
}

}  // namespace

int library_schema_version() {
    const auto& all = migrations();
    return all.empty() ? 0 : all.back().first;
}

void validate_schema_name(std::string_view schema) {
    const bool ok =
        !schema.empty() && schema.size() <= 63 &&
        (schema.front() == '_' || (schema.front() >= 'a' && schema.front() <= 'z')) &&
        schema.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_") == std::string_view::npos;
    if (!ok) {
        throw Error(ErrorCode::invalid_argument,
                    fmt::format("schema: '{}' is not a valid schema name (use lower-case letters, "
                                "digits and '_', starting with a letter or '_', at most 63 "
                                "characters)",
                                schema),
                    "schema");
    }
}

int read_schema_version(pqxx::connection& conn, std::string_view schema) {
    pqxx::nontransaction tx(conn);
    return version_in(tx, schema);
}

void check_schema_version(int version) {
    detail::check_schema_version(version, library_schema_version());
}

int migrate(pqxx::connection& conn, std::string_view schema) {
    const std::string quoted = quote_identifier(schema);
    pqxx::work tx(conn);
    // Taken before anything is read: a second migrator waits here until the first commits,
    // then reads the version the first one wrote. CREATE SCHEMA IF NOT EXISTS alone is not
    // safe against a concurrent creator.
    tx.exec_params("SELECT pg_advisory_xact_lock(hashtext('jobq.migrate'), hashtext($1))",
                   std::string(schema));
    tx.exec("CREATE SCHEMA IF NOT EXISTS " + quoted);
    tx.exec("CREATE TABLE IF NOT EXISTS " + quoted +
            ".meta (key text PRIMARY KEY, value integer NOT NULL)");
    const int current = version_in(tx, schema);
    const int library = library_schema_version();
    if (current > library) check_schema_version(current);
    for (const auto& [version, sql] : migrations()) {
        if (version <= current) continue;
        tx.exec(substitute_schema(sql, quoted), fmt::format("migrate to version {}", version));
    }
    if (current < library) {
        tx.exec_params("INSERT INTO " + quoted +
                           ".meta (key, value) VALUES ('schema_version', $1)"
                           " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                       library);
    }
    tx.commit();
    return library;
}

}  // namespace jobq::postgres_detail
