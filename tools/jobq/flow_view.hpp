#pragma once
// Text and JSON renderings of flow control — limit rows and queues with their limits, pause
// and workers — shared by the `queue` and `limit` commands.

#include <ostream>
#include <span>
#include <string>

#include <nlohmann/json.hpp>

#include "jobq/flow_control.hpp"
#include "jobq/limit_record.hpp"
#include "jobq/rate_limit.hpp"

namespace jobq::cli {

/// "50/s", or "50/s burst 100" when the bucket is not the rate's own size.
std::string rate_text(const RateLimit& rate);

/// The limits a scope sets, in the words of the options that set them ("max running 3, rate
/// 50/s"), or "no limits".
std::string limits_summary(const LimitScope& scope, const FlowLimits& limits);

/// One row: {"scope", "type", "name", "paused", "max_running", "rate", "burst", "max_queued",
/// "weight", "running", "tokens", "updated_at"}; unset limits are null, tokens are refilled to
/// `now`.
nlohmann::json limit_to_json(const LimitRecord& record, Timestamp now);

/// One line per row: scope, pause, limits and the running count.
void print_limit_table(std::ostream& out, std::span<const LimitRecord> records);

/// {"queue", "paused", "limits" (a limit_to_json row or null), "counts": {state: n},
/// "workers": n, "worker_ids": [...]}.
nlohmann::json queue_to_json(const QueueInfo& queue, Timestamp now);

/// One line per queue: state, cap, rate, the counts that matter for flow and live workers.
void print_queue_table(std::ostream& out, std::span<const QueueInfo> queues);

}  // namespace jobq::cli
