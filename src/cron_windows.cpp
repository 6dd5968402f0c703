#include "jobq/cron_windows.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "jobq/time_format.hpp"

namespace jobq {

namespace {

constexpr Duration tick{1};  // the store's resolution: one microsecond

// The run of windows in (after, until] as one skipped entry, or nothing when there is none.
void skip_range(WindowPlan& plan, const CronExpression& e, const TimeZone& zone, Timestamp after,
                Timestamp until, std::string reason) {
    if (until <= after) return;
    const Timestamp first = e.next_after(after, zone);
    if (first > until) return;
    SkippedWindows s;
    s.first = first;
    s.last = e.latest_in(after, until, zone).value_or(first);
    s.count = e.count_in(after, until, zone, max_windows_counted);
    s.reason = std::move(reason);
    plan.skipped.push_back(std::move(s));
}

}  // namespace

WindowPlan plan_windows(const CronExpression& e, const TimeZone& zone, const MisfirePolicy& policy,
                        Timestamp cursor, Timestamp now) {
    WindowPlan plan;
    plan.cursor = cursor;
    if (now <= cursor || e.next_after(cursor, zone) > now) return plan;
    plan.cursor = e.latest_in(cursor, now, zone).value_or(cursor);

    // Windows at or after on_time_from are on time; the missed ones lie in (cursor, missed_until].
    const Timestamp on_time_from = now - policy.grace;
    const Timestamp missed_until = std::max(cursor, on_time_from - tick);
    std::vector<Timestamp> on_time;
    for (Timestamp t = e.next_after(missed_until, zone); t <= now; t = e.next_after(t, zone)) {
        on_time.push_back(t);
    }
    const std::optional<Timestamp> newest_missed = e.latest_in(cursor, missed_until, zone);
    if (!newest_missed) {
        plan.enqueue = std::move(on_time);
        return plan;
    }

    switch (policy.mode) {
        case MisfireMode::catch_up: {
            // Young enough: fired at or after now - max_age. Walk back from the newest missed
            // window, so the work is bounded by max_catch_up however many windows were missed.
            const Timestamp young_after = std::max(cursor, now - policy.max_age - tick);
            std::vector<Timestamp> kept;
            for (std::optional<Timestamp> t = e.latest_in(young_after, missed_until, zone);
                 t && static_cast<int>(kept.size()) < policy.max_catch_up;
                 t = e.latest_in(young_after, *t - tick, zone)) {
                kept.push_back(*t);
            }
            std::reverse(kept.begin(), kept.end());
            skip_range(plan, e, zone, cursor, young_after,
                       fmt::format("older than max_age {}", format_duration(policy.max_age)));
            if (!kept.empty()) {
                skip_range(
                    plan, e, zone, young_after, kept.front() - tick,
                    fmt::format("more than max_catch_up {} missed windows", policy.max_catch_up));
            }
            plan.enqueue = std::move(kept);
            break;
        }
        case MisfireMode::latest_only:
            if (!on_time.empty()) {
                skip_range(plan, e, zone, cursor, missed_until,
                           "latest_only: a newer window was on time");
            } else {
                skip_range(plan, e, zone, cursor, *newest_missed - tick,
                           "latest_only: a newer window was enqueued");
                plan.enqueue.push_back(*newest_missed);
            }
            break;
        case MisfireMode::skip:
            skip_range(plan, e, zone, cursor, missed_until,
                       fmt::format("misfire policy skip: missed by more than grace {}",
                                   format_duration(policy.grace)));
            break;
    }
    plan.enqueue.insert(plan.enqueue.end(), on_time.begin(), on_time.end());
    return plan;
}

}  // namespace jobq
