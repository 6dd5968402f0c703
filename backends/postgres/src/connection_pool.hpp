#pragma once
// A small pool of libpqxx connections: opened on demand, dropped when they break, reopened
// by the next call. Every store call runs through ConnectionPool::run, which turns libpqxx's
// exceptions into jobq::Error with the code the core acts on.

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include <pqxx/connection>

namespace jobq::postgres_detail {

/// Throws Error(invalid_argument, field "conninfo") unless libpq can parse `conninfo` (a
/// misspelt option would otherwise fail every connection attempt, retried for ever).
void validate_conninfo(const std::string& conninfo);

/// `conninfo` with libpq's connect_timeout added (whole seconds, at least 2, libpq's own
/// minimum) unless it already sets one; works for URLs and key=value strings.
std::string with_connect_timeout(std::string conninfo, std::chrono::milliseconds timeout);

/// Rethrows the exception in flight as jobq::Error: unavailable when the connection is gone
/// (`connection_lost` is set then, so the caller drops it), schema when jobq's tables are
/// missing, storage for anything else the database refused.
[[noreturn]] void rethrow_as_error(std::string_view op, bool& connection_lost);

class ConnectionPool {
  public:
    /// `on_open` runs on every new connection (to register prepared statements).
    ConnectionPool(std::string conninfo, int size, std::function<void(pqxx::connection&)> on_open);
    ~ConnectionPool();
    ConnectionPool(const ConnectionPool&) = delete;
    ConnectionPool& operator=(const ConnectionPool&) = delete;

    /// Runs `f(connection)` on a pooled connection, waiting for one to be free. Errors come
    /// out as jobq::Error (see rethrow_as_error); a lost connection is not returned to the pool.
    template <class F>
    auto run(std::string_view op, F&& f) -> decltype(f(std::declval<pqxx::connection&>())) {
        Lease lease = acquire(op);
        try {
            return f(*lease.connection);
        } catch (...) {
            bool lost = false;
            try {
                rethrow_as_error(op, lost);
            } catch (...) {
                if (lost || !lease.connection->is_open()) lease.broken = true;
                release(lease);
                throw;
            }
        }
        // Not reached: rethrow_as_error always throws.
    }

    const std::string& conninfo() const noexcept { return conninfo_; }

  private:
    struct Lease {
        std::unique_ptr<pqxx::connection> connection;
        bool broken = false;
        ConnectionPool* pool = nullptr;
        Lease() = default;
        Lease(Lease&&) noexcept = default;
        ~Lease();
    };

    Lease acquire(std::string_view op);
    void release(Lease& lease) noexcept;

    std::string conninfo_;
    int size_;
    std::function<void(pqxx::connection&)> on_open_;
    std::mutex mutex_;
    std::condition_variable freed_;
    std::vector<std::unique_ptr<pqxx::connection>> idle_;
    int open_ = 0;  // idle plus lent out
};

}  // namespace jobq::postgres_detail
