#pragma once
// Which windows of a schedule to enqueue and which to skip, given its cursor and the time now:
// the misfire policy as a pure function.

#include <cstdint>
#include <string>
#include <vector>

#include "jobq/clock.hpp"
#include "jobq/cron_expression.hpp"
#include "jobq/misfire_policy.hpp"
#include "jobq/time_zone.hpp"

namespace jobq {

/// A run of consecutive windows that are not enqueued.
struct SkippedWindows {
    Timestamp first{};
    Timestamp last{};
    std::int64_t count = 0;  ///< capped at max_windows_counted
    std::string reason;
};

/// The decision for the windows in (cursor, now].
struct WindowPlan {
    std::vector<Timestamp> enqueue;       ///< oldest first
    std::vector<SkippedWindows> skipped;  ///< oldest first
    Timestamp cursor{};  ///< the newest window in (cursor, now]; the old cursor when none

    /// Whether any window was due.
    bool due() const noexcept { return !enqueue.empty() || !skipped.empty(); }
};

/// Skipped runs are counted up to this many windows (an every-second schedule down for a
/// month); the work of one plan is bounded by it.
inline constexpr std::int64_t max_windows_counted = 1'000'000;

/// Plans the windows of `expression` in `zone` that fell in (cursor, now] under `policy`.
/// Windows at most policy.grace old are on time and always enqueued. Missed (older) windows:
///  - catch_up: the newest policy.max_catch_up of those at most policy.max_age old are
///    enqueued; older ones are skipped ("older than max_age 1d"), and so are the excess
///    ("more than max_catch_up 100 missed windows");
///  - latest_only: when no window is on time, the newest missed one is enqueued; the others
///    are skipped ("latest_only: a newer window was enqueued");
///  - skip: all are skipped ("misfire policy skip").
WindowPlan plan_windows(const CronExpression& expression, const TimeZone& zone,
                        const MisfirePolicy& policy, Timestamp cursor, Timestamp now);

}  // namespace jobq
