#pragma once
// Flow-control load tests, shared by the SQLite and PostgreSQL suites: several demo_worker
// processes work one store under a concurrency cap, a rate limit, a hot queue and a hot
// tenant. Every assertion is made afterwards from the store's own start and finish times
// (attempted_at, finished_at), never from the test's clock; waits are bounded polls.

#include <algorithm>
#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <doctest/doctest.h>

#include "jobq/job_spec.hpp"
#include "jobq/new_job.hpp"
#include "jobq/store.hpp"
#include "process_harness.hpp"

namespace jobq::itest {

/// The most jobs running at once according to their [attempted_at, finished_at) intervals. An
/// interval that ends when another starts does not overlap it.
inline int max_overlap(const std::vector<Job>& jobs) {
    std::vector<std::pair<Timestamp, int>> events;
    for (const Job& j : jobs) {
        if (!j.attempted_at || !j.finished_at) continue;
        events.emplace_back(*j.attempted_at, +1);
        events.emplace_back(*j.finished_at, -1);
    }
    std::sort(events.begin(), events.end());  // at equal times the end (-1) sorts first
    int now = 0;
    int most = 0;
    for (const auto& [t, d] : events) {
        now += d;
        most = std::max(most, now);
    }
    return most;
}

/// Inserts `n` copies of `spec` in batches of 1000, created at `now`.
inline void enqueue_bulk(Store& store, int n, const JobSpec& spec, Timestamp now) {
    std::vector<NewJob> batch;
    for (int i = 0; i < n; ++i) {
        batch.push_back(to_new_job(spec, now));
        if (batch.size() == 1000 || i + 1 == n) {
            store.insert(batch);
            batch.clear();
        }
    }
}

/// `count` demo_worker processes on `db_url` serving `queues`.
inline std::vector<std::unique_ptr<WorkerProcess>> start_fleet(const std::string& db_url,
                                                               const TempDir& dir,
                                                               const std::string& name, int count,
                                                               std::vector<std::string> queues,
                                                               int concurrency) {
    std::vector<std::string> args{"--db",      db_url, "--concurrency", std::to_string(concurrency),
                                  "--poll-ms", "200",  "--grace-ms",    "5000"};
    for (const std::string& q : queues) {
        args.push_back("--queue");
        args.push_back(q);
    }
    std::vector<std::unique_ptr<WorkerProcess>> fleet;
    for (int i = 1; i <= count; ++i) {
        fleet.push_back(
            std::make_unique<WorkerProcess>(dir.path, name + "-" + std::to_string(i), args));
    }
    for (auto& p : fleet) p->wait_ready();
    return fleet;
}

inline void stop_fleet(std::vector<std::unique_ptr<WorkerProcess>>& fleet) {
    for (auto& p : fleet) p->stop_gracefully();
    fleet.clear();
}

inline std::vector<Job> jobs_of_queue(Store& store, const std::string& queue) {
    JobFilter f;
    f.queue = queue;
    return all_jobs(store, f);
}

inline std::int64_t completed_in(Store& store, const std::string& queue) {
    for (const QueueStats& s : store.stats(system_clock().now())) {
        if (s.queue == queue) return s.count(JobState::completed);
    }
    return 0;
}

/// A kind capped at 5, four worker processes with ten slots each: never a sixth at once.
inline void load_cap_holds(Store& store, const std::string& db_url, const TempDir& dir) {
    constexpr int cap = 5;
    constexpr int jobs = 150;
    FlowLimits limits;
    limits.max_running = cap;
    store.set_limits(LimitScope::kind("demo.sleep"), limits, system_clock().now());
    enqueue_bulk(store, jobs, JobSpec{"demo.sleep", {{"ms", 20}}}.queue("capped"),
                 system_clock().now());

    auto fleet = start_fleet(db_url, dir, "cap", 4, {"capped"}, 10);
    wait_until([&] { return completed_in(store, "capped") == jobs; }, "every capped job to finish");
    stop_fleet(fleet);

    const std::vector<Job> done = jobs_of_queue(store, "capped");
    REQUIRE(done.size() == static_cast<std::size_t>(jobs));
    const int most = max_overlap(done);
    MESSAGE("most running at once: " << most << " (cap " << cap << ")");
    CHECK(most <= cap);
    CHECK(most >= 2);  // the cap was reached for, not just never approached
    CHECK(store.limit_record(LimitScope::kind("demo.sleep"))->running == 0);
}

/// 50 starts per second (burst 5) over a backlog of 10,000, four worker processes: every
/// second of the run has at most 10% more starts than the limit, and the steady rate is within
/// 10% of it.
inline void load_rate_holds(Store& store, const std::string& db_url, const TempDir& dir) {
    constexpr int per_second = 50;
    constexpr int burst = 5;
    FlowLimits limits;
    limits.rate = RateLimit{per_second, std::chrono::seconds{1}, burst};
    store.set_limits(LimitScope::queue("rated"), limits, system_clock().now());
    enqueue_bulk(store, 10000, JobSpec{"demo.noop"}.queue("rated"), system_clock().now());

    auto fleet = start_fleet(db_url, dir, "rate", 4, {"rated"}, 10);
    // About 9 s of starts: the first second is left out of the steady rate, 8 s are measured.
    wait_until([&] { return completed_in(store, "rated") >= burst + 9 * per_second; },
               "450 rate-limited jobs to finish");
    stop_fleet(fleet);

    std::vector<Timestamp> starts;
    for (const Job& j : jobs_of_queue(store, "rated")) {
        if (j.attempted_at) starts.push_back(*j.attempted_at);
    }
    std::sort(starts.begin(), starts.end());
    REQUIRE(starts.size() >= static_cast<std::size_t>(burst + 9 * per_second));

    // No one-second window, anywhere, holds more than the limit plus the burst (10%).
    for (std::size_t i = 0; i < starts.size(); ++i) {
        const auto end = std::lower_bound(starts.begin() + static_cast<std::ptrdiff_t>(i),
                                          starts.end(), starts[i] + std::chrono::seconds{1});
        const auto in_window = end - (starts.begin() + static_cast<std::ptrdiff_t>(i));
        INFO("window starting at start #" << i);
        REQUIRE(in_window <= per_second + burst);
    }
    // The steady rate over 8 s after the first second: 50/s within 10%.
    const Timestamp from = starts.front() + std::chrono::seconds{1};
    const Timestamp to = from + std::chrono::seconds{8};
    const auto n = std::lower_bound(starts.begin(), starts.end(), to) -
                   std::lower_bound(starts.begin(), starts.end(), from);
    const double rate = static_cast<double>(n) / 8.0;
    MESSAGE("steady rate " << rate << " starts/s (limit " << per_second << ")");
    CHECK(rate >= per_second * 0.9);
    CHECK(rate <= per_second * 1.1);
}

/// The latest start among `cold`, and how many of `hot` had finished by then.
inline std::int64_t hot_done_before_last_cold_start(const std::vector<Job>& hot,
                                                    const std::vector<Job>& cold) {
    Timestamp last_cold{};
    for (const Job& j : cold) {
        REQUIRE(j.attempted_at.has_value());
        last_cold = std::max(last_cold, *j.attempted_at);
    }
    return std::count_if(hot.begin(), hot.end(), [&](const Job& j) {
        return j.finished_at && *j.finished_at <= last_cold;
    });
}

/// 20,000 jobs in a hot queue, then 100 in a cold one: every cold job starts before 10% of
/// the hot backlog is done.
inline void load_cold_queue_not_starved(Store& store, const std::string& db_url,
                                        const TempDir& dir) {
    constexpr int hot = 20000;
    constexpr int cold = 100;
    enqueue_bulk(store, hot, JobSpec{"demo.noop"}.queue("hot"), system_clock().now());
    enqueue_bulk(store, cold, JobSpec{"demo.noop"}.queue("cold"), system_clock().now());

    auto fleet = start_fleet(db_url, dir, "queues", 2, {"hot", "cold"}, 10);
    wait_until([&] { return completed_in(store, "cold") == cold; }, "every cold job to finish");
    stop_fleet(fleet);

    const std::int64_t hot_done =
        hot_done_before_last_cold_start(jobs_of_queue(store, "hot"), jobs_of_queue(store, "cold"));
    MESSAGE(hot_done << " hot jobs had finished when the last cold one started");
    CHECK(hot_done < hot / 10);
}

/// One queue, 20,000 jobs of a hot tenant, then 100 of a cold one: every cold job starts
/// before 10% of the hot backlog is done.
inline void load_cold_tenant_not_starved(Store& store, const std::string& db_url,
                                         const TempDir& dir) {
    constexpr int hot = 20000;
    constexpr int cold = 100;
    enqueue_bulk(store, hot, JobSpec{"demo.noop"}.queue("shared").tenant("hot"),
                 system_clock().now());
    enqueue_bulk(store, cold, JobSpec{"demo.noop"}.queue("shared").tenant("cold"),
                 system_clock().now());

    auto fleet = start_fleet(db_url, dir, "tenants", 2, {"shared"}, 10);
    JobFilter cold_filter;
    cold_filter.tenant = "cold";
    cold_filter.states = {JobState::completed};
    wait_until([&] { return all_jobs(store, cold_filter).size() == cold; },
               "every job of the cold tenant to finish");
    stop_fleet(fleet);

    JobFilter hot_filter;
    hot_filter.tenant = "hot";
    cold_filter.states.clear();
    const std::int64_t hot_done =
        hot_done_before_last_cold_start(all_jobs(store, hot_filter), all_jobs(store, cold_filter));
    MESSAGE(hot_done << " jobs of the hot tenant had finished when the last cold one started");
    CHECK(hot_done < hot / 10);
}

}  // namespace jobq::itest
