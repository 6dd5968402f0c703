// Cron schedules on PostgreSQL, beyond the shared conformance suite: the exactly-once fire step
// under a real race between processes (two stores with pools of their own, many threads each),
// syncs of one declared set by a whole deploy at once, a removal racing a fire, the upgrade of
// a version-1 schema, and what the server's collation and jsonb could otherwise change.

#include <algorithm>
#include <atomic>
#include <barrier>
#include <chrono>
#include <cstdint>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <doctest/doctest.h>
#include <pqxx/pqxx>

#include "jobq/backend/new_job.hpp"
#include "jobq/error.hpp"
#include "jobq/job_spec.hpp"
#include "jobq/postgres/postgres_store.hpp"
#include "jobq/schedule_record.hpp"
#include "pg_fixture.hpp"

namespace jobq::pgtest {

namespace {

using namespace std::chrono_literals;

const Timestamp t0 = Timestamp{} + std::chrono::hours{24 * 365 * 50};

Timestamp at(std::int64_t seconds) {
    return t0 + std::chrono::seconds{seconds};
}

std::int64_t micros(Timestamp t) {
    return t.time_since_epoch().count();
}

ScheduleRecord record(std::string name, Timestamp cursor = t0) {
    ScheduleRecord r;
    r.name = std::move(name);
    r.expression = "* * * * * *";
    r.zone = "UTC";
    r.job = R"({"kind":"cron.tick"})";
    r.misfire = R"({"mode":"catch_up"})";
    r.cursor = cursor;
    r.created_at = cursor;
    r.updated_at = cursor;
    return r;
}

// The job of window `fire_at`: its payload names the window, so a window enqueued twice shows
// as two jobs with one payload.
WindowJob window(Timestamp fire_at, const std::string& queue, bool unique = false) {
    JobSpec spec{"cron.tick", {{"fire_at", micros(fire_at)}}};
    spec.queue(queue);
    if (unique) spec.unique_key("tick:" + std::to_string(micros(fire_at)));
    return WindowJob{fire_at, to_new_job(spec, fire_at)};
}

std::string read_text(const std::string& path) {
    std::ifstream in(path);
    REQUIRE_MESSAGE(in.good(), "cannot read " << path);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

}  // namespace

TEST_SUITE_BEGIN("schedules");

TEST_CASE("racing firers in two processes move each cursor once and enqueue each window once") {
    // Every round, all racers fire the same expected cursor at the same moment; each request
    // covers three windows, two of them already handled by the previous round (as a scheduler
    // catching up after a clock skew would send), and one skipped entry. One racer per round
    // may win; the rest must write nothing.
    constexpr int rounds = 150;
    constexpr int threads_per_store = 4;
    ScratchSchema schema{"fire"};
    PostgresStore first{schema.url(), schema.options()};
    PostgresStore second{schema.url(), schema.options(false)};
    REQUIRE(first.add_schedule(record("tick")));
    const std::string queue = "ticks";

    std::barrier start(2 * threads_per_store);
    std::mutex mutex;
    std::map<int, std::vector<FireResult>> won;  // round -> the applied results
    std::vector<std::string> failures;
    auto racer = [&](PostgresStore& store) {
        for (int round = 0; round < rounds; ++round) {
            FireRequest f;
            f.name = "tick";
            f.expected_cursor = at(2 * round);
            f.new_cursor = at(2 * round + 2);
            for (int w = 1; w <= 3; ++w) {
                // Odd windows are unique jobs: the advisory-lock path of insert() races too.
                f.windows.push_back(window(at(2 * round + 2 * w), queue, w % 2 == 1));
            }
            ScheduleRun skipped;
            skipped.schedule = "tick";
            skipped.fire_at = at(2 * round + 1);
            skipped.outcome = WindowOutcome::skipped;
            skipped.last_fire_at = at(2 * round + 1);
            skipped.reason = "misfire policy skip";
            f.skipped = {skipped};
            f.now = at(2 * round + 2);
            start.arrive_and_wait();
            try {
                FireResult r = store.fire_schedule(f);
                if (r.applied) {
                    std::lock_guard lock(mutex);
                    won[round].push_back(std::move(r));
                }
            } catch (const std::exception& e) {
                std::lock_guard lock(mutex);
                failures.push_back(e.what());
            }
        }
    };
    std::vector<std::thread> threads;
    for (int i = 0; i < threads_per_store; ++i) {
        threads.emplace_back(racer, std::ref(first));
        threads.emplace_back(racer, std::ref(second));
    }
    for (std::thread& t : threads) t.join();

    CHECK(failures.empty());
    for (const std::string& f : failures) MESSAGE(f);
    // Exactly one winner per cursor value; the first round's three windows are new, later
    // rounds add one new window each (the other two are in the history: id 0).
    REQUIRE(won.size() == static_cast<std::size_t>(rounds));
    for (const auto& [round, results] : won) {
        INFO("round " << round);
        REQUIRE(results.size() == 1);
        const FireResult& r = results.front();
        REQUIRE(r.jobs.size() == 3);
        CHECK(r.jobs[2].id > 0);
        CHECK_FALSE(r.jobs[2].duplicate);
        if (round > 0) {
            CHECK(r.jobs[0].id == 0);
            CHECK(r.jobs[1].id == 0);
        }
    }
    CHECK(first.schedule("tick")->cursor == at(2 * rounds));

    // Every window once in the jobs and once in the history, each entry naming its job.
    const int expected_windows = rounds + 2;
    std::map<std::int64_t, JobId> job_of_window;
    for (const Job& j : jobs_in_queue(first, queue)) {
        const std::int64_t fire_at = j.payload.at("fire_at").get<std::int64_t>();
        INFO("window " << fire_at);
        CHECK(job_of_window.emplace(fire_at, j.id).second);
    }
    CHECK(job_of_window.size() == static_cast<std::size_t>(expected_windows));
    int enqueued = 0;
    int skipped = 0;
    for (const ScheduleRun& run : second.schedule_runs("tick", 10 * rounds)) {
        if (run.outcome == WindowOutcome::skipped) {
            ++skipped;
            continue;
        }
        ++enqueued;
        REQUIRE(run.job_id.has_value());
        CHECK(job_of_window.at(micros(run.fire_at)) == *run.job_id);
    }
    CHECK(enqueued == expected_windows);
    CHECK(skipped == rounds);
}

TEST_CASE("a deploy of many processes syncing one declared set adds each schedule once") {
    constexpr int processes = 6;
    ScratchSchema schema{"sync"};
    std::vector<std::unique_ptr<PostgresStore>> stores;
    for (int i = 0; i < processes; ++i) {
        stores.push_back(
            std::make_unique<PostgresStore>(schema.url(), schema.options(/*migrate=*/i == 0)));
    }
    // The previous release declared "old" and an older definition of "b".
    ScheduleRecord old = record("old");
    old.declared = true;
    ScheduleRecord b_before = record("b");
    b_before.declared = true;
    b_before.expression = "0 * * * *";
    REQUIRE(stores[0]->add_schedule(old));
    REQUIRE(stores[0]->add_schedule(b_before));

    std::vector<ScheduleRecord> declared;
    for (const char* name : {"a", "b", "c", "d"}) {
        ScheduleRecord r = record(name, at(100));
        r.declared = true;
        declared.push_back(r);
    }
    std::barrier start(processes);
    std::mutex mutex;
    ScheduleSync total;
    std::vector<std::string> failures;
    std::vector<std::thread> threads;
    for (auto& store : stores) {
        threads.emplace_back([&, s = store.get()] {
            start.arrive_and_wait();
            try {
                const ScheduleSync r = s->sync_declared_schedules(declared, at(100));
                std::lock_guard lock(mutex);
                total.added += r.added;
                total.updated += r.updated;
                total.removed += r.removed;
            } catch (const std::exception& e) {
                std::lock_guard lock(mutex);
                failures.push_back(e.what());
            }
        });
    }
    for (std::thread& t : threads) t.join();

    CHECK(failures.empty());
    for (const std::string& f : failures) MESSAGE(f);
    CHECK(total == ScheduleSync{3, 1, 1});
    std::vector<std::string> names;
    for (const ScheduleRecord& r : stores[0]->schedules()) names.push_back(r.name);
    CHECK(names == std::vector<std::string>{"a", "b", "c", "d"});
    CHECK(stores[0]->schedule("b")->expression == declared[1].expression);
}

TEST_CASE("a schedule removed while a fire holds it leaves no history behind") {
    // Another process's fire has moved the cursor and written its history entry but not yet
    // committed; the removal waits for it and must then delete that entry too, or a schedule
    // re-added under the name would find the window already handled.
    ScratchSchema schema{"rmfire"};
    PostgresStore store{schema.url(), schema.options()};
    REQUIRE(store.add_schedule(record("nightly")));

    pqxx::connection firer{schema.url()};
    const int firer_pid = firer.backendpid();
    pqxx::work tx{firer};
    tx.exec0("UPDATE " + schema.qualified("schedules") +
             " SET cursor = " + std::to_string(micros(at(60))) + " WHERE name = 'nightly'");
    tx.exec0("INSERT INTO " + schema.qualified("schedule_runs") +
             " (schedule, fire_at, outcome, job_id, last_fire_at, count, reason, recorded_at)"
             " VALUES ('nightly', " +
             std::to_string(micros(at(60))) + ", 'enqueued', NULL, " +
             std::to_string(micros(at(60))) + ", 1, '', " + std::to_string(micros(at(60))) + ")");

    std::atomic<int> removed{-1};
    std::string failure;
    std::thread remover([&] {
        try {
            removed = store.remove_schedule("nightly") ? 1 : 0;
        } catch (const std::exception& e) {
            failure = e.what();
            removed = 2;
        }
    });
    pqxx::connection observer{schema.url()};
    // The remover is blocked behind the fire's row lock (or already done, which the checks
    // below would show as a failure of the test's premise).
    wait_until(
        [&] {
            pqxx::nontransaction q{observer};
            const pqxx::result r = q.exec(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                " AND pid <> " +
                std::to_string(firer_pid) + " AND query LIKE '%DELETE%'");
            return r[0][0].as<int>() > 0 || removed != -1;
        },
        "the removal to wait for the fire");
    CHECK(removed == -1);
    tx.commit();
    remover.join();
    CHECK(failure.empty());
    CHECK(removed == 1);

    pqxx::nontransaction q{observer};
    CHECK(q.exec("SELECT count(*) FROM " + schema.qualified("schedule_runs"))[0][0].as<int>() == 0);
    REQUIRE(store.add_schedule(record("nightly")));
    FireRequest f;
    f.name = "nightly";
    f.expected_cursor = t0;
    f.new_cursor = at(60);
    f.windows = {window(at(60), "default")};
    f.now = at(60);
    const FireResult r = store.fire_schedule(f);
    REQUIRE(r.applied);
    CHECK(r.jobs.at(0).id > 0);
}

TEST_CASE("a version-1 schema migrates to the latest version and keeps its jobs") {
    ScratchSchema reference{"v2ref"};
    const int latest = PostgresStore{reference.url(), reference.options(false)}.migrate();
    REQUIRE(latest >= 2);

    // Version 1 exactly as a release of that version left it: its migration file, its meta row.
    ScratchSchema schema{"v1"};
    const std::string quoted = "\"" + schema.name() + "\"";
    std::string v1 =
        read_text(std::string(JOBQ_SOURCE_DIR) + "/backends/postgres/sql/001_initial.sql");
    for (std::size_t p = v1.find("@schema@"); p != std::string::npos; p = v1.find("@schema@", p)) {
        v1.replace(p, 8, quoted);
    }
    std::vector<JobId> ids;
    {
        pqxx::connection c{schema.url()};
        pqxx::work tx{c};
        tx.exec0("CREATE SCHEMA " + quoted);
        tx.exec0("CREATE TABLE " + quoted + ".meta (key text PRIMARY KEY, value integer NOT NULL)");
        tx.exec(v1);
        tx.exec0("INSERT INTO " + quoted + ".meta VALUES ('schema_version', 1)");
        for (int i = 0; i < 3; ++i) {
            ids.push_back(tx.exec1("INSERT INTO " + quoted +
                                   ".jobs (kind, queue, payload, priority, state, max_attempts,"
                                   " created_at, run_at) VALUES ('legacy.job', 'old', '{\"n\": " +
                                   std::to_string(i) +
                                   "}', 0, 'available', 3, 1, 1) RETURNING id")[0]
                              .as<JobId>());
        }
        tx.commit();
    }

    PostgresStore store{schema.url(), schema.options(false)};
    CHECK(store.schema_version() == 1);
    try {
        store.schedules();
        FAIL("a store on a version-1 schema read schedules");
    } catch (const Error& e) {
        CHECK(e.code() == ErrorCode::schema);
    }

    CHECK(store.migrate() == latest);
    CHECK(store.schema_version() == latest);
    for (std::size_t i = 0; i < ids.size(); ++i) {
        const std::optional<Job> job = store.get(ids[i]);
        REQUIRE(job.has_value());
        CHECK(job->kind == "legacy.job");
        CHECK(job->payload.at("n") == static_cast<int>(i));
        CHECK(job->state == JobState::available);
    }
    CHECK(store.schedules().empty());
    REQUIRE(store.add_schedule(record("after")));
    CHECK(store.schedule("after") == record("after"));
    check_round_trip(store, "after_upgrade");
    // New jobs continue the old identity: no id is handed out twice.
    CHECK(insert_one(store, JobSpec{"new.job"}.queue("new")) > ids.back());
}

TEST_CASE("definitions read back byte for byte and names sort byte by byte") {
    ScratchSchema schema{"bytes"};
    PostgresStore store{schema.url(), schema.options()};
    // What jsonb would normalise, and names a linguistic collation would order differently.
    ScheduleRecord r = record("b");
    r.job = "{ \"z\" : 1,\n\t\"a\": \"\\u00e9 \xc3\xa9\", \"a\": 2 }";
    r.misfire = "{\"mode\":\"skip\",\"grace_us\":1.0e6}";
    REQUIRE(store.add_schedule(r));
    CHECK(store.schedule("b") == r);
    for (const char* name : {"a", "B", "_x", "\xc3\xa9t\xc3\xa9", "A"}) {
        REQUIRE(store.add_schedule(record(name)));
    }
    std::vector<std::string> names;
    for (const ScheduleRecord& s : store.schedules()) names.push_back(s.name);
    std::vector<std::string> sorted = names;
    std::sort(sorted.begin(), sorted.end());
    CHECK(names == sorted);
    CHECK(names.front() == "A");
}

TEST_CASE("bad arguments are refused before anything is written") {
    ScratchSchema schema{"badarg"};
    PostgresStore store{schema.url(), schema.options()};
    auto field_of = [](auto&& f) -> std::string {
        try {
            f();
        } catch (const Error& e) {
            CHECK(e.code() == ErrorCode::invalid_argument);
            return e.field();
        }
        return "(no error)";
    };
    CHECK(field_of([&] { store.add_schedule(record("")); }) == "name");
    CHECK(field_of([&] { store.schedule_runs("x", 0); }) == "limit");
    CHECK(field_of([&] { store.schedule_runs("", 5); }) == "name");
    FireRequest f;
    CHECK(field_of([&] { store.fire_schedule(f); }) == "name");
    const std::vector<ScheduleRecord> twice{record("a"), record("a")};
    CHECK(field_of([&] { store.sync_declared_schedules(twice, t0); }) == "name");
    CHECK(store.schedules().empty());
}

TEST_SUITE_END();  // schedules

}  // namespace jobq::pgtest
