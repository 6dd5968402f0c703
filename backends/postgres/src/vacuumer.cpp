#include "vacuumer.hpp"

#include <chrono>
#include <memory>

#include <pqxx/connection>
#include <pqxx/nontransaction>

#include "statements.hpp"

namespace jobq::postgres_detail {

namespace {

// Vacuums no more often than this, however fast jobs are claimed: each pass also reads the
// table's indexes through.
constexpr auto min_interval = std::chrono::seconds{1};

}  // namespace

Vacuumer::Vacuumer(std::string conninfo, std::string schema, std::int64_t every_rows)
    : conninfo_(std::move(conninfo)), schema_(std::move(schema)), every_rows_(every_rows) {}

Vacuumer::~Vacuumer() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
}

void Vacuumer::rows_claimed(std::int64_t n) {
    if (every_rows_ <= 0 || n <= 0) return;
    if (since_last_.fetch_add(n, std::memory_order_relaxed) + n < every_rows_) return;
    std::call_once(started_, [this] { thread_ = std::thread([this] { run(); }); });
    {
        std::lock_guard lock(mutex_);
        due_ = true;
    }
    wake_.notify_one();
}

void Vacuumer::run() {
    const std::string table = quote_identifier(schema_) + ".jobs";
    std::unique_ptr<pqxx::connection> conn;
    for (;;) {
        {
            std::unique_lock lock(mutex_);
            wake_.wait(lock, [this] { return due_ || stopping_; });
            if (stopping_) return;
            due_ = false;
        }
        since_last_.store(0, std::memory_order_relaxed);
        try {
            if (!conn) conn = std::make_unique<pqxx::connection>(conninfo_);
            pqxx::nontransaction tx(*conn);
            const bool mine =
                tx.exec_params1(
                      "SELECT pg_try_advisory_lock(hashtext('jobq.vacuum'), hashtext($1))",
                      schema_)[0]
                    .as<bool>();
            if (mine) {
                // INDEX_CLEANUP ON: by default PostgreSQL skips the index pass when few heap
                // pages hold dead rows, and the index is exactly what needs cleaning.
                // SKIP_LOCKED: never queue behind a DDL lock; the next turn comes soon.
                tx.exec("VACUUM (INDEX_CLEANUP ON, SKIP_LOCKED) " + table);
                tx.exec_params("SELECT pg_advisory_unlock(hashtext('jobq.vacuum'), hashtext($1))",
                               schema_);
            }
        } catch (const std::exception&) {
            // Connection lost, or not allowed to vacuum: autovacuum remains. A lost session
            // releases its advisory lock with it.
            conn.reset();
        }
        std::unique_lock lock(mutex_);
        if (wake_.wait_for(lock, min_interval, [this] { return stopping_; })) return;
    }
}

}  // namespace jobq::postgres_detail
