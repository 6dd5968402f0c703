#pragma once
// The SQL of the PostgreSQL backend, one prepared statement per store operation, with the
// store's schema written into each text. No statement here opens a transaction: each runs
// alone (autocommit, one round trip) unless the caller wraps several in one.

#include <cstddef>
#include <string>
#include <string_view>

namespace jobq::postgres_detail {

enum class Sql : std::size_t {
    insert_jobs,
    unique_lock,
    find_unique,
    claim,
    heartbeat,
    complete,
    get,
    list,
    stats,
    cancel,
    retry,
    remove,
    replay_discarded,
    expired_leases,
    promote_due,
    next_run_at,
    prune,
    count_,  // not a statement
};

inline constexpr std::size_t sql_count = static_cast<std::size_t>(Sql::count_);

/// The texts of every statement for one schema.
class Statements {
  public:
    explicit Statements(std::string_view schema);

    const std::string& text(Sql id) const { return texts_[static_cast<std::size_t>(id)]; }
    /// The prepared-statement name of `id` (the same on every connection).
    static const char* name(Sql id);

    /// The NOTIFY channel of the schema's queues; the payload is the queue name ("" = all).
    const std::string& channel() const { return channel_; }

  private:
    std::string texts_[sql_count];
    std::string channel_;
};

/// `schema` as a quoted SQL identifier.
std::string quote_identifier(std::string_view schema);

}  // namespace jobq::postgres_detail
