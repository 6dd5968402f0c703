#pragma once
// What the PostgreSQL tests share: the server under test ($JOBQ_TEST_POSTGRES_URL), a fresh
// schema per case (dropped at the end), store shortcuts, and the bounded waits, temp directories
// and child processes of tests/integration/process_harness.hpp. Nothing here sleeps to
// synchronise: every wait polls a condition against a deadline.

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <doctest/doctest.h>
#include <pqxx/pqxx>

#include "jobq/backend/new_job.hpp"
#include "jobq/backend/store.hpp"
#include "jobq/clock.hpp"
#include "jobq/job.hpp"
#include "jobq/job_spec.hpp"
#include "jobq/postgres/postgres_store.hpp"
#include "process_harness.hpp"  // tests/integration

namespace doctest {
template <>
struct StringMaker<jobq::JobState> {
    static String convert(jobq::JobState s) { return std::string(jobq::to_string(s)).c_str(); }
};
}  // namespace doctest

namespace jobq::pgtest {

// From the process harness of the integration tests: bounded waits, temp directories, files,
// child processes, and reading every job or counting jobs in a state.
using itest::all_jobs;
using itest::ChildProcess;
using itest::count_in;
using itest::default_deadline;
using itest::poll_period;
using itest::read_file;
using itest::SpawnOptions;
using itest::SteadyClock;
using itest::TempDir;
using itest::wait_until;

/// Seconds since `start`, for MESSAGE lines.
inline double seconds_since(SteadyClock::time_point start) {
    return std::chrono::duration<double>(SteadyClock::now() - start).count();
}

// ---- the server under test ----------------------------------------------------------------

/// $JOBQ_TEST_POSTGRES_URL; fails the test with a clear message when it is not set.
inline std::string server_url() {
    const char* url = std::getenv("JOBQ_TEST_POSTGRES_URL");
    if (url == nullptr || *url == '\0') {
        FAIL(
            "JOBQ_TEST_POSTGRES_URL is not set: the PostgreSQL tests need a running server. Run "
            "them through scripts/test.sh, or export the URL of a server you started (for "
            "example with scripts/pg.sh start DIR).");
    }
    return url;
}

/// A schema name no other test (in this run or an earlier one) uses: jobq_t_<tag>_<pid>_<salt>_<n>.
inline std::string unique_schema(const std::string& tag) {
    static std::atomic<int> counter{0};
    static const unsigned salt = std::random_device{}() % 1'000'000u;
    return "jobq_t_" + tag + "_" + std::to_string(::getpid()) + "_" + std::to_string(salt) + "_" +
           std::to_string(counter++);
}

/// Runs one statement in its own transaction on a connection of its own.
inline void exec_sql(const std::string& url, const std::string& sql) {
    pqxx::connection c{url};
    pqxx::work tx{c};
    tx.exec(sql);
    tx.commit();
}

/// A schema name (created by migrate(), or not at all) that is dropped with everything in it
/// when this object goes. Stores on it must be destroyed first.
class ScratchSchema {
  public:
    explicit ScratchSchema(std::string tag, std::string url = server_url())
        : url_(std::move(url)), name_(unique_schema(tag)) {}
    ~ScratchSchema() {
        try {
            exec_sql(url_, "DROP SCHEMA IF EXISTS \"" + name_ + "\" CASCADE");
        } catch (const std::exception& e) {
            std::fprintf(stderr, "postgres_tests: could not drop schema %s: %s\n", name_.c_str(),
                         e.what());
        }
    }
    ScratchSchema(const ScratchSchema&) = delete;
    ScratchSchema& operator=(const ScratchSchema&) = delete;

    const std::string& url() const noexcept { return url_; }
    const std::string& name() const noexcept { return name_; }
    /// `schema.name`, quoted, for SQL the test writes itself.
    std::string qualified(const std::string& table) const {
        return "\"" + name_ + "\".\"" + table + "\"";
    }
    /// Options of a store on this schema.
    PostgresOptions options(bool migrate = true) const {
        PostgresOptions o;
        o.schema = name_;
        o.migrate = migrate;
        return o;
    }

  private:
    std::string url_;
    std::string name_;
};

// ---- store shortcuts ------------------------------------------------------------------------

/// Inserts one job now; returns its id.
inline JobId insert_one(Store& store, const JobSpec& spec) {
    const NewJob job = to_new_job(spec, system_clock().now());
    const std::vector<InsertResult> r = store.insert(std::span<const NewJob>(&job, 1));
    REQUIRE(r.size() == 1);
    return r[0].id;
}

/// The jobs of one queue.
inline std::vector<Job> jobs_in_queue(Store& store, const std::string& queue) {
    JobFilter filter;
    filter.queue = queue;
    return all_jobs(store, filter);
}

/// Claims up to `limit` jobs of `queue` for `worker_id` now, with a 30 s lease (as a worker
/// would).
inline std::vector<Job> claim_now(Store& store, const std::string& queue, int limit,
                                  const std::string& worker_id) {
    const Timestamp now = system_clock().now();
    ClaimRequest req;
    req.queues = {{queue, limit}};
    req.worker_id = worker_id;
    req.now = now;
    req.lease_expires_at = now + std::chrono::seconds{30};
    return store.claim(req).jobs;
}

/// Enqueues, claims and completes one job of `queue`: the store does its everyday work.
inline void check_round_trip(Store& store, const std::string& queue) {
    const JobId id = insert_one(store, JobSpec{"pg.round_trip", {{"queue", queue}}}.queue(queue));
    const std::vector<Job> claimed = claim_now(store, queue, 5, "round-trip");
    REQUIRE(claimed.size() == 1);
    CHECK(claimed[0].id == id);
    CHECK(claimed[0].state == JobState::running);
    Outcome done;
    done.id = id;
    done.attempt = claimed[0].attempt;
    done.worker_id = "round-trip";
    done.kind = OutcomeKind::complete;
    done.at = system_clock().now();
    const std::vector<bool> applied = store.complete(std::span<const Outcome>(&done, 1));
    REQUIRE(applied.size() == 1);
    CHECK(applied[0]);
    const std::optional<Job> job = store.get(id);
    REQUIRE(job.has_value());
    CHECK(job->state == JobState::completed);
}

}  // namespace jobq::pgtest
