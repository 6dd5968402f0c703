// Cron end to end in one process on a real SQLite file with a manual clock: declared schedules
// synced at start, windows missed while nothing ran reconciled by each misfire policy, run-time
// schedules through Crontab, and the scheduler's own loop firing on time.

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "harness.hpp"
#include "jobq/crontab.hpp"
#include "jobq/error.hpp"

using namespace std::chrono_literals;
using jobq::CronSchedule;
using jobq::Crontab;
using jobq::JobSpec;
using jobq::MisfireMode;
using jobq::Scheduler;
using jobq::SchedulerOptions;
using jobq::Timestamp;
using jobq::WindowOutcome;
using jobq::test::Harness;

namespace {

// A fixed start on a whole hour, so minute and hour windows fall at known offsets from it.
Timestamp on_the_hour() {
    using namespace std::chrono;
    return Timestamp{sys_days{year{2026} / November / day{22}}} + hours{9};
}

CronSchedule minutely(std::string name = "tick", MisfireMode mode = MisfireMode::catch_up) {
    CronSchedule s{std::move(name), "* * * * *", JobSpec{"tick"}.queue("cron")};
    s.misfire.mode = mode;
    return s;
}

SchedulerOptions cron_options(Harness& h, std::vector<CronSchedule> cron) {
    SchedulerOptions o;
    o.cron = std::move(cron);
    o.clock = &h.clock;
    return o;
}

// The jobs a schedule enqueued, by window (run_at), oldest first.
std::vector<Timestamp> windows_of(Harness& h, const std::string& name) {
    jobq::JobFilter filter;
    filter.limit = 10000;
    std::vector<Timestamp> out;
    for (const jobq::Job& j : h.store.list(filter).jobs) {
        if (std::find(j.tags.begin(), j.tags.end(), "cron:" + name) != j.tags.end())
            out.push_back(j.run_at);
    }
    std::sort(out.begin(), out.end());
    return out;
}

template <class F>
jobq::ErrorCode code_of(F&& f) {
    try {
        f();
    } catch (const jobq::Error& e) {
        return e.code();
    }
    FAIL("expected a jobq::Error");
    return jobq::ErrorCode::storage;
}

}  // namespace

TEST_SUITE_BEGIN("cron");

TEST_CASE("a declared schedule is stored at start and fires each window once") {
    Harness h;
    h.clock.set(on_the_hour());
    const Timestamp start = h.clock.now();
    Scheduler scheduler(h.io.get_executor(), h.store, cron_options(h, {minutely()}));
    CHECK(scheduler.cron_once().cron_enqueued == 0);  // the first window is the next minute

    const std::optional<jobq::ScheduleInfo> info = Crontab{h.store, h.clock}.get("tick");
    REQUIRE(info.has_value());
    CHECK(info->declared);
    CHECK(info->cursor == start);
    CHECK(info->next_fire_at == start + 1min);

    h.clock.advance(1min);
    CHECK(scheduler.cron_once().cron_enqueued == 1);
    CHECK(scheduler.cron_once().cron_enqueued == 0);  // the same window again: nothing
    REQUIRE(windows_of(h, "tick") == std::vector<Timestamp>{start + 1min});

    const jobq::Job job = h.store.list({}).jobs.at(0);
    CHECK(job.kind == "tick");
    CHECK(job.queue == "cron");
    CHECK(job.state == jobq::JobState::available);
    const std::vector<jobq::ScheduleRun> runs = Crontab{h.store}.history("tick");
    REQUIRE(runs.size() == 1);
    CHECK(runs[0].outcome == WindowOutcome::enqueued);
    CHECK(runs[0].job_id == job.id);
}

