// Whole worker processes (examples/demo_worker) on one SQLite file: a worker killed with SIGKILL
// loses no job, two workers never run one attempt twice, SIGTERM stops a worker cleanly and
// hands its jobs back. Each case works in a temp directory of its own.

#include <signal.h>
#include <sys/wait.h>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "jobq/job_spec.hpp"
#include "jobq/queue.hpp"
#include "jobq/sqlite/sqlite_store.hpp"
#include "process_harness.hpp"

namespace jobq::itest {

namespace {

// A SQLite file the test enqueues into and inspects, while worker processes work on it too.
struct Database {
    TempDir dir;
    std::string path = (dir.path() / "jobs.db").string();
    std::filesystem::path log = dir.path() / "starts.log";
    SqliteStore store{path, SqliteOptions{.migrate = true}};
    Queue queue{store};

    std::vector<JobId> enqueue(const std::vector<JobSpec>& specs) {
        std::vector<JobId> ids;
        for (const EnqueueResult& r : queue.enqueue_many(specs)) ids.push_back(r.id);
        return ids;
    }

    /// demo_worker arguments for this database and log, then `extra`.
    std::vector<std::string> worker_args(std::vector<std::string> extra) const {
        std::vector<std::string> args{"--db", path, "--log", log.string()};
        args.insert(args.end(), extra.begin(), extra.end());
        return args;
    }

