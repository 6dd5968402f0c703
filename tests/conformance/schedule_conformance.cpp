// The Store contract for cron schedules: records, pause/resume, syncing the declared set, the
// exactly-once fire step and the history. Like store_conformance.cpp, written only against
// jobq::Store; every time is explicit.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <doctest/doctest.h>

#include "conformance_support.hpp"
#include "jobq/backend/new_job.hpp"
#include "jobq/backend/store.hpp"
#include "jobq/error.hpp"
#include "jobq/job_spec.hpp"
#include "jobq/schedule_record.hpp"

namespace jobq::conformance {
namespace {

using namespace std::chrono_literals;

ScheduleRecord record(std::string name, Timestamp cursor = t0) {
    ScheduleRecord r;
    r.name = std::move(name);
    r.expression = "0 3 * * *";
    r.zone = "Europe/Berlin";
    // Stored as text without interpretation: odd spacing and key order must survive.
    r.job = R"({"kind":"report.build",  "payload":{"b":1,"a":[2,3]}})";
    r.misfire = R"({"mode":"catch_up","max_catch_up":10})";
    r.cursor = cursor;
    r.created_at = cursor;
    r.updated_at = cursor;
    return r;
}

ScheduleRecord stored(Store& store, std::string_view name) {
    std::optional<ScheduleRecord> r = store.schedule(name);
    REQUIRE(r.has_value());
    return *r;
}

WindowJob window(const std::string& schedule, Timestamp fire_at, Timestamp now,
                 std::string queue = "default") {
    return WindowJob{
        fire_at,
        to_new_job(
            JobSpec{"report.build"}.queue(std::move(queue)).run_at(fire_at).tag("cron:" + schedule),
            now)};
}

ScheduleRun skipped_run(const std::string& schedule, Timestamp first, Timestamp last,
                        std::int64_t count, Timestamp now) {
    ScheduleRun r;
    r.schedule = schedule;
    r.fire_at = first;
    r.outcome = WindowOutcome::skipped;
    r.last_fire_at = last;
    r.count = count;
    r.reason = "older than max_age 1h";
    r.recorded_at = now;
    return r;
}

FireRequest fire(const std::string& name, Timestamp expected, Timestamp next,
                 std::vector<WindowJob> windows, Timestamp now) {
    FireRequest f;
    f.name = name;
    f.expected_cursor = expected;
    f.new_cursor = next;
    f.windows = std::move(windows);
    f.now = now;
    return f;
}

std::vector<Job> jobs_tagged(Store& store, const std::string& tag) {
    JobFilter filter;
    filter.limit = 10000;
    std::vector<Job> out;
    for (Job& j : store.list(filter).jobs) {
        if (std::find(j.tags.begin(), j.tags.end(), tag) != j.tags.end())
            out.push_back(std::move(j));
    }
    return out;
}

template <class F>
std::optional<ErrorCode> code_of(F&& f) {
    try {
        f();
    } catch (const Error& e) {
        return e.code();
    }
    return std::nullopt;
}

}  // namespace

// ---- records ---------------------------------------------------------------------------------

TEST_CASE_FIXTURE(StoreTest, "a fresh database has no schedules") {
    CHECK(store.schedules().empty());
    CHECK_FALSE(store.schedule("nightly").has_value());
    CHECK(store.schedule_runs("nightly", 10).empty());
}

TEST_CASE_FIXTURE(StoreTest, "add_schedule stores every field as given") {
    ScheduleRecord r = record("nightly", at(5));
    r.declared = true;
    r.paused = true;
    r.created_at = at(6);
    r.updated_at = at(7);
    REQUIRE(store.add_schedule(r));
    CHECK(stored(store, "nightly") == r);
}

TEST_CASE_FIXTURE(StoreTest, "schedules lists every schedule by name") {
    REQUIRE(store.add_schedule(record("b")));
    REQUIRE(store.add_schedule(record("c")));
    REQUIRE(store.add_schedule(record("a")));
    std::vector<std::string> names;
    for (const ScheduleRecord& r : store.schedules()) names.push_back(r.name);
    CHECK(names == std::vector<std::string>{"a", "b", "c"});
}

TEST_CASE_FIXTURE(StoreTest, "add_schedule of a taken name returns false and changes nothing") {
    const ScheduleRecord first = record("nightly");
    REQUIRE(store.add_schedule(first));
    ScheduleRecord second = record("nightly", at(100));
    second.expression = "* * * * *";
    CHECK_FALSE(store.add_schedule(second));
    CHECK(stored(store, "nightly") == first);
}

TEST_CASE_FIXTURE(StoreTest,
                  "update_schedule replaces the definition and keeps cursor, pause and creation") {
    ScheduleRecord r = record("nightly", at(5));
    r.paused = true;
    REQUIRE(store.add_schedule(r));

    ScheduleRecord change = record("nightly", at(999));
    change.expression = "*/5 * * * *";
    change.zone = "America/New_York";
    change.job = R"({"kind":"other"})";
    change.misfire = R"({"mode":"skip"})";
    change.declared = true;
    change.paused = false;
    change.created_at = at(998);
    change.updated_at = at(50);
    REQUIRE(store.update_schedule(change));

    const ScheduleRecord after = stored(store, "nightly");
    CHECK(after.expression == "*/5 * * * *");
    CHECK(after.zone == "America/New_York");
    CHECK(after.job == R"({"kind":"other"})");
    CHECK(after.misfire == R"({"mode":"skip"})");
    CHECK(after.declared);
    CHECK(after.updated_at == at(50));
    CHECK(after.cursor == at(5));
    CHECK(after.paused);
    CHECK(after.created_at == at(5));
}

TEST_CASE_FIXTURE(StoreTest, "update_schedule of an unknown name returns false and adds nothing") {
    CHECK_FALSE(store.update_schedule(record("ghost")));
    CHECK(store.schedules().empty());
}

TEST_CASE_FIXTURE(StoreTest, "remove_schedule deletes the schedule and its history") {
    REQUIRE(store.add_schedule(record("nightly")));
    REQUIRE(store.add_schedule(record("other")));
    REQUIRE(
        store
            .fire_schedule(fire("nightly", t0, at(10), {window("nightly", at(10), at(10))}, at(10)))
            .applied);
    REQUIRE(
        store.fire_schedule(fire("other", t0, at(10), {window("other", at(10), at(10))}, at(10)))
            .applied);

    CHECK(store.remove_schedule("nightly"));
    CHECK_FALSE(store.schedule("nightly").has_value());
    CHECK(store.schedule_runs("nightly", 10).empty());
    CHECK(store.schedule_runs("other", 10).size() == 1);
    CHECK_FALSE(store.remove_schedule("nightly"));
}

TEST_CASE_FIXTURE(StoreTest, "a schedule re-added after removal has none of its old history") {
    REQUIRE(store.add_schedule(record("nightly")));
    REQUIRE(
        store
            .fire_schedule(fire("nightly", t0, at(10), {window("nightly", at(10), at(10))}, at(10)))
            .applied);
    REQUIRE(store.remove_schedule("nightly"));
    REQUIRE(store.add_schedule(record("nightly", at(5))));
    // The same window fires again for the new schedule: its history started afresh.
    const FireResult r = store.fire_schedule(
        fire("nightly", at(5), at(10), {window("nightly", at(10), at(10))}, at(10)));
    REQUIRE(r.applied);
    REQUIRE(r.jobs.size() == 1);
    CHECK(r.jobs[0].id > 0);
}

// ---- pause and resume ------------------------------------------------------------------------

TEST_CASE_FIXTURE(StoreTest, "pausing sets paused and updated_at once") {
    REQUIRE(store.add_schedule(record("nightly")));
    PauseRequest pause{"nightly", true, at(20), std::nullopt, std::nullopt};
    const ScheduleChange first = store.set_schedule_paused(pause);
    REQUIRE(first.record.has_value());
    CHECK(first.changed);
    CHECK(first.record->paused);
    CHECK(first.record->updated_at == at(20));
    CHECK(first.record->cursor == t0);

    pause.now = at(30);
    const ScheduleChange again = store.set_schedule_paused(pause);
    CHECK_FALSE(again.changed);
    REQUIRE(again.record.has_value());
    CHECK(again.record->updated_at == at(20));
}

TEST_CASE_FIXTURE(StoreTest,
                  "resuming moves the cursor and records the windows skipped while paused") {
    REQUIRE(store.add_schedule(record("nightly")));
    REQUIRE(
        store.set_schedule_paused({"nightly", true, at(20), std::nullopt, std::nullopt}).changed);

    const ScheduleRun skipped = skipped_run("nightly", at(60), at(3600), 60, at(4000));
    const ScheduleChange resumed =
        store.set_schedule_paused({"nightly", false, at(4000), at(4000), skipped});
    CHECK(resumed.changed);
    REQUIRE(resumed.record.has_value());
    CHECK_FALSE(resumed.record->paused);
    CHECK(resumed.record->cursor == at(4000));
    CHECK(resumed.record->updated_at == at(4000));
    CHECK(store.schedule_runs("nightly", 10) == std::vector<ScheduleRun>{skipped});

    // Resuming a running schedule changes nothing and records nothing.
    const ScheduleChange again =
        store.set_schedule_paused({"nightly", false, at(5000), at(5000),
                                   skipped_run("nightly", at(4060), at(4960), 15, at(5000))});
    CHECK_FALSE(again.changed);
    CHECK(stored(store, "nightly").cursor == at(4000));
    CHECK(store.schedule_runs("nightly", 10).size() == 1);
}

TEST_CASE_FIXTURE(StoreTest, "pausing or resuming an unknown schedule reports it missing") {
    const ScheduleChange r =
        store.set_schedule_paused({"ghost", true, t0, std::nullopt, std::nullopt});
    CHECK_FALSE(r.record.has_value());
    CHECK_FALSE(r.changed);
    CHECK(store.schedules().empty());
}

// ---- the declared set ------------------------------------------------------------------------

TEST_CASE_FIXTURE(StoreTest, "syncing declared schedules adds, updates, keeps and removes") {
    ScheduleRecord kept = record("kept");
    kept.declared = true;
    ScheduleRecord changed = record("changed");
    changed.declared = true;
    ScheduleRecord dropped = record("dropped");
    dropped.declared = true;
    ScheduleRecord runtime = record("runtime");  // added at run time: not the code's to remove
    for (const ScheduleRecord& r : {kept, changed, dropped, runtime})
        REQUIRE(store.add_schedule(r));
    REQUIRE(
        store
            .fire_schedule(fire("dropped", t0, at(10), {window("dropped", at(10), at(10))}, at(10)))
            .applied);
    REQUIRE(
        store.set_schedule_paused({"changed", true, at(11), std::nullopt, std::nullopt}).changed);

    ScheduleRecord changed2 = record("changed", at(100));
    changed2.expression = "0 4 * * *";
    ScheduleRecord added = record("added", at(100));
    const std::vector<ScheduleRecord> declared{record("kept", at(100)), changed2, added};
    const ScheduleSync sync = store.sync_declared_schedules(declared, at(100));
    CHECK(sync == ScheduleSync{1, 1, 1});

    CHECK(stored(store, "kept") == kept);  // identical definition: not written at all
    const ScheduleRecord c = stored(store, "changed");
    CHECK(c.expression == "0 4 * * *");
    CHECK(c.declared);
    CHECK(c.paused);  // an operator's pause survives a deploy
    CHECK(c.cursor == t0);
    CHECK(c.updated_at == at(100));
    const ScheduleRecord a = stored(store, "added");
    CHECK(a.declared);
    CHECK(a.cursor == at(100));
    CHECK_FALSE(store.schedule("dropped").has_value());
    CHECK(store.schedule_runs("dropped", 10).empty());
    CHECK(store.schedule("runtime").has_value());

    // The same set again changes nothing.
    CHECK(store.sync_declared_schedules(declared, at(200)) == ScheduleSync{0, 0, 0});
}

TEST_CASE_FIXTURE(StoreTest, "a declared schedule takes over a run-time one of the same name") {
    REQUIRE(store.add_schedule(record("nightly", at(5))));
    ScheduleRecord declared = record("nightly", at(100));
    declared.declared = true;
    CHECK(store.sync_declared_schedules(std::vector<ScheduleRecord>{declared}, at(100)) ==
          ScheduleSync{0, 1, 0});
    const ScheduleRecord r = stored(store, "nightly");
    CHECK(r.declared);
    CHECK(r.cursor == at(5));
}

TEST_CASE_FIXTURE(StoreTest, "syncing an empty declared set removes every declared schedule only") {
    ScheduleRecord declared = record("declared");
    declared.declared = true;
    REQUIRE(store.add_schedule(declared));
    REQUIRE(store.add_schedule(record("runtime")));
    CHECK(store.sync_declared_schedules({}, at(1)) == ScheduleSync{0, 0, 1});
    REQUIRE(store.schedules().size() == 1);
    CHECK(store.schedules()[0].name == "runtime");
}

TEST_CASE_FIXTURE(StoreTest,
                  "syncing a list that names a schedule twice is rejected and writes nothing") {
    ScheduleRecord twice = record("twice", at(1));
    twice.expression = "0 * * * *";
    const std::vector<ScheduleRecord> declared{record("new"), record("twice"), twice};
    try {
        store.sync_declared_schedules(declared, at(1));
        FAIL("accepted a name declared twice");
    } catch (const Error& e) {
        CHECK(e.code() == ErrorCode::invalid_argument);
        CHECK(e.field() == "name");
        CHECK(std::string(e.what()).find("'twice'") != std::string::npos);
    }
    CHECK(store.schedules().empty());
}

TEST_CASE_FIXTURE(StoreTest,
                  "a history entry naming another schedule is rejected and writes nothing") {
    REQUIRE(store.add_schedule(record("nightly")));
    FireRequest f = fire("nightly", t0, at(60), {window("nightly", at(60), at(61))}, at(61));
    f.skipped = {skipped_run("other", at(1), at(2), 2, at(61))};
    CHECK(code_of([&] { store.fire_schedule(f); }) == ErrorCode::invalid_argument);
    CHECK(stored(store, "nightly").cursor == t0);
    CHECK(jobs_tagged(store, "cron:nightly").empty());
    CHECK(store.schedule_runs("nightly", 10).empty());
}

// ---- fire ------------------------------------------------------------------------------------

TEST_CASE_FIXTURE(StoreTest, "fire enqueues each window's job, records it and moves the cursor") {
    REQUIRE(store.add_schedule(record("nightly")));
    const FireResult r = store.fire_schedule(fire("nightly", t0, at(120),
                                                  {window("nightly", at(60), at(125), "reports"),
                                                   window("nightly", at(120), at(125), "reports")},
                                                  at(125)));
    REQUIRE(r.applied);
    REQUIRE(r.jobs.size() == 2);
    CHECK_FALSE(r.jobs[0].duplicate);
    CHECK_FALSE(r.jobs[1].duplicate);
    CHECK(r.jobs[0].id != r.jobs[1].id);

    const std::optional<Job> first = store.get(r.jobs[0].id);
    REQUIRE(first.has_value());
    CHECK(first->kind == "report.build");
    CHECK(first->queue == "reports");
    CHECK(first->run_at == at(60));
    CHECK(first->state == JobState::available);
    CHECK(first->tags == std::vector<std::string>{"cron:nightly"});

    const ScheduleRecord after = stored(store, "nightly");
    CHECK(after.cursor == at(120));
    CHECK(after.updated_at == t0);  // firing is not a change of the definition

    const std::vector<ScheduleRun> runs = store.schedule_runs("nightly", 10);
    REQUIRE(runs.size() == 2);
    CHECK(runs[0].fire_at == at(120));  // newest first
    CHECK(runs[0].outcome == WindowOutcome::enqueued);
    CHECK(runs[0].job_id == r.jobs[1].id);
    CHECK(runs[0].recorded_at == at(125));
    CHECK(runs[1].fire_at == at(60));
    CHECK(runs[1].job_id == r.jobs[0].id);
}

TEST_CASE_FIXTURE(StoreTest, "fire with a stale cursor writes nothing") {
    REQUIRE(store.add_schedule(record("nightly")));
    REQUIRE(
        store
            .fire_schedule(fire("nightly", t0, at(60), {window("nightly", at(60), at(61))}, at(61)))
            .applied);
    // A second scheduler that read the schedule before the first fired.
    const FireResult late = store.fire_schedule(
        fire("nightly", t0, at(60), {window("nightly", at(60), at(62))}, at(62)));
    CHECK_FALSE(late.applied);
    CHECK(late.jobs.empty());
    CHECK(jobs_tagged(store, "cron:nightly").size() == 1);
    CHECK(store.schedule_runs("nightly", 10).size() == 1);
    CHECK(stored(store, "nightly").cursor == at(60));
}

TEST_CASE_FIXTURE(StoreTest, "fire on a paused or unknown schedule writes nothing") {
    REQUIRE(store.add_schedule(record("nightly")));
    REQUIRE(
        store.set_schedule_paused({"nightly", true, at(1), std::nullopt, std::nullopt}).changed);
    CHECK_FALSE(
        store
            .fire_schedule(fire("nightly", t0, at(60), {window("nightly", at(60), at(61))}, at(61)))
            .applied);
    CHECK_FALSE(
        store.fire_schedule(fire("ghost", t0, at(60), {window("ghost", at(60), at(61))}, at(61)))
            .applied);
    CHECK(jobs_tagged(store, "cron:nightly").empty());
    CHECK(jobs_tagged(store, "cron:ghost").empty());
    CHECK(stored(store, "nightly").cursor == t0);
}

TEST_CASE_FIXTURE(StoreTest, "a window already in the history is not enqueued again") {
    REQUIRE(store.add_schedule(record("nightly")));
    REQUIRE(
        store
            .fire_schedule(fire("nightly", t0, at(60), {window("nightly", at(60), at(61))}, at(61)))
            .applied);
    // A request that repeats window 60 (as a scheduler with a skewed clock might) still moves
    // the cursor, but only window 120 gets a job.
    const FireResult r = store.fire_schedule(
        fire("nightly", at(60), at(120),
             {window("nightly", at(60), at(121)), window("nightly", at(120), at(121))}, at(121)));
    REQUIRE(r.applied);
    REQUIRE(r.jobs.size() == 2);
    CHECK(r.jobs[0].id == 0);
    CHECK(r.jobs[1].id > 0);
    CHECK(jobs_tagged(store, "cron:nightly").size() == 2);
    CHECK(store.schedule_runs("nightly", 10).size() == 2);
}

TEST_CASE_FIXTURE(StoreTest, "fire records skipped windows with their reason") {
    REQUIRE(store.add_schedule(record("nightly")));
    const ScheduleRun skipped = skipped_run("nightly", at(60), at(3000), 50, at(3700));
    FireRequest f =
        fire("nightly", t0, at(3660), {window("nightly", at(3660), at(3700))}, at(3700));
    f.skipped = {skipped};
    REQUIRE(store.fire_schedule(f).applied);
    const std::vector<ScheduleRun> runs = store.schedule_runs("nightly", 10);
    REQUIRE(runs.size() == 2);
    CHECK(runs[0].outcome == WindowOutcome::enqueued);
    CHECK(runs[1] == skipped);
}

TEST_CASE_FIXTURE(StoreTest, "a window's job with a unique key coalesces like any insert") {
    REQUIRE(store.add_schedule(record("nightly")));
    auto unique_window = [](Timestamp fire_at) {
        return WindowJob{
            fire_at,
            to_new_job(JobSpec{"report.build"}.run_at(fire_at).unique_key("report"), fire_at)};
    };
    const FireResult a =
        store.fire_schedule(fire("nightly", t0, at(60), {unique_window(at(60))}, at(60)));
    const FireResult b =
        store.fire_schedule(fire("nightly", at(60), at(120), {unique_window(at(120))}, at(120)));
    REQUIRE(a.applied);
    REQUIRE(b.applied);
    CHECK(b.jobs[0].duplicate);
    CHECK(b.jobs[0].id == a.jobs[0].id);
    const std::vector<ScheduleRun> runs = store.schedule_runs("nightly", 10);
    REQUIRE(runs.size() == 2);
    CHECK(runs[0].job_id == a.jobs[0].id);
}

TEST_CASE("two stores firing the same windows at once emit each window exactly once") {
    auto db = make_test_database();
    std::unique_ptr<Store> other = db->open_another();
    std::vector<Store*> stores{&db->store(), other.get()};
    REQUIRE(db->store().add_schedule(record("tick")));

    constexpr int windows = 40;
    constexpr int threads_per_store = 2;
    std::atomic<int> applied{0};
    std::vector<std::thread> threads;
    for (Store* s : stores) {
        for (int t = 0; t < threads_per_store; ++t) {
            threads.emplace_back([s, &applied] {
                // Each racer reads the cursor and tries to fire the next window, as a scheduler
                // pass does, until every window is handled.
                for (;;) {
                    const std::optional<ScheduleRecord> r = s->schedule("tick");
                    if (!r) return;
                    const int next = static_cast<int>((r->cursor - t0) / 1s) + 1;
                    if (next > windows) return;
                    const FireResult f =
                        s->fire_schedule(fire("tick", r->cursor, at(next),
                                              {window("tick", at(next), at(next))}, at(next)));
                    if (f.applied) ++applied;
                }
            });
        }
    }
    for (std::thread& t : threads) t.join();

    CHECK(applied == windows);
    std::map<Timestamp, int> per_window;
    for (const Job& j : jobs_tagged(db->store(), "cron:tick")) ++per_window[j.run_at];
    CHECK(per_window.size() == windows);
    for (const auto& [fire_at, n] : per_window) CHECK(n == 1);
    CHECK(db->store().schedule_runs("tick", 1000).size() == windows);
}

// ---- history ---------------------------------------------------------------------------------

TEST_CASE_FIXTURE(StoreTest, "schedule_runs returns the newest entries up to the limit") {
    REQUIRE(store.add_schedule(record("tick")));
    Timestamp cursor = t0;
    for (int i = 1; i <= 5; ++i) {
        REQUIRE(
            store.fire_schedule(fire("tick", cursor, at(i), {window("tick", at(i), at(i))}, at(i)))
                .applied);
        cursor = at(i);
    }
    const std::vector<ScheduleRun> runs = store.schedule_runs("tick", 3);
    REQUIRE(runs.size() == 3);
    CHECK(runs[0].fire_at == at(5));
    CHECK(runs[2].fire_at == at(3));
    CHECK(code_of([&] { store.schedule_runs("tick", 0); }) == ErrorCode::invalid_argument);
}

TEST_CASE_FIXTURE(StoreTest, "prune deletes history recorded before the cutoff") {
    REQUIRE(store.add_schedule(record("tick")));
    Timestamp cursor = t0;
    for (int i = 1; i <= 4; ++i) {
        REQUIRE(
            store.fire_schedule(fire("tick", cursor, at(i), {window("tick", at(i), at(i))}, at(i)))
                .applied);
        cursor = at(i);
    }
    PruneRequest prune;
    prune.schedule_runs_before = at(3);
    CHECK(store.prune(prune) == 2);
    const std::vector<ScheduleRun> runs = store.schedule_runs("tick", 10);
    REQUIRE(runs.size() == 2);
    CHECK(runs[1].fire_at == at(3));
    // The jobs are not history: they stay until their own retention.
    CHECK(jobs_tagged(store, "cron:tick").size() == 4);
}

}  // namespace jobq::conformance
