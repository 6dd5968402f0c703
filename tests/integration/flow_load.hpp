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

#include "jobq/backend/new_job.hpp"
#include "jobq/backend/store.hpp"
#include "jobq/job_spec.hpp"
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
            std::make_unique<WorkerProcess>(dir.path(), name + "-" + std::to_string(i), args));
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

/// What a replay of a token bucket over the stored start times says about them.
struct BucketReplay {
    double fewest_tokens = 0;  ///< the least a start found in the bucket (>= 1: never over)
    double thrown_away = 0;    ///< tokens earned while the bucket was full: lost to a gap
    Duration median_lag{};     ///< from a whole token being there to the start that took it
    Duration longest_gap{};    ///< the longest time between two consecutive starts
};

/// Replays a bucket of `burst` tokens refilled at `per_second` over the sorted `starts`, full
/// at the first start, as the store keeps it: every start takes one token.
inline BucketReplay replay_bucket(const std::vector<Timestamp>& starts, int per_second, int burst) {
    BucketReplay r;
    r.fewest_tokens = burst;
    std::vector<Duration> lags;
    double tokens = burst;
    Timestamp at = starts.front();
    Timestamp whole_since = at;  // since when the bucket has held a whole token, unbroken
    for (std::size_t i = 0; i < starts.size(); ++i) {
        const Timestamp t = starts[i];
        lags.push_back(std::max(Duration::zero(), t - whole_since));
        if (i > 0) r.longest_gap = std::max(r.longest_gap, t - at);
        const double earned = std::chrono::duration<double>(t - at).count() * per_second;
        r.thrown_away += std::max(0.0, tokens + earned - burst);
        tokens = std::min<double>(burst, tokens + earned);
        r.fewest_tokens = std::min(r.fewest_tokens, tokens);
        tokens -= 1.0;
        at = t;
        if (tokens < 1.0) {
            whole_since = t + std::chrono::duration_cast<Duration>(
                                  std::chrono::duration<double>((1.0 - tokens) / per_second));
        }
    }
    std::nth_element(lags.begin(), lags.begin() + static_cast<std::ptrdiff_t>(lags.size() / 2),
                     lags.end());
    r.median_lag = lags[lags.size() / 2];
    return r;
}

/// 50 starts per second (burst 5) over a backlog of 10,000, four worker processes. The
/// assertions hold on a loaded box, because they judge the limiter and the workers, not how
/// often the machine ran them:
/// - the upper bound is exact: replayed over the stored start times, a bucket of 5 refilled at
///   50/s had a whole token for every start (so no one-second window holds more than 55);
/// - the lower bound is promptness: the typical start came within half the time a full bucket
///   lasts (burst/rate = 100 ms, so 50 ms) of its token being there, so the bucket had room to
///   keep what it earned. A limiter that held tokens back, or workers that waited for their
///   poll instead of the next token (122 ms), fail it; a loaded box does not (PostgreSQL beside
///   `stress --cpu 2` and `ctest -j2`: up to 21 ms), although the tokens earned during a stall
///   longer than 100 ms overflow the full bucket and are lost, as a bucket must lose them to
///   keep the upper bound.
inline void load_rate_holds(Store& store, const std::string& db_url, const TempDir& dir) {
    constexpr int per_second = 50;
    constexpr int burst = 5;
    FlowLimits limits;
    limits.rate = RateLimit{per_second, std::chrono::seconds{1}, burst};
    store.set_limits(LimitScope::queue("rated"), limits, system_clock().now());
    enqueue_bulk(store, 10000, JobSpec{"demo.noop"}.queue("rated"), system_clock().now());

    auto fleet = start_fleet(db_url, dir, "rate", 4, {"rated"}, 10);
    // About 9 s of starts when nothing stalls.
    wait_until([&] { return completed_in(store, "rated") >= burst + 9 * per_second; },
               "455 rate-limited jobs to finish");
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

    const BucketReplay replay = replay_bucket(starts, per_second, burst);
    const auto ms = [](Duration d) {
        return std::chrono::duration<double, std::milli>(d).count();
    };
    const double seconds = std::chrono::duration<double>(starts.back() - starts.front()).count();
    MESSAGE("rate " << static_cast<double>(starts.size() - burst) / seconds << " starts/s over "
                    << seconds << " s (limit " << per_second << "); median lag "
                    << ms(replay.median_lag) << " ms; longest gap " << ms(replay.longest_gap)
                    << " ms; tokens lost to gaps " << replay.thrown_away);
    // A microsecond of rounding between the store's bucket and this replay is allowed.
    CHECK(replay.fewest_tokens >= 1.0 - 1e-3);
    CHECK(replay.median_lag < std::chrono::milliseconds{1000 * burst / per_second / 2});
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
