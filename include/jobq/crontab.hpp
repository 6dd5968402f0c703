#pragma once
// Crontab: the schedules in a store, managed at run time — add, update, remove, pause, resume,
// list, history. Every Scheduler on the store fires them; a change is picked up within one
// cron interval (1 s by default) by every scheduler process.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "jobq/clock.hpp"
#include "jobq/cron_schedule.hpp"
#include "jobq/schedule_record.hpp"

namespace jobq {

class Store;

/// A stored schedule with its state, as Crontab lists it.
struct ScheduleInfo {
    CronSchedule schedule;
    bool declared = false;  ///< declared in code on a Scheduler; change it there
    bool paused = false;
    Timestamp cursor{};  ///< the newest window handled, or when the schedule was added
    std::optional<Timestamp> next_fire_at;  ///< the next window; nullopt while paused
    Timestamp created_at{};
    Timestamp updated_at{};
};

/// Client of a Store's schedules. Cheap to create; the store must outlive it. Blocking.
class Crontab {
  public:
    explicit Crontab(Store& store, const Clock& clock = system_clock());

    /// Adds a schedule; its first window is the first fire time after now. Throws
    /// Error(invalid_argument) naming the bad field, or Error(invalid_state) when the name is
    /// taken; writes nothing then.
    ScheduleInfo add(const CronSchedule& schedule);
    /// Replaces a run-time schedule's definition; windows already handled stay handled. Throws
    /// invalid_argument, not_found, or invalid_state for a schedule declared in code.
    ScheduleInfo update(const CronSchedule& schedule);
    /// Deletes a schedule and its history. A schedule declared in code comes back at the next
    /// start of a scheduler that declares it: remove it from the code. Throws not_found.
    void remove(std::string_view name);
    /// Stops firing a schedule (declared ones too); persisted. Returns the schedule; pausing
    /// a paused schedule changes nothing. Throws not_found.
    ScheduleInfo pause(std::string_view name);
    /// Fires a paused schedule again from the next window after now; the windows that passed
    /// while it was paused are recorded as skipped, not caught up. Throws not_found.
    ScheduleInfo resume(std::string_view name);
    /// Every schedule, by name.
    std::vector<ScheduleInfo> list();
    /// One schedule, or nullopt.
    std::optional<ScheduleInfo> get(std::string_view name);
    /// The newest `limit` history entries of a schedule: windows enqueued and skipped.
    std::vector<ScheduleRun> history(std::string_view name, int limit = 50);

    /// A stored record as the public view (definition parsed, next window computed).
    static ScheduleInfo to_info(const ScheduleRecord& record);
    /// A validated definition as a record to store (declared, cursor and times as given).
    static ScheduleRecord to_record(const CronSchedule& schedule, bool declared, Timestamp now);

  private:
    Store& store_;
    const Clock& clock_;
};

}  // namespace jobq