TEST_CASE("catch_up enqueues the windows missed while no scheduler ran") {
    Harness h;
    h.clock.set(on_the_hour());
    const Timestamp start = h.clock.now();
    Scheduler(h.io.get_executor(), h.store, cron_options(h, {minutely()})).cron_once();

    h.clock.advance(5min + 30s);  // nothing ran: five windows passed, the newest within grace
    Scheduler restarted(h.io.get_executor(), h.store, cron_options(h, {minutely()}));
    const jobq::MaintenanceReport report = restarted.cron_once();
    CHECK(report.cron_enqueued == 5);
    CHECK(report.cron_skipped == 0);
    CHECK(windows_of(h, "tick") == std::vector<Timestamp>{start + 1min, start + 2min, start + 3min,
                                                          start + 4min, start + 5min});
}

TEST_CASE("latest_only enqueues the newest missed window and records the others as skipped") {
    Harness h;
    h.clock.set(on_the_hour());
    const Timestamp start = h.clock.now();
    Scheduler(h.io.get_executor(), h.store,
              cron_options(h, {minutely("tick", MisfireMode::latest_only)}))
        .cron_once();

    h.clock.advance(15min + 30s);  // the 15th window is on time, the 14 before it were missed
    Scheduler restarted(h.io.get_executor(), h.store,
                        cron_options(h, {minutely("tick", MisfireMode::latest_only)}));
    const jobq::MaintenanceReport report = restarted.cron_once();
    CHECK(report.cron_enqueued == 1);
    CHECK(report.cron_skipped == 14);
    CHECK(windows_of(h, "tick") == std::vector<Timestamp>{start + 15min});

    const std::vector<jobq::ScheduleRun> runs = Crontab{h.store}.history("tick");
    REQUIRE(runs.size() == 2);
    CHECK(runs[0].outcome == WindowOutcome::enqueued);
    CHECK(runs[1].outcome == WindowOutcome::skipped);
    CHECK(runs[1].fire_at == start + 1min);
    CHECK(runs[1].last_fire_at == start + 14min);
    CHECK(runs[1].count == 14);
    CHECK(runs[1].reason.find("latest_only") != std::string::npos);
}

TEST_CASE("skip enqueues no missed window and records why") {
    Harness h;
    h.clock.set(on_the_hour());
    const auto skipping = [&] {
        return cron_options(h, {minutely("tick", MisfireMode::skip)});
    };
    Scheduler(h.io.get_executor(), h.store, skipping()).cron_once();
    h.clock.advance(15min + 30s);
    Scheduler restarted(h.io.get_executor(), h.store, skipping());
    const jobq::MaintenanceReport report = restarted.cron_once();
    CHECK(report.cron_enqueued == 1);  // the on-time window only
    CHECK(report.cron_skipped == 14);
    CHECK(windows_of(h, "tick") == std::vector<Timestamp>{on_the_hour() + 15min});
    const std::vector<jobq::ScheduleRun> runs = Crontab{h.store}.history("tick");
    REQUIRE(runs.size() == 2);
    CHECK(runs[0].outcome == WindowOutcome::enqueued);
    CHECK(runs[1].outcome == WindowOutcome::skipped);
    CHECK(runs[1].count == 14);
    CHECK(runs[1].reason.find("misfire policy skip") != std::string::npos);

    // Windows from now on fire normally.
    h.clock.advance(1min);
    CHECK(restarted.cron_once().cron_enqueued == 1);
}

TEST_CASE("a schedule removed from the code is removed at the next start") {
    Harness h;
    Scheduler(h.io.get_executor(), h.store, cron_options(h, {minutely("a"), minutely("b")}))
        .cron_once();
    CHECK(Crontab{h.store}.list().size() == 2);

    Scheduler(h.io.get_executor(), h.store, cron_options(h, {minutely("a")})).cron_once();
    const std::vector<jobq::ScheduleInfo> left = Crontab{h.store}.list();
    REQUIRE(left.size() == 1);
    CHECK(left[0].schedule.name == "a");
}

