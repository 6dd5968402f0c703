#include "jobq/cron_schedule.hpp"

#include <fmt/format.h>

#include "detail/name_check.hpp"
#include "jobq/backend/new_job.hpp"
#include "jobq/cron_expression.hpp"
#include "jobq/error.hpp"
#include "jobq/time_zone.hpp"

namespace jobq {

namespace {

// The tag "cron:<name>" must fit the name rule's 255 characters.
constexpr std::size_t max_schedule_name = detail::max_schedule_name_length;

[[noreturn]] void bad(const CronSchedule& s, std::string_view field, std::string_view why) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("schedule '{}': {}: {}", detail::printable(s.name), field, why),
                std::string(field));
}

// Re-raises an error from a part of the schedule with the schedule's name and the part's
// prefix ("job.", "misfire.") on the field.
[[noreturn]] void rethrow_in(const CronSchedule& s, const Error& e, std::string_view prefix) {
    std::string field = e.field();
    if (!prefix.empty() && !field.starts_with(prefix)) field = std::string(prefix) + field;
    std::string message = e.what();
    if (!prefix.empty() && !message.starts_with(prefix)) message = std::string(prefix) + message;
    throw Error(ErrorCode::invalid_argument, fmt::format("schedule '{}': {}", s.name, message),
                field);
}

}  // namespace

void CronSchedule::validate() const {
    // A schedule's jobs carry the tag "cron:<name>", so a name must be a valid tag: checked
    // here, when the schedule is added, rather than failing at every fire.
    if (auto why = detail::name_problem(name, max_schedule_name)) bad(*this, "name", *why);
    try {
        (void)CronExpression::parse(expression);
    } catch (const Error& e) {
        rethrow_in(*this, e, "");
    }
    try {
        (void)TimeZone::locate(zone);
    } catch (const Error& e) {
        rethrow_in(*this, e, "");
    }
    try {
        // As enqueue checks it, payload size included and with the tag the scheduler adds
        // (which may be the 101st), so a schedule that could never fire is refused now rather
        // than skipped at every window.
        JobSpec fired = job;
        fired.tag("cron:" + name);
        (void)to_new_job(fired, Timestamp{});
        // Serialising also rejects what cannot be stored (a custom retry policy).
        (void)job.to_json();
    } catch (const Error& e) {
        rethrow_in(*this, e, "job.");
    }
    if (job.run_at() || job.delay()) {
        bad(*this, job.run_at() ? "job.run_at" : "job.delay",
            "must not be set: each window's job runs at the window's fire time");
    }
    try {
        misfire.validate();
    } catch (const Error& e) {
        rethrow_in(*this, e, "");
    }
}

}  // namespace jobq
