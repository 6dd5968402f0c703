#include "connection.hpp"

#include <algorithm>
#include <climits>
#include <filesystem>
#include <system_error>

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

namespace {

// Whether a failed open or first read means "this process may not write here" rather than a
// broken or missing database: a read-only file, a directory where SQLite cannot create the
// write-ahead log or its shared-memory file.
bool is_permission_failure(int rc) {
    const int primary = rc & 0xff;
    return primary == SQLITE_READONLY || primary == SQLITE_CANTOPEN || primary == SQLITE_PERM;
}

// A "file:" URI naming `path`, for URI-only parameters; escapes what a URI gives a meaning.
std::string file_uri(const std::string& path, std::string_view query) {
    std::string uri = path.starts_with('/') ? "file://" : "file:";
    for (const char c : path) {
        if (c == '%' || c == '?' || c == '#') {
            uri += fmt::format("%{:02X}", static_cast<unsigned char>(c));
        } else {
            uri += c;
        }
    }
    uri += '?';
    uri += query;
    return uri;
}

// The name to hand SQLite for the file at `path`. SQLite reads a name that starts with "file:"
// as a URI when URIs are enabled (Debian's build enables them), so "file:x.db" would open
// "x.db" while every other check looks at "file:x.db"; "./file:x.db" is always that file.
std::string file_name(const std::string& path) {
    return path.starts_with("file:") ? "./" + path : path;
}

}  // namespace

Connection::Connection(const std::string& path, const SqliteOptions& options, bool reader) {
    if (path.find('\0') != std::string::npos) {
        // SQLite takes a C string: the name would end at the NUL and open another file.
        throw Error(ErrorCode::invalid_argument, "path: contains a NUL byte", "path");
    }
    if (std::error_code ec; std::filesystem::is_directory(path, ec)) {
        // SQLite would say "disk I/O error".
        throw Error(ErrorCode::storage, fmt::format("open {}: it is a directory", path));
    }
    // A constructor that throws runs no destructor: whatever handle is open then is closed here.
    try {
        std::string why = "it was opened read-only";
        if (options.access != SqliteAccess::read_only) {
            why = open_read_write(path, options, reader);
            if (why.empty()) return;
            if (options.access == SqliteAccess::read_write) {
                throw Error(ErrorCode::storage,
                            fmt::format("open {}: {}; to read it, open it read-only "
                                        "(SqliteAccess::read_only, or ?mode=ro in a sqlite URL)",
                                        path, why));
            }
        }
        open_read_only(path, options);
        read_only_reason_ = std::move(why);
    } catch (...) {
        close();
        throw;
    }
}

int Connection::open_handle(const std::string& name, int flags, const SqliteOptions& options) {
    close();
    // NOMUTEX: every use of a connection is serialised by `mutex_`, so SQLite's own
    // per-connection mutex would only add cost.
    const int rc = sqlite3_open_v2(name.c_str(), &db_, flags | SQLITE_OPEN_NOMUTEX, nullptr);
    if (rc != SQLITE_OK) {
        open_error_ = db_ != nullptr ? sqlite3_errmsg(db_) : "out of memory opening the database";
        close();
        return rc;
    }
    sqlite3_extended_result_codes(db_, 1);
    sqlite3_busy_timeout(
        db_, static_cast<int>(std::clamp<std::int64_t>(options.busy_timeout.count(), 0, INT_MAX)));
    return rc;
}

void Connection::close() noexcept {
    for (sqlite3_stmt*& s : cache_) {
        sqlite3_finalize(s);
        s = nullptr;
    }
    sqlite3_close_v2(db_);
    db_ = nullptr;
}

