#pragma once
// CronSchedule: a named cron expression in a time zone that enqueues a job at each window.

#include <string>

#include "jobq/job_spec.hpp"
#include "jobq/misfire_policy.hpp"

namespace jobq {

/// The definition of a schedule, as declared on a Scheduler or added through a Crontab:
///   {"nightly", "0 3 * * *", JobSpec{"report.build"}, "Europe/Berlin"}
/// Each window's job is `job` with run_at set to the window's fire time (so a handler reads
/// its window from Job::run_at) and the tag "cron:<name>" added.
struct CronSchedule {
    std::string name;          ///< unique in the store; a name of 1..250 characters (README)
    std::string expression;    ///< see CronExpression
    JobSpec job;               ///< the job each window enqueues; must not set run_at or delay
    std::string zone = "UTC";  ///< IANA time zone the expression reads wall-clock time in
    MisfirePolicy misfire{};

    /// Throws Error(invalid_argument) naming the first bad field ("name", "expression",
    /// "zone", "job.priority", "misfire.grace", ...), with the schedule's name in the message.
    void validate() const;
};

}  // namespace jobq
