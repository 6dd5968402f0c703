#include "schedule_row.hpp"

#include <fmt/format.h>

#include "jobq/error.hpp"

namespace jobq::sqlite_detail {

std::string_view to_string(WindowOutcome outcome) noexcept {
    switch (outcome) {
        case WindowOutcome::enqueued:
            return "enqueued";
        case WindowOutcome::skipped:
            return "skipped";
    }
    return "enqueued";
}

ScheduleRecord read_schedule(const Statement& row) {
    ScheduleRecord r;
    r.name = row.text(0);
    r.expression = row.text(1);
    r.zone = row.text(2);
    r.job = row.text(3);
    r.misfire = row.text(4);
    r.declared = row.int64(5) != 0;
    r.paused = row.int64(6) != 0;
    r.cursor = row.timestamp(7);
    r.created_at = row.timestamp(8);
    r.updated_at = row.timestamp(9);
    return r;
}

ScheduleRun read_schedule_run(const Statement& row) {
    ScheduleRun r;
    r.schedule = row.text(0);
    r.fire_at = row.timestamp(1);
    const std::string_view outcome = row.text(2);
    if (outcome == "enqueued") {
        r.outcome = WindowOutcome::enqueued;
    } else if (outcome == "skipped") {
        r.outcome = WindowOutcome::skipped;
    } else {
        // The table's CHECK keeps this out; a file edited by hand or by a newer jobq may not.
        throw Error(ErrorCode::storage, fmt::format("schedule '{}': unknown history outcome '{}'",
                                                    r.schedule, outcome));
    }
    if (!row.is_null(3)) r.job_id = row.int64(3);
    r.last_fire_at = row.timestamp(4);
    r.count = row.int64(5);
    r.reason = row.text(6);
    r.recorded_at = row.timestamp(7);
    return r;
}

}  // namespace jobq::sqlite_detail
