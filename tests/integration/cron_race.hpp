#pragma once
// The cron race, shared by the SQLite and PostgreSQL suites: three demo_worker processes
// declare the same every-second schedule on one store and fire it together; one is killed with
// SIGKILL mid-run, then all are, and two are started again. Every window from the first to the
// last must have exactly one job and one history entry: no duplicate, no gap.

#include <signal.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "jobq/backend/store.hpp"
#include "process_harness.hpp"

namespace jobq::itest {

/// The windows (run_at) of the jobs the schedule `name` enqueued, with how often each occurs.
inline std::map<Timestamp, int> cron_windows(Store& store, const std::string& name) {
    std::map<Timestamp, int> windows;
    for (const Job& j : all_jobs(store)) {
        if (std::find(j.tags.begin(), j.tags.end(), "cron:" + name) != j.tags.end())
            ++windows[j.run_at];
    }
    return windows;
}

/// Runs the race against `db_url` (what demo_worker's --db takes); `store` is the test's own
/// handle on the same database, for waiting and checking.
inline void race_three_schedulers(Store& store, const std::string& db_url, const TempDir& dir) {
    const std::string name = "tick";
    const std::vector<std::string> args{"--db",      db_url, "--cron",     name + "=* * * * * *",
                                        "--poll-ms", "100",  "--grace-ms", "2000"};
    auto windows_now = [&] {
        return cron_windows(store, name).size();
    };
    auto wait_for_windows = [&](std::size_t n, const char* what) {
        wait_until([&] { return windows_now() >= n; }, what);
    };

    std::vector<std::unique_ptr<WorkerProcess>> fleet;
    for (int i = 1; i <= 3; ++i) {
        fleet.push_back(
            std::make_unique<WorkerProcess>(dir.path(), "cron-" + std::to_string(i), args));
    }
    for (auto& p : fleet) p->wait_ready();
    wait_for_windows(8, "8 windows from three schedulers");

    // Failover: the others carry on without a lost or repeated window.
    fleet[0]->signal(SIGKILL);
    fleet[0]->wait_exit();
    const std::size_t after_kill = windows_now();
    wait_for_windows(after_kill + 5, "5 windows after one scheduler was killed");

    // Total outage, then a restart: the windows missed meanwhile are caught up.
    for (std::size_t i = 1; i < fleet.size(); ++i) fleet[i]->signal(SIGKILL);
    for (std::size_t i = 1; i < fleet.size(); ++i) fleet[i]->wait_exit();
    const std::size_t after_outage = windows_now();
    fleet.clear();
    for (int i = 4; i <= 5; ++i) {
        fleet.push_back(
            std::make_unique<WorkerProcess>(dir.path(), "cron-" + std::to_string(i), args));
    }
    for (auto& p : fleet) p->wait_ready();
    wait_for_windows(after_outage + 5, "5 windows after the restart");
    for (auto& p : fleet) p->stop_gracefully();

    const std::map<Timestamp, int> windows = cron_windows(store, name);
    REQUIRE(windows.size() >= 18);
    const Timestamp first = windows.begin()->first;
    const Timestamp last = windows.rbegin()->first;
    CHECK(last - first == std::chrono::seconds{static_cast<long>(windows.size()) - 1});  // no gap
    for (const auto& [fire_at, n] : windows) {
        INFO("window at " << fire_at.time_since_epoch().count() << " us");
        CHECK(n == 1);  // no duplicate
        CHECK(fire_at.time_since_epoch() % std::chrono::seconds{1} == Duration::zero());
    }

    const std::vector<ScheduleRun> runs = store.schedule_runs(name, 100000);
    CHECK(runs.size() == windows.size());
    for (const ScheduleRun& r : runs) {
        INFO("history entry at " << r.fire_at.time_since_epoch().count() << ": " << r.reason);
        CHECK(r.outcome == WindowOutcome::enqueued);
        CHECK(windows.contains(r.fire_at));
    }
}

}  // namespace jobq::itest
