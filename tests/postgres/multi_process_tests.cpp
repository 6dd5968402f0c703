// A fleet on PostgreSQL: three examples/demo_worker processes (each with its Scheduler and its
// rescuer) share 10,000 jobs on one schema, and one is killed with SIGKILL mid-run. Every job
// still completes exactly once in the store, no attempt starts twice, and the jobs the killed
// worker held are rescued once their lease runs out and completed by the others.

#include <signal.h>
#include <sys/wait.h>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "jobq/job_spec.hpp"
#include "jobq/postgres/postgres_store.hpp"
#include "jobq/queue.hpp"
#include "pg_fixture.hpp"
#include "process_harness.hpp"  // tests/integration: demo_worker processes and their start log

namespace jobq::pgtest {

namespace {

using itest::StartRecord;
using itest::WorkerProcess;

/// The URL demo_worker takes for `schema` on the server under test.
std::string url_with_schema(const std::string& url, const std::string& schema) {
    return url + (url.find('?') == std::string::npos ? "?" : "&") + "schema=" + schema;
}

bool has_error(const Job& job, int attempt, const std::string& kind) {
    return std::any_of(job.errors.begin(), job.errors.end(), [&](const AttemptError& e) {
        return e.attempt == attempt && e.kind == kind;
    });
}

}  // namespace

TEST_SUITE_BEGIN("processes");
TEST_CASE("three worker processes complete 10,000 jobs exactly once though one is killed mid-run") {
    constexpr int total = 10'000;
    ScratchSchema schema{"fleet"};
    PostgresStore store{schema.url(), schema.options()};
    TempDir dir;
    const std::filesystem::path log = dir.path() / "starts.log";

    // 20 ms each: with 3 x 8 handlers the run lasts seconds, so the kill lands mid-run while
    // the victim holds a full set of running jobs. Every 50th of the first 2,000 sleeps 5 s
    // instead: the kill waits until the victim runs one of those, so at least one attempt is
    // certainly cut off mid-handler whatever the timing (a 20 ms job may just have finished).
    std::set<JobId> ids;
    std::set<JobId> long_ids;
    {
        Queue queue{store};
        std::vector<JobSpec> specs;
        for (int i = 0; i < total; ++i) {
            const bool long_job = i % 50 == 0 && i < 2000;
            specs.push_back(JobSpec{"demo.sleep", {{"ms", long_job ? 5000 : 20}}});
        }
        const std::vector<EnqueueResult> results = queue.enqueue_many(specs);
        for (std::size_t i = 0; i < results.size(); ++i) {
            ids.insert(results[i].id);
            if (i % 50 == 0 && i < 2000) long_ids.insert(results[i].id);
        }
    }
    REQUIRE(ids.size() == total);

    const std::vector<std::string> args{
        "--db",          url_with_schema(schema.url(), schema.name()),
        "--log",         log.string(),
        "--concurrency", "8",
        "--lease-ms",    "2000",
        "--rescue-ms",   "500",
        "--poll-ms",     "100",
        "--grace-ms",    "10000"};
    const auto start = SteadyClock::now();
    WorkerProcess victim(dir.path(), "worker-1", args);
    WorkerProcess second(dir.path(), "worker-2", args);
    WorkerProcess third(dir.path(), "worker-3", args);
    const std::string victim_id = victim.wait_ready();
    const std::string second_id = second.wait_ready();
    const std::string third_id = third.wait_ready();
    REQUIRE(victim_id != second_id);
    REQUIRE(victim_id != third_id);
    REQUIRE(second_id != third_id);

    auto running_of = [&](const std::string& worker_id) {
        JobFilter filter;
        filter.states = {JobState::running};
        std::vector<Job> held;
        for (Job& j : all_jobs(store, filter)) {
            if (j.worker_id == worker_id) held.push_back(std::move(j));
        }
        return held;
    };
    auto victim_starts = [&] {
        int n = 0;
        for (const StartRecord& r : itest::read_start_log(log)) n += r.worker_id == victim_id;
        return n;
    };
    // Part-way through, and running the handler of a 5 s job it started (it is in the log).
    JobId cut_off = 0;
    auto running_a_long_job = [&] {
        if (victim_starts() < 50) return false;
        const std::vector<StartRecord> starts = itest::read_start_log(log);
        for (const Job& j : running_of(victim_id)) {
            if (!long_ids.contains(j.id)) continue;
            for (const StartRecord& r : starts) {
                if (r.id == j.id && r.attempt == j.attempt && r.worker_id == victim_id) {
                    cut_off = j.id;
                    return true;
                }
            }
        }
        return false;
    };
    wait_until(running_a_long_job, "worker-1 to be part-way through its jobs, running a 5 s one",
               [&] { return victim.describe(); });
    victim.signal(SIGKILL);
    const int status = victim.wait_exit();
    REQUIRE(WIFSIGNALED(status));
    REQUIRE(WTERMSIG(status) == SIGKILL);
    // Its jobs stay running under its id until their leases run out (at least 2/3 of a lease
    // after its last heartbeat), so this sees them before any rescue.
    std::map<JobId, int> held_at_kill;
    for (const Job& j : running_of(victim_id)) held_at_kill[j.id] = j.attempt;
    const std::int64_t completed_at_kill = count_in(store, JobState::completed);
    MESSAGE("worker-1 killed after " << seconds_since(start) << " s holding " << held_at_kill.size()
                                     << " running jobs; " << completed_at_kill
                                     << " jobs were completed by then");
    CHECK(completed_at_kill < total);

    wait_until([&] { return count_in(store, JobState::completed) == total; },
               std::to_string(total) + " completed jobs",
               [&] {
                   return "completed: " + std::to_string(count_in(store, JobState::completed)) +
                          "\n" + second.describe() + third.describe();
               },
               std::chrono::seconds{400});
    const double run_time = seconds_since(start);
    second.stop_gracefully();
    third.stop_gracefully();

    const std::vector<Job> jobs = all_jobs(store);
    const std::vector<StartRecord> starts = itest::read_start_log(log);

    // The store: each job once, completed.
    REQUIRE(jobs.size() == total);
    std::map<JobId, const Job*> by_id;
    for (const Job& j : jobs) {
        CHECK_MESSAGE(by_id.emplace(j.id, &j).second, "job " << j.id << " listed twice");
        CHECK_MESSAGE(j.state == JobState::completed,
                      "job " << j.id << " is " << to_string(j.state));
    }
    std::set<JobId> stored;
    for (const auto& [id, j] : by_id) stored.insert(id);
    CHECK(stored == ids);

    // No attempt started twice; the attempt that completed each job started in the worker the
    // store names, and that is never the killed one for a job it still held.
    CHECK(itest::duplicate_attempts(starts).empty());
    std::map<std::pair<JobId, int>, std::string> started_by;
    for (const StartRecord& r : starts) started_by[{r.id, r.attempt}] = r.worker_id;
    std::map<std::string, int> completed_by;
    for (const Job& j : jobs) {
        const auto it = started_by.find({j.id, j.attempt});
        REQUIRE_MESSAGE(it != started_by.end(),
                        "job " << j.id << " attempt " << j.attempt << " is not in the start log");
        CHECK(it->second == j.worker_id);
        ++completed_by[j.worker_id];
    }

    // Every attempt the killed worker started either completed there before the kill, or was
    // cut off by it: then the rescuer recorded lease_expired for that attempt and another
    // worker completed the job in a later attempt.
    int rescued = 0;
    for (const StartRecord& r : starts) {
        if (r.worker_id != victim_id) continue;
        const Job& j = *by_id.at(r.id);
        if (j.attempt == r.attempt && j.worker_id == victim_id) continue;  // finished in time
        CAPTURE(j.id);
        CAPTURE(r.attempt);
        CHECK(j.attempt > r.attempt);
        CHECK(j.worker_id != victim_id);
        CHECK(has_error(j, r.attempt, "lease_expired"));
        ++rescued;
    }
    // In particular each job it held at the kill, whether its handler had started (it is in
    // the log) or the job was claimed and still waiting for a free handler. One exception: the
    // server finishes a statement the victim sent before it died, so a completion batch in
    // flight at the kill commits after the snapshot above. Such a job was completed by the
    // victim in the attempt it held (the start-log check above ties it to that attempt), once.
    REQUIRE_FALSE(held_at_kill.empty());
    int completed_in_flight = 0;
    for (const auto& [id, attempt] : held_at_kill) {
        const Job& j = *by_id.at(id);
        CAPTURE(id);
        if (j.worker_id == victim_id && j.attempt == attempt && j.errors.empty()) {
            ++completed_in_flight;
            continue;
        }
        CHECK(j.attempt > attempt);
        CHECK(j.worker_id != victim_id);
        CHECK(has_error(j, attempt, "lease_expired"));
    }
    // The 5 s handler it was running cannot have finished: that attempt was cut off.
    REQUIRE(held_at_kill.contains(cut_off));
    CHECK(by_id.at(cut_off)->worker_id != victim_id);
    CHECK(has_error(*by_id.at(cut_off), held_at_kill.at(cut_off), "lease_expired"));
    CHECK(rescued > 0);
    CHECK(completed_by[second_id] > 0);
    CHECK(completed_by[third_id] > 0);
    MESSAGE("all " << total << " jobs completed after " << run_time << " s: worker-1 (killed) "
                   << completed_by[victim_id] << ", worker-2 " << completed_by[second_id]
                   << ", worker-3 " << completed_by[third_id] << "; " << rescued
                   << " of worker-1's attempts were rescued");
}

TEST_SUITE_END();  // processes

}  // namespace jobq::pgtest
