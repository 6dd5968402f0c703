#include "connection.hpp"

#include <algorithm>
#include <climits>

#include <fmt/format.h>

#include "jobq/error.hpp"

namespace jobq::sqlite_detail {

void throw_storage(sqlite3* db, std::string_view op) {
    throw Error(ErrorCode::storage, fmt::format("{}: {}", op, sqlite3_errmsg(db)));
}

// ---- Statement ----------------------------------------------------------------------------

Statement::~Statement() {
    if (owned_) {
        sqlite3_finalize(stmt_);
    } else {
        sqlite3_reset(stmt_);
        // Text is bound without copying; dropping the pointers keeps a later use that forgot
        // a parameter from reading freed memory.
        sqlite3_clear_bindings(stmt_);
    }
}

void Statement::bind(int index, std::int64_t value) {
    if (sqlite3_bind_int64(stmt_, index, value) != SQLITE_OK) throw_storage(db_, op_);
}

void Statement::bind(int index, std::string_view text) {
    // A null data pointer would bind NULL; an empty string must stay an empty string.
    const char* data = text.data() != nullptr ? text.data() : "";
    if (sqlite3_bind_text64(stmt_, index, data, text.size(), SQLITE_STATIC, SQLITE_UTF8) !=
        SQLITE_OK) {
        throw_storage(db_, op_);
    }
}

void Statement::bind_null(int index) {
    if (sqlite3_bind_null(stmt_, index) != SQLITE_OK) throw_storage(db_, op_);
}

void Statement::bind_text_or_null(int index, std::string_view text) {
    if (text.empty()) {
        bind_null(index);
    } else {
        bind(index, text);
    }
}

void Statement::bind(int index, const std::optional<Timestamp>& t) {
    if (t) {
        bind(index, *t);
    } else {
        bind_null(index);
    }
}

void Statement::bind_real(int index, double value) {
    if (sqlite3_bind_double(stmt_, index, value) != SQLITE_OK) throw_storage(db_, op_);
}

bool Statement::step() {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    throw_storage(db_, op_);
}

void Statement::run() {
    while (step()) {
    }
}

void Statement::reset() noexcept {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
}

std::string_view Statement::text(int column) const noexcept {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
    if (p == nullptr) return {};
    return {p, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column))};
}

// ---- Connection ---------------------------------------------------------------------------

Connection::Connection(const std::string& path, const SqliteOptions& options, bool reader) {
    // NOMUTEX: every use of a connection is serialised by `mutex_`, so SQLite's own
    // per-connection mutex would only add cost.
    const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(path.c_str(), &db_, flags, nullptr) != SQLITE_OK) {
        const std::string message =
            db_ != nullptr ? sqlite3_errmsg(db_) : "out of memory opening the database";
        sqlite3_close_v2(db_);
        db_ = nullptr;
        throw Error(ErrorCode::storage, fmt::format("open {}: {}", path, message));
    }
    try {
        sqlite3_extended_result_codes(db_, 1);
        sqlite3_busy_timeout(db_, static_cast<int>(std::clamp<std::int64_t>(
                                      options.busy_timeout.count(), 0, INT_MAX)));
        if (reader) {
            // A guard, not an optimisation: the reader must never take the write lock.
            exec("PRAGMA query_only = ON", "open");
        } else {
            // WAL is a property of the file; setting it once from the writer is enough.
            exec("PRAGMA journal_mode = WAL", "open");
            exec(options.durability == SqliteDurability::full ? "PRAGMA synchronous = FULL"
                                                              : "PRAGMA synchronous = NORMAL",
                 "open");
        }
    } catch (...) {
        sqlite3_close_v2(db_);
        throw;
    }
}

Connection::~Connection() {
    for (sqlite3_stmt* s : cache_) sqlite3_finalize(s);
    sqlite3_close_v2(db_);
}

Statement Connection::statement(Sql id, std::string_view op) {
    sqlite3_stmt*& slot = cache_[static_cast<std::size_t>(id)];
    if (slot == nullptr) {
        const std::string_view sql = sql_text(id);
        if (sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                               SQLITE_PREPARE_PERSISTENT, &slot, nullptr) != SQLITE_OK) {
            slot = nullptr;
            throw_storage(db_, op);
        }
    }
    return Statement(db_, slot, op, false);
}

void Connection::exec(const char* sql, std::string_view op) {
    char* message = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &message) != SQLITE_OK) {
        const std::string text = message != nullptr ? message : sqlite3_errmsg(db_);
        sqlite3_free(message);
        throw Error(ErrorCode::storage, fmt::format("{}: {}", op, text));
    }
}

// ---- Transaction --------------------------------------------------------------------------

Transaction::Transaction(Connection& conn, std::string_view op) : conn_(conn), op_(op) {
    conn_.statement(Sql::begin_immediate, op_).run();
}

Transaction::~Transaction() {
    if (open_) rollback_quietly(conn_.handle());
}

void Transaction::commit() {
    conn_.statement(Sql::commit, op_).run();
    open_ = false;
}

Statement prepare_once(sqlite3* db, std::string_view sql, std::string_view op) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()), 0, &stmt, nullptr) !=
        SQLITE_OK) {
        throw_storage(db, op);
    }
    return Statement(db, stmt, op, true);
}

void rollback_quietly(sqlite3* db) noexcept {
    if (sqlite3_get_autocommit(db) != 0) return;
    sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
}

}  // namespace jobq::sqlite_detail