TEST_CASE("a scheduler that declares nothing leaves declared schedules alone unless told to sync") {
    Harness h;
    Scheduler(h.io.get_executor(), h.store, cron_options(h, {minutely("a")})).cron_once();
    Scheduler(h.io.get_executor(), h.store, cron_options(h, {})).cron_once();
    CHECK(Crontab{h.store}.list().size() == 1);

    SchedulerOptions never = cron_options(h, {minutely("b")});
    never.cron_sync = jobq::CronSync::never;
    Scheduler(h.io.get_executor(), h.store, never).cron_once();
    CHECK_FALSE(Crontab{h.store}.get("b").has_value());

    SchedulerOptions always = cron_options(h, {});
    always.cron_sync = jobq::CronSync::always;
    Scheduler(h.io.get_executor(), h.store, always).cron_once();
    CHECK(Crontab{h.store}.list().empty());
}

TEST_CASE("a changed declaration keeps the cursor: no window is repeated or lost") {
    Harness h;
    h.clock.set(on_the_hour());
    const Timestamp start = h.clock.now();
    Scheduler(h.io.get_executor(), h.store, cron_options(h, {minutely()})).cron_once();
    h.clock.advance(1min);
    Scheduler(h.io.get_executor(), h.store, cron_options(h, {minutely()})).cron_once();

    CronSchedule changed = minutely();
    changed.expression = "*/2 * * * *";
    h.clock.advance(3min);
    Scheduler redeployed(h.io.get_executor(), h.store, cron_options(h, {changed}));
    redeployed.cron_once();
    CHECK(Crontab{h.store}.get("tick")->schedule.expression == "*/2 * * * *");
    CHECK(windows_of(h, "tick") ==
          std::vector<Timestamp>{start + 1min, start + 2min, start + 4min});
}

TEST_CASE("schedulers on two connections to one file fire each window once") {
    Harness h;
    h.clock.set(on_the_hour());
    const Timestamp start = h.clock.now();
    jobq::SqliteStore second{h.store.path()};
    Scheduler a(h.io.get_executor(), h.store, cron_options(h, {minutely()}));
    Scheduler b(h.io.get_executor(), second, cron_options(h, {minutely()}));
    a.cron_once();
    b.cron_once();
    std::vector<Timestamp> expected;
    for (int i = 1; i <= 20; ++i) {
        h.clock.advance(1min);
        expected.push_back(start + i * 1min);
        const std::int64_t n =
            (i % 2 ? a : b).cron_once().cron_enqueued + (i % 2 ? b : a).cron_once().cron_enqueued;
        CHECK(n == 1);
    }
    CHECK(windows_of(h, "tick") == expected);
}

TEST_CASE("a bad declared schedule or a name declared twice is rejected at construction") {
    Harness h;
    CronSchedule bad = minutely();
    bad.expression = "* * *";
    CHECK(code_of([&] { Scheduler(h.io.get_executor(), h.store, cron_options(h, {bad})); }) ==
          jobq::ErrorCode::invalid_argument);
    CHECK(code_of([&] {
              Scheduler(h.io.get_executor(), h.store, cron_options(h, {minutely(), minutely()}));
          }) == jobq::ErrorCode::invalid_argument);
    CHECK(Crontab{h.store}.list().empty());
}

// ---- run-time schedules --------------------------------------------------------------------

TEST_CASE("a schedule added at run time fires from the next window after it was added") {
    Harness h;
    h.clock.set(on_the_hour() + 10s);
    Crontab crontab{h.store, h.clock};
    const jobq::ScheduleInfo added = crontab.add(minutely("runtime"));
    CHECK_FALSE(added.declared);
    CHECK(added.next_fire_at == on_the_hour() + 1min);

    Scheduler scheduler(h.io.get_executor(), h.store, cron_options(h, {}));
    h.clock.advance(50s);
    CHECK(scheduler.cron_once().cron_enqueued == 1);
    CHECK(windows_of(h, "runtime") == std::vector<Timestamp>{on_the_hour() + 1min});
}

