#pragma once
// Connection: one sqlite3 handle with its lock, its cached statements and the RAII pieces
// (Statement, Transaction) that turn every SQLite failure into jobq::Error(storage).

#include <array>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include <sqlite3.h>

#include "jobq/clock.hpp"
#include "jobq/sqlite/sqlite_store.hpp"
#include "statements.hpp"

namespace jobq::sqlite_detail {

/// Throws Error(storage, "<op>: <sqlite3_errmsg>").
[[noreturn]] void throw_storage(sqlite3* db, std::string_view op);

/// A prepared statement in use. Binds, steps and reads columns; on destruction resets it (a
/// cached statement) or finalizes it (a statement prepared for one call). Resetting promptly
/// matters: an unreset SELECT keeps its read snapshot open and blocks WAL checkpoints.
class Statement {
  public:
    Statement(sqlite3* db, sqlite3_stmt* stmt, std::string_view op, bool owned) noexcept
        : db_(db), stmt_(stmt), op_(op), owned_(owned) {}
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;
    ~Statement();

    void bind(int index, std::int64_t value);
    void bind(int index, int value) { bind(index, static_cast<std::int64_t>(value)); }
    void bind(int index, Timestamp t) { bind(index, t.time_since_epoch().count()); }
    /// Binds without copying: `text` must outlive the statement's use.
    void bind(int index, std::string_view text);
    void bind_null(int index);
    /// Binds NULL for an empty string, for columns where "none" is stored as NULL.
    void bind_text_or_null(int index, std::string_view text);
    void bind(int index, const std::optional<Timestamp>& t);
    /// A REAL (not an overload of bind: integers would convert to it ambiguously).
    void bind_real(int index, double value);

    /// Advances; true while there is a row.
    bool step();
    /// Steps to the end, for statements that return nothing of interest.
    void run();
    /// Makes the statement ready to be bound and run again within the same use.
    void reset() noexcept;

    std::int64_t int64(int column) const noexcept { return sqlite3_column_int64(stmt_, column); }
    int int32(int column) const noexcept { return sqlite3_column_int(stmt_, column); }
    double real(int column) const noexcept { return sqlite3_column_double(stmt_, column); }
    bool is_null(int column) const noexcept {
        return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
    }
    /// Valid until the next step or reset.
    std::string_view text(int column) const noexcept;
    Timestamp timestamp(int column) const noexcept { return Timestamp{Duration{int64(column)}}; }
    std::optional<Timestamp> optional_timestamp(int column) const noexcept {
        if (is_null(column)) return std::nullopt;
        return timestamp(column);
    }

    std::string_view op() const noexcept { return op_; }

  private:
    sqlite3* db_;
    sqlite3_stmt* stmt_;
    std::string_view op_;
    bool owned_;
};

/// One connection. Callers hold `mutex` for as long as they use it, statements included.
class Connection {
  public:
    /// Opens `path` and applies the store's settings. `reader`: the connection only reads.
    Connection(const std::string& path, const SqliteOptions& options, bool reader);
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;
    ~Connection();

    sqlite3* handle() const noexcept { return db_; }
    /// Whether the connection may only read: asked for, or the database is not writable by
    /// this process and the options allowed falling back (SqliteAccess::automatic).
    bool read_only() const noexcept { return !read_only_reason_.empty(); }
    /// Why the connection is read-only, for messages ("the file is not writable ..."), or empty.
    const std::string& read_only_reason() const noexcept { return read_only_reason_; }
    std::mutex& mutex() noexcept { return mutex_; }

    /// The cached statement for `id`, prepared on first use.
    Statement statement(Sql id, std::string_view op);
    /// Runs SQL text that returns no rows (pragmas, migrations).
    void exec(const char* sql, std::string_view op);

  private:
    /// Opens `path` for writing. Returns empty when done, or why this process may not write
    /// the database (the handle then closed); throws Error(storage) for any other failure.
    std::string open_read_write(const std::string& path, const SqliteOptions& options, bool reader);
    /// Opens `path` for reading only; throws Error(storage) when it cannot be read. Both
    /// open_ functions may throw with a handle open: the constructor closes it.
    void open_read_only(const std::string& path, const SqliteOptions& options);
    /// Opens the handle (closing any earlier one) and applies the settings every connection
    /// has; returns SQLite's result code, with the handle closed unless it is SQLITE_OK.
    int open_handle(const std::string& name, int flags, const SqliteOptions& options);
    void close() noexcept;

    sqlite3* db_ = nullptr;
    std::string read_only_reason_;
    std::string open_error_;  // SQLite's message for the last failed open_handle
    std::mutex mutex_;
    std::array<sqlite3_stmt*, sql_count> cache_{};
};

/// A write transaction taken with BEGIN IMMEDIATE, so the write lock is acquired (or waited
/// for) up front and never upgraded mid-way. Rolls back unless committed: nothing of a failed
/// operation is left half-written.
class Transaction {
  public:
    Transaction(Connection& conn, std::string_view op);
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;
    ~Transaction();

    void commit();

  private:
    Connection& conn_;
    std::string_view op_;
    bool open_ = true;
};

/// Prepares `sql` for one use on a connection that is not ours (finalized when done).
Statement prepare_once(sqlite3* db, std::string_view sql, std::string_view op);

/// Rolls back whatever transaction is open on `db`, ignoring failures; a no-op when SQLite
/// has already rolled it back itself (it does so after SQLITE_FULL and some I/O errors).
void rollback_quietly(sqlite3* db) noexcept;

}  // namespace jobq::sqlite_detail
