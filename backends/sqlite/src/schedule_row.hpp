#pragma once
// The cron tables' rows as C++ sees them: the column lists the schedule queries select and the
// conversion of such rows into ScheduleRecord and ScheduleRun.

#include <string_view>

#include "connection.hpp"
#include "jobq/schedule_record.hpp"

namespace jobq::sqlite_detail {

/// Every column of jobq_schedules, in the order read_schedule() expects.
inline constexpr std::string_view schedule_columns =
    "name, expression, zone, job, misfire, declared, paused, cursor, created_at, updated_at";

/// Every column of jobq_schedule_runs, in the order read_schedule_run() expects.
inline constexpr std::string_view schedule_run_columns =
    "schedule, fire_at, outcome, job_id, last_fire_at, count, reason, recorded_at";

/// The outcome column's spelling ("enqueued", "skipped").
std::string_view to_string(WindowOutcome outcome) noexcept;

/// The schedule in the current row of a statement that selected `schedule_columns`.
ScheduleRecord read_schedule(const Statement& row);

/// The history entry in the current row of a statement that selected `schedule_run_columns`.
/// Throws Error(storage) for an outcome this library does not know.
ScheduleRun read_schedule_run(const Statement& row);

}  // namespace jobq::sqlite_detail