std::string Connection::open_read_write(const std::string& path, const SqliteOptions& options,
                                        bool reader) {
    const int rc =
        open_handle(file_name(path), SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, options);
    if (rc != SQLITE_OK) {
        // A missing file in a directory it may not write is not a database to fall back on.
        std::error_code ec;
        if (is_permission_failure(rc) && std::filesystem::exists(path, ec)) {
            return fmt::format("this process may not open it for writing ({})", open_error_);
        }
        throw Error(ErrorCode::storage, fmt::format("open {}: {}", path, open_error_));
    }
    // SQLite opens a file it may not write read-only without saying so.
    if (sqlite3_db_readonly(db_, "main") == 1) {
        close();
        return "the file is not writable by this process";
    }
    if (reader) {
        // A guard, not an optimisation: the reader must never take the write lock.
        exec("PRAGMA query_only = ON", "open");
        return {};
    }
    // WAL is a property of the file; setting it once from the writer is enough. It is also the
    // first statement that needs the -wal and -shm files beside the database.
    char* message = nullptr;
    const int wal = sqlite3_exec(db_, "PRAGMA journal_mode = WAL", nullptr, nullptr, &message);
    if (wal != SQLITE_OK) {
        const std::string text = message != nullptr ? message : sqlite3_errmsg(db_);
        sqlite3_free(message);
        if (is_permission_failure(wal)) {
            close();
            return "its directory, where SQLite keeps the write-ahead log, is not writable by "
                   "this process";
        }
        throw Error(ErrorCode::storage, fmt::format("open: {}", text));
    }
    exec(options.durability == SqliteDurability::full ? "PRAGMA synchronous = FULL"
                                                      : "PRAGMA synchronous = NORMAL",
         "open");
    return {};
}

void Connection::open_read_only(const std::string& path, const SqliteOptions& options) {
    if (open_handle(file_name(path), SQLITE_OPEN_READONLY, options) != SQLITE_OK) {
        throw Error(ErrorCode::storage, fmt::format("open {}: {}", path, open_error_));
    }
    exec("PRAGMA query_only = ON", "open");
    // The first read is where a WAL database needs its shared-memory file: a process that
    // cannot write the directory cannot create it when no other process has the file open.
    const int probe =
        sqlite3_exec(db_, "SELECT count(*) FROM sqlite_master", nullptr, nullptr, nullptr);
    if (probe == SQLITE_OK) return;
    const std::string text = sqlite3_errmsg(db_);
    if (!is_permission_failure(probe)) {
        throw Error(ErrorCode::storage, fmt::format("open {}: {}", path, text));
    }
    // Then the database file alone is the whole database, unless a write-ahead log holds
    // commits not yet copied into it: only that case cannot be read without the -shm file.
    std::error_code ec;
    const std::string wal = path + "-wal";
    const auto wal_size = std::filesystem::file_size(wal, ec);
    if (!ec && wal_size > 0) {
        throw Error(ErrorCode::storage,
                    fmt::format("open {} read-only: its write-ahead log {} holds commits not "
                                "yet in the database file, and this process cannot create the "
                                "shared-memory file SQLite needs to read them ({}); run a jobq "
                                "command as a user who can write the directory (closing the "
                                "database merges the log), or copy the files somewhere writable",
                                path, wal, text));
    }
    // immutable=1: no locks and no -shm; see SqliteAccess::read_only for what that costs.
    if (open_handle(file_uri(path, "immutable=1"), SQLITE_OPEN_READONLY | SQLITE_OPEN_URI,
                    options) != SQLITE_OK) {
        throw Error(ErrorCode::storage, fmt::format("open {}: {}", path, open_error_));
    }
    exec("PRAGMA query_only = ON", "open");
    exec("SELECT count(*) FROM sqlite_master", "open");
}

Connection::~Connection() {
    close();
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
    if (conn_.read_only()) {
        const char* file = sqlite3_db_filename(conn_.handle(), "main");
        throw Error(ErrorCode::storage,
                    fmt::format("{}: database '{}' is open read-only ({}); this needs write "
                                "access",
                                op, file != nullptr ? file : "", conn_.read_only_reason()));
    }
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
