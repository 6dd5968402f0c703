#pragma once
// The records a Store keeps for cron schedules: the schedule with its cursor, and the history
// of its windows. Definitions travel as JSON text, so a backend stores them without parsing.

#include <cstdint>
#include <optional>
#include <string>

#include "jobq/clock.hpp"
#include "jobq/job.hpp"

namespace jobq {

/// A schedule as stored.
struct ScheduleRecord {
    std::string name;
    std::string expression;
    std::string zone;
    std::string job;        ///< the JobSpec template as JSON text (job_spec_to_json)
    std::string misfire;    ///< MisfirePolicy as JSON text
    bool declared = false;  ///< declared in code on a Scheduler (vs added at run time)
    bool paused = false;
    Timestamp cursor{};  ///< the newest window handled, or when the schedule was added
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
    Timestamp fire_at{};  ///< the window; for a skipped run, its first window
    WindowOutcome outcome = WindowOutcome::enqueued;
    std::optional<JobId> job_id;  ///< enqueued: the job
    Timestamp last_fire_at{};     ///< skipped: the run's last window (== fire_at for one)
    std::int64_t count = 1;       ///< skipped: windows in the run
    std::string reason;           ///< skipped: why, for operators
    Timestamp recorded_at{};

    friend bool operator==(const ScheduleRun&, const ScheduleRun&) = default;
};

}  // namespace jobq
