// CronFirer (cron_firer.hpp): declared schedules synced once, then each due window enqueued
// (or recorded as skipped) exactly once across processes.

#include "cron_firer.hpp"

#include <set>
#include <vector>

#include <fmt/format.h>

#include "jobq/backend/new_job.hpp"
#include "jobq/backend/schedule_requests.hpp"
#include "jobq/backend/store.hpp"
#include "jobq/cron_windows.hpp"
#include "jobq/crontab.hpp"
#include "jobq/error.hpp"

namespace jobq::scheduler_detail {

namespace {

bool same_definition(const ScheduleRecord& a, const ScheduleRecord& b) {
    return a.expression == b.expression && a.zone == b.zone && a.job == b.job &&
           a.misfire == b.misfire;
}

}  // namespace

CronFirer::CronFirer(Store& store, const Clock& clock, const SchedulerOptions& options)
    : store_(store), clock_(clock), options_(options) {}

MaintenanceReport CronFirer::run_once() {
    std::optional<Timestamp> next_due;
    return run_once(next_due);
}

MaintenanceReport CronFirer::run_once(std::optional<Timestamp>& next_due) {
    std::lock_guard lock(mutex_);
    MaintenanceReport report;
    if (!synced_) {
        sync_declared();
        synced_ = true;
    }
    const Timestamp now = clock_.now();
    std::set<std::string, std::less<>> present;
    for (const ScheduleRecord& r : store_.schedules()) {
        present.insert(r.name);
        if (r.paused) continue;
        try {
            fire_due(r, now, report, next_due);
        } catch (const Error& e) {
            if (e.code() != ErrorCode::invalid_argument) throw;
            // One unreadable schedule (edited by hand, written by a newer version) must not
            // stop the others.
            options_.on_error(fmt::format("cron: schedule '{}' skipped: {}", r.name, e.what()));
        }
    }
    std::erase_if(parsed_, [&](const auto& entry) { return !present.contains(entry.first); });
    return report;
}

void CronFirer::sync_declared() {
    const bool sync = options_.cron_sync == CronSync::always ||
                      (options_.cron_sync == CronSync::when_declared && !options_.cron.empty());
    if (!sync) return;
    const Timestamp now = clock_.now();
    std::vector<ScheduleRecord> declared;
    for (const CronSchedule& c : options_.cron)
        declared.push_back(Crontab::to_record(c, true, now));
    store_.sync_declared_schedules(declared, now);
}

const CronFirer::ParsedSchedule& CronFirer::parse(const ScheduleRecord& r) {
    auto it = parsed_.find(r.name);
    if (it != parsed_.end() && same_definition(it->second.definition, r)) return it->second;
    const ScheduleInfo info = Crontab::to_info(r);
    ParsedSchedule p{r, CronExpression::parse(r.expression), TimeZone::locate(r.zone),
                     info.schedule.misfire, info.schedule.job};
    return parsed_.insert_or_assign(r.name, std::move(p)).first->second;
}

void CronFirer::fire_due(const ScheduleRecord& r, Timestamp now, MaintenanceReport& report,
                         std::optional<Timestamp>& next_due) {
    const ParsedSchedule& p = parse(r);
    const WindowPlan plan = plan_windows(p.expression, p.zone, p.misfire, r.cursor, now);
    if (plan.due()) {
        FireRequest request;
        request.name = r.name;
        request.expected_cursor = r.cursor;
        request.new_cursor = plan.cursor;
        request.now = now;
        for (Timestamp fire_at : plan.enqueue) {
            JobSpec spec = p.job;
            spec.run_at(fire_at).tag("cron:" + r.name);
            request.windows.push_back(WindowJob{fire_at, to_new_job(spec, now)});
        }
        std::int64_t skipped = 0;
        for (const SkippedWindows& s : plan.skipped) {
            request.skipped.push_back(ScheduleRun{r.name, s.first, WindowOutcome::skipped,
                                                  std::nullopt, s.last, s.count, s.reason, now});
            skipped += s.count;
        }
        // Not applied: another scheduler handled these windows first. Either way they are
        // handled, and the next window follows the newest of them.
        if (store_.fire_schedule(request).applied) {
            report.cron_enqueued += static_cast<std::int64_t>(plan.enqueue.size());
            report.cron_skipped += skipped;
        }
    }
    const Timestamp next = p.expression.next_after(plan.cursor, p.zone);
    if (!next_due || next < *next_due) next_due = next;
}

}  // namespace jobq::scheduler_detail