TEST_CASE("a paused schedule fires nothing and resumes without catching up the pause") {
    Harness h;
    h.clock.set(on_the_hour());
    const Timestamp start = h.clock.now();
    Crontab crontab{h.store, h.clock};
    crontab.add(minutely());
    Scheduler scheduler(h.io.get_executor(), h.store, cron_options(h, {}));

    const jobq::ScheduleInfo paused = crontab.pause("tick");
    CHECK(paused.paused);
    CHECK_FALSE(paused.next_fire_at.has_value());
    h.clock.advance(10min + 30s);
    CHECK(scheduler.cron_once().cron_enqueued == 0);

    const jobq::ScheduleInfo resumed = crontab.resume("tick");
    CHECK_FALSE(resumed.paused);
    CHECK(resumed.next_fire_at == start + 11min);
    CHECK(scheduler.cron_once().cron_enqueued == 0);
    h.clock.advance(30s);
    CHECK(scheduler.cron_once().cron_enqueued == 1);
    CHECK(windows_of(h, "tick") == std::vector<Timestamp>{start + 11min});

    const std::vector<jobq::ScheduleRun> runs = crontab.history("tick");
    REQUIRE(runs.size() == 2);
    CHECK(runs[1].outcome == WindowOutcome::skipped);
    CHECK(runs[1].reason == "paused");
    CHECK(runs[1].count == 10);
}

TEST_CASE("update changes a run-time schedule and remove stops it") {
    Harness h;
    h.clock.set(on_the_hour());
    const Timestamp start = h.clock.now();
    Crontab crontab{h.store, h.clock};
    crontab.add(minutely());
    Scheduler scheduler(h.io.get_executor(), h.store, cron_options(h, {}));

    CronSchedule hourly = minutely();
    hourly.expression = "0 * * * *";
    CHECK(crontab.update(hourly).next_fire_at == start + 1h);
    h.clock.advance(30min);
    CHECK(scheduler.cron_once().cron_enqueued == 0);

    crontab.remove("tick");
    h.clock.advance(1h);
    CHECK(scheduler.cron_once().cron_enqueued == 0);
    CHECK(crontab.list().empty());
    CHECK(windows_of(h, "tick").empty());
}

TEST_CASE("Crontab refuses what it cannot do with a specific error and writes nothing") {
    Harness h;
    Crontab crontab{h.store, h.clock};
    crontab.add(minutely("taken"));
    CHECK(code_of([&] { crontab.add(minutely("taken")); }) == jobq::ErrorCode::invalid_state);
    CHECK(code_of([&] { crontab.update(minutely("ghost")); }) == jobq::ErrorCode::not_found);
    CHECK(code_of([&] { crontab.remove("ghost"); }) == jobq::ErrorCode::not_found);
    CHECK(code_of([&] { crontab.pause("ghost"); }) == jobq::ErrorCode::not_found);
    CHECK(code_of([&] { crontab.resume("ghost"); }) == jobq::ErrorCode::not_found);
    CronSchedule bad = minutely("bad");
    bad.zone = "Nowhere/Special";
    CHECK(code_of([&] { crontab.add(bad); }) == jobq::ErrorCode::invalid_argument);

    Scheduler(h.io.get_executor(), h.store, cron_options(h, {minutely("declared")})).cron_once();
    CHECK(code_of([&] { crontab.update(minutely("declared")); }) == jobq::ErrorCode::invalid_state);
    CHECK(crontab.list().size() == 2);
}

TEST_CASE("the running scheduler fires a window once its time comes") {
    Harness h;
    h.clock.set(on_the_hour());
    SchedulerOptions options = cron_options(h, {minutely()});
    options.cron_interval = 5ms;  // the manual clock jumps; the loop must look again soon
    Scheduler scheduler(h.io.get_executor(), h.store, options);
    scheduler.start();
    h.wait_until([&] { return Crontab{h.store}.get("tick").has_value(); }, "the declared schedule");
    h.clock.advance(1min);
    h.wait_until([&] { return windows_of(h, "tick").size() == 1; }, "the first window's job");
    scheduler.stop();
    CHECK(windows_of(h, "tick") == std::vector<Timestamp>{on_the_hour() + 1min});
}

TEST_SUITE_END();
