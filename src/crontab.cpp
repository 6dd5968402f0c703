#include "jobq/crontab.hpp"

#include <fmt/format.h>

#include "detail/name_check.hpp"
#include "jobq/backend/store.hpp"
#include "jobq/cron_expression.hpp"
#include "jobq/cron_windows.hpp"
#include "jobq/error.hpp"
#include "jobq/time_zone.hpp"

namespace jobq {

namespace {

[[noreturn]] void missing(std::string_view name) {
    throw Error(ErrorCode::not_found, fmt::format("no schedule named '{}'", name), "name");
}

ScheduleRecord existing(Store& store, std::string_view name) {
    std::optional<ScheduleRecord> r = store.schedule(name);
    if (!r) missing(name);
    return *r;
}

// A name no schedule can have is bad input, not "no such schedule": the same rules as add.
void check_name(std::string_view name) {
    detail::check_name("name", name, detail::max_schedule_name_length);
}

}  // namespace

Crontab::Crontab(Store& store, const Clock& clock) : store_(store), clock_(clock) {}

ScheduleInfo Crontab::to_info(const ScheduleRecord& r) {
    const auto parse = [&](const std::string& text, const char* what) {
        nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
        if (j.is_discarded()) {
            throw Error(
                ErrorCode::storage,
                fmt::format("schedule '{}': the stored {} is not JSON: {}", r.name, what, text));
        }
        return j;
    };
    ScheduleInfo info{CronSchedule{r.name, r.expression, JobSpec::from_json(parse(r.job, "job")),
                                   r.zone,
                                   MisfirePolicy::from_json(parse(r.misfire, "misfire policy"))}};
    info.declared = r.declared;
    info.paused = r.paused;
    info.cursor = r.cursor;
    info.created_at = r.created_at;
    info.updated_at = r.updated_at;
    if (!r.paused) {
        info.next_fire_at =
            CronExpression::parse(r.expression).next_after(r.cursor, TimeZone::locate(r.zone));
    }
    return info;
}

ScheduleRecord Crontab::to_record(const CronSchedule& s, bool declared, Timestamp now) {
    ScheduleRecord r;
    r.name = s.name;
    r.expression = s.expression;
    r.zone = s.zone;
    r.job = s.job.to_json().dump();
    r.misfire = s.misfire.to_json().dump();
    r.declared = declared;
    r.cursor = now;
    r.created_at = now;
    r.updated_at = now;
    return r;
}

ScheduleInfo Crontab::add(const CronSchedule& schedule) {
    schedule.validate();
    const ScheduleRecord r = to_record(schedule, false, clock_.now());
    if (!store_.add_schedule(r)) {
        throw Error(ErrorCode::invalid_state,
                    fmt::format("a schedule named '{}' already exists", schedule.name), "name");
    }
    return to_info(r);
}

ScheduleInfo Crontab::update(const CronSchedule& schedule) {
    schedule.validate();
    if (existing(store_, schedule.name).declared) {
        throw Error(ErrorCode::invalid_state,
                    fmt::format("schedule '{}' is declared in code; change it there (the next "
                                "scheduler start would undo this update)",
                                schedule.name),
                    "name");
    }
    if (!store_.update_schedule(to_record(schedule, false, clock_.now()))) missing(schedule.name);
    return to_info(existing(store_, schedule.name));
}

void Crontab::remove(std::string_view name) {
    check_name(name);
    if (!store_.remove_schedule(name)) missing(name);
}

ScheduleInfo Crontab::pause(std::string_view name) {
    check_name(name);
    const ScheduleChange c =
        store_.set_schedule_paused({std::string(name), true, clock_.now(), {}, {}});
    if (!c.record) missing(name);
    return to_info(*c.record);
}

ScheduleInfo Crontab::resume(std::string_view name) {
    check_name(name);
    const ScheduleRecord r = existing(store_, name);
    if (!r.paused) return to_info(r);
    const Timestamp now = clock_.now();
    PauseRequest request{std::string(name), false, now, now, std::nullopt};
    // The windows that passed while paused are recorded as skipped, not caught up: a pause is
    // an operator's decision, not an outage.
    const CronExpression expression = CronExpression::parse(r.expression);
    const TimeZone zone = TimeZone::locate(r.zone);
    if (const std::optional<Timestamp> last = expression.latest_in(r.cursor, now, zone)) {
        ScheduleRun skipped;
        skipped.schedule = r.name;
        skipped.fire_at = expression.next_after(r.cursor, zone);
        skipped.outcome = WindowOutcome::skipped;
        skipped.last_fire_at = *last;
        skipped.count = expression.count_in(r.cursor, now, zone, max_windows_counted);
        skipped.reason = "paused";
        skipped.recorded_at = now;
        request.skipped = std::move(skipped);
    }
    const ScheduleChange c = store_.set_schedule_paused(request);
    if (!c.record) missing(name);
    return to_info(*c.record);
}

std::vector<ScheduleInfo> Crontab::list() {
    std::vector<ScheduleInfo> out;
    for (const ScheduleRecord& r : store_.schedules()) out.push_back(to_info(r));
    return out;
}

std::optional<ScheduleInfo> Crontab::get(std::string_view name) {
    check_name(name);
    const std::optional<ScheduleRecord> r = store_.schedule(name);
    if (!r) return std::nullopt;
    return to_info(*r);
}

std::vector<ScheduleRun> Crontab::history(std::string_view name, int limit) {
    check_name(name);
    if (limit < 1) {
        throw Error(ErrorCode::invalid_argument,
                    fmt::format("limit: must be at least 1 (got {})", limit), "limit");
    }
    return store_.schedule_runs(name, limit);
}

}  // namespace jobq
