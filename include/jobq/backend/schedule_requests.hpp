#pragma once
// For backend authors: the requests and answers of a Store's schedule methods (firing a
// schedule's windows exactly once, pause/resume, syncing the declared schedules).

#include <optional>
#include <string>
#include <vector>

#include "jobq/backend/new_job.hpp"
#include "jobq/clock.hpp"
#include "jobq/insert_result.hpp"
#include "jobq/schedule_record.hpp"

namespace jobq {

/// One window to enqueue.
struct WindowJob {
    Timestamp fire_at{};
    NewJob job;
};

/// The exactly-once step of a schedule: applied in one transaction only while the schedule
/// exists, is not paused and its cursor is still `expected_cursor`. Then every window in
/// `windows` whose fire_at is not yet in the history gets its job inserted (unique keys apply,
/// as in insert()) and an `enqueued` history entry; `skipped` entries are recorded (those whose
/// fire_at is already in the history are left out); the cursor becomes `new_cursor`.
/// updated_at is not touched: it tracks changes of the definition and of pause/resume.
struct FireRequest {
    std::string name;
    Timestamp expected_cursor{};
    Timestamp new_cursor{};
    std::vector<WindowJob> windows;  ///< oldest first
    std::vector<ScheduleRun> skipped;
    Timestamp now{};  ///< recorded_at of the history entries
};

/// What fire_schedule did.
struct FireResult {
    bool applied = false;  ///< false: another scheduler moved the cursor first, or the schedule
                           ///< was paused or removed; nothing was written
    std::vector<InsertResult> jobs;  ///< applied: one per window of the request, in order
                                     ///< (id 0 for a window that was already in the history)
};

/// Pause or resume one schedule.
struct PauseRequest {
    std::string name;
    bool paused = true;
    Timestamp now{};
    /// resume: the cursor to continue from (windows during the pause are not caught up)
    std::optional<Timestamp> resume_cursor;
    /// resume: the record of the windows that passed during the pause
    std::optional<ScheduleRun> skipped;
};

/// A schedule after a change, and whether the change did anything.
struct ScheduleChange {
    std::optional<ScheduleRecord> record;  ///< nullopt: no such schedule
    bool changed = false;
};

/// What syncing the declared schedules did.
struct ScheduleSync {
    int added = 0;
    int updated = 0;  ///< definition changed
    int removed = 0;  ///< declared earlier, no longer declared
    friend bool operator==(const ScheduleSync&, const ScheduleSync&) = default;
};

}  // namespace jobq
