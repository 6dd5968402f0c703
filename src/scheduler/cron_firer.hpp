#pragma once
// CronFirer: the Scheduler's cron service. On its first pass it makes the store's declared
// schedules match the Scheduler's `cron` list (as `cron_sync` says); every pass then reads the
// stored schedules and, for each one not paused, enqueues a job per window that has come and
// records the windows a misfire policy skips. The store's fire_schedule reserves each window
// once, so several schedulers in several processes never enqueue the same window twice.
//
// The maths (next window, misfire plans) is in cron_expression.hpp and cron_windows.hpp; this
// only drives it. Blocking; one pass at a time (its own lock), on whatever thread calls it.
// Shares the Store, the clock and the Scheduler's options (cron, cron_sync, on_error).

#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "jobq/clock.hpp"
#include "jobq/cron_expression.hpp"
#include "jobq/job_spec.hpp"
#include "jobq/misfire_policy.hpp"
#include "jobq/schedule_record.hpp"
#include "jobq/scheduler.hpp"
#include "jobq/time_zone.hpp"

namespace jobq {
class Store;
}

namespace jobq::scheduler_detail {

class CronFirer {
  public:
    CronFirer(Store& store, const Clock& clock, const SchedulerOptions& options);

    /// One pass: syncs the declared schedules on the first one, then handles every window due
    /// by now. Fills MaintenanceReport::cron_enqueued and ::cron_skipped; `next_due` becomes
    /// the earliest window still to come (unset when no schedule has one).
    MaintenanceReport run_once(std::optional<Timestamp>& next_due);
    /// The same, without asking for the next window.
    MaintenanceReport run_once();

  private:
    // A stored schedule, parsed once and reused while its definition stays the same.
    struct ParsedSchedule {
        ScheduleRecord definition;  // only the definition fields are compared
        CronExpression expression;
        TimeZone zone;
        MisfirePolicy misfire;
        JobSpec job;
    };

    void sync_declared();
    const ParsedSchedule& parse(const ScheduleRecord& r);
    void fire_due(const ScheduleRecord& r, Timestamp now, MaintenanceReport& report,
                  std::optional<Timestamp>& next_due);

    Store& store_;
    const Clock& clock_;
    const SchedulerOptions& options_;
    std::mutex mutex_;  // one pass at a time: the loop, or a caller of Scheduler::cron_once()
    bool synced_ = false;
    std::map<std::string, ParsedSchedule, std::less<>> parsed_;
};

}  // namespace jobq::scheduler_detail