    /// Waits until `n` jobs are completed; the context names each worker's output.
    void wait_completed(std::int64_t n, const std::vector<const WorkerProcess*>& workers) {
        wait_until([&] { return count_in(store, JobState::completed) == n; },
                   std::to_string(n) + " completed jobs",
                   [&] {
                       std::string s =
                           "completed: " + std::to_string(count_in(store, JobState::completed)) +
                           "\n";
                       for (const WorkerProcess* w : workers) s += w->describe();
                       return s;
                   });
    }
};

bool has_error(const Job& job, int attempt, const std::string& kind) {
    return std::any_of(job.errors.begin(), job.errors.end(), [&](const AttemptError& e) {
        return e.attempt == attempt && e.kind == kind;
    });
}

// The start-log line of the attempt that completed `job`, or nullptr.
const StartRecord* final_start(const std::vector<StartRecord>& log, const Job& job) {
    for (const StartRecord& r : log) {
        if (r.id == job.id && r.attempt == job.attempt) return &r;
    }
    return nullptr;
}

}  // namespace

TEST_CASE("a worker killed with SIGKILL mid-job loses nothing: its jobs are rescued and rerun") {
    Database db;
    std::vector<JobSpec> specs;
    for (int i = 0; i < 200; ++i)
        specs.push_back(JobSpec{"demo.sleep", {{"ms", 20 + (i % 4) * 10}}});
    const std::vector<JobId> ids = db.enqueue(specs);

    // A short lease and a quick rescuer, so the successor takes over within seconds.
    const std::vector<std::string> args = db.worker_args(
        {"--concurrency", "8", "--lease-ms", "1000", "--rescue-ms", "200", "--poll-ms", "100"});
    std::map<JobId, int> interrupted;  // job -> the attempt that was running at the kill
    {
        WorkerProcess first(db.dir.path(), "worker-1", args);
        first.wait_ready();
        wait_until(
            [&] {
                return read_start_log(db.log).size() >= 16 &&
                       count_in(db.store, JobState::running) > 0;
            },
            "worker-1 to be part-way through the jobs", [&] { return first.describe(); });
        first.signal(SIGKILL);
        const int status = first.wait_exit();
        REQUIRE(WIFSIGNALED(status));
        REQUIRE(WTERMSIG(status) == SIGKILL);

        // Nothing changes these rows now: no process runs, and nobody rescues them yet.
        JobFilter running;
        running.states = {JobState::running};
        running.limit = 500;
        for (const Job& j : db.store.list(running).jobs) interrupted[j.id] = j.attempt;
    }
    REQUIRE_FALSE(interrupted.empty());
    MESSAGE(interrupted.size() << " jobs were running when worker-1 was killed");
    REQUIRE(count_in(db.store, JobState::completed) < 200);

    WorkerProcess second(db.dir.path(), "worker-2", args);
    second.wait_ready();
    db.wait_completed(200, {&second});
    second.stop_gracefully();

    const std::vector<Job> jobs = all_jobs(db.store);
    const std::vector<StartRecord> log = read_start_log(db.log);

    // Every job is in the store once, and completed.
    REQUIRE(jobs.size() == ids.size());
    std::set<JobId> stored;
    for (const Job& j : jobs) {
        CHECK(stored.insert(j.id).second);
        CHECK_MESSAGE(j.state == JobState::completed,
                      "job " << j.id << " is " << to_string(j.state));
    }
    CHECK(stored == std::set<JobId>(ids.begin(), ids.end()));

    // The interrupted attempts were rescued after their lease ran out, and ran again.
    for (const Job& j : jobs) {
        const auto it = interrupted.find(j.id);
        if (it == interrupted.end()) continue;
        CAPTURE(j.id);
        CHECK(j.attempt > it->second);
        CHECK(has_error(j, it->second, "lease_expired"));
    }

    // No attempt started twice, and the attempt that completed each job did start, in the
    // worker the store names.
    CHECK(duplicate_attempts(log).empty());
    for (const Job& j : jobs) {
        const StartRecord* start = final_start(log, j);
        REQUIRE_MESSAGE(start != nullptr,
                        "job " << j.id << " attempt " << j.attempt << " not in the log");
        CHECK(start->worker_id == j.worker_id);
    }
}

TEST_CASE("two worker processes on one file share the work and never run one attempt twice") {
    Database db;
    const std::vector<std::string> args =
        db.worker_args({"--concurrency", "8", "--poll-ms", "100", "--lease-ms", "10000"});
    WorkerProcess a(db.dir.path(), "worker-a", args);
    WorkerProcess b(db.dir.path(), "worker-b", args);
    const std::string id_a = a.wait_ready();
    const std::string id_b = b.wait_ready();
    REQUIRE(id_a != id_b);

    // Enqueued once both are idle, so that neither has a head start. Half the jobs sleep
    // 10 ms, which keeps one worker alone busy for over a second: plenty of time for the
    // other's next poll.
    std::vector<JobSpec> specs;
    for (int i = 0; i < 2000; ++i) {
        specs.push_back(i % 2 == 0 ? JobSpec{"demo.noop"} : JobSpec{"demo.sleep", {{"ms", 10}}});
    }
    const std::vector<JobId> ids = db.enqueue(specs);
    db.wait_completed(2000, {&a, &b});
    a.stop_gracefully();
    b.stop_gracefully();

    const std::vector<Job> jobs = all_jobs(db.store);
    const std::vector<StartRecord> log = read_start_log(db.log);
    REQUIRE(jobs.size() == ids.size());
    CHECK(duplicate_attempts(log).empty());

    std::map<std::string, int> completed_by;  // worker id -> jobs it completed
    for (const Job& j : jobs) {
        CHECK(j.state == JobState::completed);
        const StartRecord* start = final_start(log, j);
        REQUIRE_MESSAGE(start != nullptr,
                        "job " << j.id << " attempt " << j.attempt << " not in the log");
        CHECK(start->worker_id == j.worker_id);
        ++completed_by[j.worker_id];
    }
    MESSAGE("worker-a completed " << completed_by[id_a] << " jobs, worker-b "
                                  << completed_by[id_b]);
    CHECK(completed_by[id_a] > 0);
    CHECK(completed_by[id_b] > 0);
    CHECK(completed_by[id_a] + completed_by[id_b] == 2000);
}

TEST_CASE("SIGTERM stops a worker within its grace period and hands running jobs back") {
    Database db;
    // Sleeps far longer than the grace period, so the stop must interrupt them; short enough
    // that the next worker finishes them quickly.
    constexpr int job_count = 4;
    std::vector<JobSpec> specs;
    for (int i = 0; i < job_count; ++i) {
        specs.push_back(JobSpec{"demo.sleep", {{"ms", 5000}}}.max_attempts(3));
    }
    const std::vector<JobId> ids = db.enqueue(specs);
    const std::vector<std::string> args =
        db.worker_args({"--concurrency", "8", "--poll-ms", "100", "--grace-ms", "300"});

    {
        WorkerProcess first(db.dir.path(), "worker-1", args);
        first.wait_ready();
        wait_until([&] { return read_start_log(db.log).size() == job_count; }, "every job to start",
                   [&] { return first.describe(); });
        // The handlers have begun; their jobs are now running in the store.
        first.stop_gracefully();
        CHECK(first.stdout_text().find("stopping on signal") != std::string::npos);
    }

    for (JobId id : ids) {
        const std::optional<Job> j = db.store.get(id);
        REQUIRE(j.has_value());
        CAPTURE(id);
        CHECK((j->state == JobState::available || j->state == JobState::retryable));
        CHECK(j->attempt == 1);
        CHECK(j->max_attempts == 4);  // the interrupted attempt was refunded
        REQUIRE(j->errors.size() == 1);
        CHECK(j->errors.front().attempt == 1);
        CHECK(j->errors.front().kind == "shutdown");
    }

    WorkerProcess second(db.dir.path(), "worker-2", args);
    second.wait_ready();
    db.wait_completed(job_count, {&second});
    second.stop_gracefully();
    for (JobId id : ids) {
        const std::optional<Job> j = db.store.get(id);
        REQUIRE(j.has_value());
        CAPTURE(id);
        CHECK(j->state == JobState::completed);
        CHECK(j->attempt == 2);
        CHECK(j->max_attempts == 4);
    }
    CHECK(duplicate_attempts(read_start_log(db.log)).empty());
}

TEST_CASE("demo_worker rejects bad arguments with a message and exit status 2") {
    TempDir dir;
    const std::string db = (dir.path() / "jobs.db").string();
    const std::vector<std::pair<std::vector<std::string>, std::string>> cases{
        {{"--db", db, "--concurrency", "0"}, "--concurrency"},
        {{"--db", db, "--lease-ms", "soon"}, "--lease-ms"},
        {{"--db", db, "--frobnicate", "1"}, "--frobnicate"},
        {{"--db"}, "--db"},
        {{"--db", "nosuch://x"}, "nosuch"},
    };
    int n = 0;
    for (const auto& [args, mentions] : cases) {
        CAPTURE(mentions);
        WorkerProcess w(dir.path(), "bad-" + std::to_string(n++), args);
        const int status = w.wait_exit();
        REQUIRE(WIFEXITED(status));
        CHECK(WEXITSTATUS(status) == 2);
        CHECK(w.stderr_text().find(mentions) != std::string::npos);
    }
}

}  // namespace jobq::itest
