#pragma once
// The flow-control tables' rows as C++ sees them (sql/003_flow.sql): the column lists the
// limit and worker queries select, and the conversions between those rows and LimitRecord and
// WorkerRecord.

#include <string_view>

#include "connection.hpp"
#include "jobq/limit_record.hpp"
#include "jobq/worker_record.hpp"

namespace jobq::sqlite_detail {

/// Every column of jobq_limits, in the order read_limit() and bind_limit() use.
inline constexpr std::string_view limit_columns =
    "scope, name, max_running, rate_limit, rate_period_us, rate_burst, max_queued, weight,"
    " paused, running, tokens, tokens_at, updated_at";

/// Every column of jobq_workers, in the order read_worker() and bind_worker() use.
inline constexpr std::string_view worker_columns = "id, queues, started_at, seen_at, expires_at";

/// The row in the current row of a statement that selected `limit_columns`. Throws
/// Error(storage) for a scope this library does not know.
LimitRecord read_limit(const Statement& row);

/// Binds ?1..?13 to `record`, in `limit_columns` order. `record` must outlive the binding.
void bind_limit(Statement& s, const LimitRecord& record);

/// The worker in the current row of a statement that selected `worker_columns`.
WorkerRecord read_worker(const Statement& row);

/// Binds ?1..?5 to `worker`, in `worker_columns` order; the queues go through `queues_json`,
/// which must outlive the binding.
void bind_worker(Statement& s, const WorkerRecord& worker, std::string& queues_json);

/// Whether a row sets any limit (a queue row without one exists only to keep a pause).
bool has_limits(const FlowLimits& limits) noexcept;

}  // namespace jobq::sqlite_detail
