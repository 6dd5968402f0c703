#pragma once
// The records a Store keeps for cron schedules: the schedule with its cursor, and the history
// of its windows. Definitions travel as JSON text, so a backend stores them without parsing.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "jobq/clock.hpp"
#include "jobq/job.hpp"
#include "jobq/new_job.hpp"

namespace jobq {

/// A schedule as stored.
struct ScheduleRecord {
    std::string name;
    std::string expression;
    std::string zone;
    std::string job;      ///< the JobSpec template as JSON text (job_spec_to_json)
    std::string misfire;  ///< MisfirePolicy as JSON text
    bool declared = false;  ///< declared in code on a Scheduler (vs added at run time)
    bool paused = false;
    Timestamp cursor{};     ///< the newest window handled, or when the schedule was added
    Timestamp created_at{};
    Timestamp updated_at{};

    friend bool operator==(const ScheduleRecord&, const ScheduleRecord&) = default;
};

/// What happened to a window (or a run of skipped windows) of a schedule.
enum class WindowOutcome {
    enqueued,  ///< a job was inserted (or coalesced by its unique key into an existing one)
    skipped,   ///< not enqueued, by the misfire policy or a pause; see reason
};

/// One entry of a schedule's history. The store keeps at most one entry per (schedule,
/// fire_at): that is what makes a window fire once.
struct ScheduleRun {
    std::string schedule;
    Timestamp fire_at{};       ///< the window; for a skipped run, its first window
    WindowOutcome outcome = WindowOutcome::enqueued;
    std::optional<JobId> job_id;  ///< enqueued: the job
    Timestamp last_fire_at{};  ///< skipped: the run's last window (== fire_at for one)
    std::int64_t count = 1;    ///< skipped: windows in the run
    std::string reason;        ///< skipped: why, for operators
    Timestamp recorded_at{};

    friend bool operator==(const ScheduleRun&, const ScheduleRun&) = default;
};

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
    Timestamp now{};                 ///< recorded_at of the history entries
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
