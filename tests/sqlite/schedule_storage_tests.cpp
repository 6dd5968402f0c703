// Cron schedule storage as only the SQLite backend has it: the migration from a version-1
// file, full disks, the in-process wake-ups of fired jobs, bad input that must write nothing,
// and the query plans behind fire and prune. The shared contract is in
// tests/conformance/schedule_conformance.cpp.

#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <sqlite3.h>

#include "faulty_disk.hpp"
#include "jobq/backend/new_job.hpp"
#include "jobq/backend/notifier.hpp"
#include "jobq/error.hpp"
#include "jobq/job_spec.hpp"
#include "jobq/sqlite/sqlite_store.hpp"
#include "schema.hpp"
#include "statements.hpp"
#include "support/fixed_time.hpp"
#include "support/temp_dir.hpp"

namespace jobq {
namespace {

using namespace std::chrono_literals;
using test::at;
using test::t0;
using test::TempDir;

SqliteOptions migrated() {
    SqliteOptions o;
    o.durability = SqliteDurability::normal;
    o.migrate = true;
    return o;
}

/// A plain connection, to look at the file as another program would.
class RawConnection {
  public:
    explicit RawConnection(const std::string& file) {
        REQUIRE(sqlite3_open(file.c_str(), &db_) == SQLITE_OK);
        sqlite3_busy_timeout(db_, 10000);
    }
    ~RawConnection() { sqlite3_close_v2(db_); }
    RawConnection(const RawConnection&) = delete;
    RawConnection& operator=(const RawConnection&) = delete;

    void exec(const std::string& sql) {
        char* message = nullptr;
        const int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &message);
        const std::string text = message != nullptr ? message : "";
        sqlite3_free(message);
        REQUIRE_MESSAGE(rc == SQLITE_OK, sql << ": " << text);
    }
    /// A column of every row of `sql`, as text.
    std::vector<std::string> column(const std::string& sql, int index = 0) {
        sqlite3_stmt* stmt = nullptr;
        REQUIRE_MESSAGE(sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK,
                        sqlite3_errmsg(db_));
        std::vector<std::string> out;
        while (sqlite3_step(stmt) == SQLITE_ROW) {
            const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt, index));
            out.emplace_back(p != nullptr ? p : "");
        }
        sqlite3_finalize(stmt);
        return out;
    }
    std::int64_t count(const std::string& sql) { return std::stoll(column(sql).at(0)); }

  private:
    sqlite3* db_ = nullptr;
};

ScheduleRecord record(std::string name, Timestamp cursor = t0) {
    ScheduleRecord r;
    r.name = std::move(name);
    r.expression = "* * * * *";
    r.zone = "UTC";
    r.job = R"({"kind":"tick"})";
    r.misfire = R"({"mode":"skip"})";
    r.cursor = cursor;
    r.created_at = cursor;
    r.updated_at = cursor;
    return r;
}

WindowJob window(Timestamp fire_at, std::string queue = "default") {
    return WindowJob{fire_at,
                     to_new_job(JobSpec{"tick"}.queue(std::move(queue)).run_at(fire_at), fire_at)};
}

FireRequest fire(const std::string& name, Timestamp expected, Timestamp next,
                 std::vector<WindowJob> windows) {
    FireRequest f;
    f.name = name;
    f.expected_cursor = expected;
    f.new_cursor = next;
    f.windows = std::move(windows);
    f.now = next;
    return f;
}

ScheduleRun skipped_run(const std::string& schedule, Timestamp first, Timestamp recorded_at) {
    ScheduleRun r;
    r.schedule = schedule;
    r.fire_at = first;
    r.outcome = WindowOutcome::skipped;
    r.last_fire_at = first;
    r.count = 1;
    r.reason = "misfire policy skip";
    r.recorded_at = recorded_at;
    return r;
}

template <class F>
std::optional<Error> error_of(F&& f) {
    try {
        f();
    } catch (const Error& e) {
        return e;
    }
    return std::nullopt;
}

/// Records the queues a notifier announces.
struct Wakeups {
    std::mutex mutex;
    std::map<std::string, int> per_queue;
    Subscription subscription;

    explicit Wakeups(Notifier& n) {
        subscription = n.subscribe([this](std::string_view queue) {
            std::lock_guard lock(mutex);
            ++per_queue[std::string(queue)];
        });
    }
    std::map<std::string, int> take() {
        std::lock_guard lock(mutex);
        return std::exchange(per_queue, {});
    }
};

/// Everything the cron tables hold, as text, to show that a failed call changed nothing.
std::vector<std::string> cron_tables(RawConnection& raw) {
    std::vector<std::string> rows = raw.column(
        "SELECT name || '|' || cursor || '|' || paused || '|' || declared || '|' ||"
        " updated_at FROM jobq_schedules ORDER BY name");
    for (std::string& run :
         raw.column("SELECT schedule || '|' || fire_at || '|' || outcome FROM jobq_schedule_runs"
                    " ORDER BY schedule, fire_at")) {
        rows.push_back(std::move(run));
    }
    rows.push_back(std::to_string(raw.count("SELECT count(*) FROM jobq_jobs")) + " jobs");
    return rows;
}

/// The plan SQLite chooses for `sql`, one step per line.
std::string query_plan(RawConnection& conn, std::string_view sql) {
    std::string plan;
    for (const std::string& step : conn.column("EXPLAIN QUERY PLAN " + std::string(sql), 3)) {
        plan += step + "\n";
    }
    return plan;
}

}  // namespace

// ---- schema ---------------------------------------------------------------------------------

TEST_CASE("version 2 of the schema adds cron schedules") {
    const auto& all = sqlite_detail::migrations();
    REQUIRE(all.size() >= 2);
    CHECK(all[0].first == 1);
    CHECK(all[1].first == 2);

    TempDir dir;
    SqliteStore store(dir.file(), migrated());
    CHECK(store.schema_version() == sqlite_detail::library_schema_version());
    RawConnection raw(dir.file());
    CHECK(raw.column("SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE"
                     " 'jobq_schedule%' ORDER BY name") ==
          std::vector<std::string>{"jobq_schedule_runs", "jobq_schedules"});
}

TEST_CASE("migrating a version-1 file keeps its jobs and adds the cron tables") {
    TempDir dir;
    {
        // A file as jobq wrote it before cron schedules existed: the first migration only.
        RawConnection raw(dir.file());
        raw.exec(
            "CREATE TABLE jobq_meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL)"
            " WITHOUT ROWID");
        raw.exec(std::string(sqlite_detail::migrations().at(0).second));
        raw.exec("INSERT INTO jobq_meta (key, value) VALUES ('schema_version', 1)");
        raw.exec(
            "INSERT INTO jobq_jobs (kind, queue, payload, priority, state, max_attempts,"
            " created_at, run_at, unique_key)"
            " VALUES ('old.kind', 'old', '{\"a\":1}', 0, 'available', 3, 1, 1, 'g:kept')");
    }
    SqliteStore store(dir.file());
    CHECK(store.schema_version() == 1);
    // A version-1 file is not used until migrated, for jobs and schedules alike.
    CHECK(error_of([&] { store.schedules(); })->code() == ErrorCode::schema);

    const int latest = sqlite_detail::library_schema_version();
    CHECK(store.migrate() == latest);
    CHECK(store.schema_version() == latest);
    const std::optional<Job> old = store.get(1);
    REQUIRE(old.has_value());
    CHECK(old->kind == "old.kind");
    CHECK(old->queue == "old");
    CHECK(old->unique_key == "g:kept");
    CHECK(store.schedules().empty());

    // The unique index of version 1 still coalesces new jobs into old ones.
    NewJob again = to_new_job(JobSpec{"old.kind"}.queue("old").unique_key("kept"), t0);
    again.unique_since.reset();
    CHECK(store.insert(std::span<const NewJob>(&again, 1)).at(0).id == 1);

    REQUIRE(store.add_schedule(record("tick")));
    CHECK(store.fire_schedule(fire("tick", t0, at(60), {window(at(60))})).applied);
    CHECK(store.migrate() == latest);  // idempotent from here on
    CHECK(store.schedule("tick")->cursor == at(60));
}

TEST_CASE("definitions are stored as text, byte for byte") {
    TempDir dir;
    SqliteStore store(dir.file(), migrated());
    ScheduleRecord r = record("unicode ✓");
    r.zone = "America/Argentina/Buenos_Aires";
    // Neither parsed nor normalised: spacing, key order, escapes and even text that is not
    // JSON come back as they went in.
    r.job = "{ \"kind\" : \"a\\u00e9\",\n\t\"payload\": {\"z\":1, \"a\":[ ]} }";
    r.misfire = "not json at all";
    REQUIRE(store.add_schedule(r));
    CHECK(store.schedule("unicode ✓") == r);
    RawConnection raw(dir.file());
    CHECK(raw.column("SELECT typeof(job) || typeof(misfire) FROM jobq_schedules") ==
          std::vector<std::string>{"texttext"});
}

// ---- bad input --------------------------------------------------------------------------------

TEST_CASE("an empty schedule name is rejected naming the field, and nothing is written") {
    TempDir dir;
    SqliteStore store(dir.file(), migrated());
    REQUIRE(store.add_schedule(record("tick")));
    RawConnection raw(dir.file());
    const std::vector<std::string> before = cron_tables(raw);

    std::vector<std::optional<Error>> errors;
    errors.push_back(error_of([&] { store.schedule(""); }));
    errors.push_back(error_of([&] { store.add_schedule(record("")); }));
    errors.push_back(error_of([&] { store.update_schedule(record("")); }));
    errors.push_back(error_of([&] { store.remove_schedule(""); }));
    errors.push_back(error_of([&] { store.set_schedule_paused({"", true, t0, {}, {}}); }));
    errors.push_back(
        error_of([&] { store.fire_schedule(fire("", t0, at(60), {window(at(60))})); }));
    errors.push_back(error_of([&] { store.schedule_runs("", 10); }));
    errors.push_back(error_of([&] {
        const std::vector<ScheduleRecord> declared{record("ok"), record("")};
        store.sync_declared_schedules(declared, t0);
    }));
    for (const std::optional<Error>& e : errors) {
        REQUIRE(e.has_value());
        CHECK(e->code() == ErrorCode::invalid_argument);
        CHECK(e->field() == "name");
    }
    CHECK(cron_tables(raw) == before);
}

TEST_CASE("schedule_runs rejects a limit below 1 naming the field") {
    TempDir dir;
    SqliteStore store(dir.file(), migrated());
    for (int limit : {0, -1}) {
        const std::optional<Error> e = error_of([&] { store.schedule_runs("tick", limit); });
        REQUIRE(e.has_value());
        CHECK(e->code() == ErrorCode::invalid_argument);
        CHECK(e->field() == "limit");
    }
}

TEST_CASE("a declared set naming one schedule twice is rejected and nothing is written") {
    TempDir dir;
    SqliteStore store(dir.file(), migrated());
    ScheduleRecord old = record("old");
    old.declared = true;
    REQUIRE(store.add_schedule(old));
    RawConnection raw(dir.file());
    const std::vector<std::string> before = cron_tables(raw);

    ScheduleRecord other = record("twice");
    other.expression = "0 * * * *";
    const std::vector<ScheduleRecord> declared{record("new"), record("twice"), other};
    const std::optional<Error> e = error_of([&] { store.sync_declared_schedules(declared, t0); });
    REQUIRE(e.has_value());
    CHECK(e->code() == ErrorCode::invalid_argument);
    CHECK(e->field() == "name");
    CHECK(std::string(e->what()).find("'twice'") != std::string::npos);
    CHECK(cron_tables(raw) == before);
}

TEST_CASE("a skipped entry of another schedule is rejected and nothing is written") {
    TempDir dir;
    SqliteStore store(dir.file(), migrated());
    REQUIRE(store.add_schedule(record("tick")));
    REQUIRE(store.set_schedule_paused({"tick", true, at(1), {}, {}}).changed);
    RawConnection raw(dir.file());
    const std::vector<std::string> before = cron_tables(raw);

    const std::optional<Error> resume = error_of([&] {
        store.set_schedule_paused(
            {"tick", false, at(120), at(120), skipped_run("tock", at(60), at(120))});
    });
    REQUIRE(resume.has_value());
    CHECK(resume->code() == ErrorCode::invalid_argument);
    CHECK(resume->field() == "skipped.schedule");
    CHECK(cron_tables(raw) == before);

    REQUIRE(store.set_schedule_paused({"tick", false, at(120), at(120), std::nullopt}).changed);
    const std::vector<std::string> resumed = cron_tables(raw);
    FireRequest f = fire("tick", at(120), at(240), {window(at(240))});
    f.skipped = {skipped_run("tock", at(180), at(240))};
    const std::optional<Error> fired = error_of([&] { store.fire_schedule(f); });
    REQUIRE(fired.has_value());
    CHECK(fired->code() == ErrorCode::invalid_argument);
    CHECK(fired->field() == "skipped.schedule");
    CHECK(cron_tables(raw) == resumed);

    // An entry that leaves the schedule empty belongs to the schedule of the request.
    f.skipped = {skipped_run("", at(180), at(240))};
    REQUIRE(store.fire_schedule(f).applied);
    const std::vector<ScheduleRun> runs = store.schedule_runs("tick", 10);
    REQUIRE(runs.size() == 2);
    CHECK(runs[1].schedule == "tick");
    CHECK(runs[1].outcome == WindowOutcome::skipped);
}

// ---- history entries ----------------------------------------------------------------------

TEST_CASE("an enqueued entry records its one window and no reason") {
    TempDir dir;
    SqliteStore store(dir.file(), migrated());
    REQUIRE(store.add_schedule(record("tick")));
    FireRequest f = fire("tick", t0, at(60), {window(at(60))});
    f.now = at(61);
    const FireResult r = store.fire_schedule(f);
    REQUIRE(r.applied);
    ScheduleRun expected;
    expected.schedule = "tick";
    expected.fire_at = at(60);
    expected.outcome = WindowOutcome::enqueued;
    expected.job_id = r.jobs.at(0).id;
    expected.last_fire_at = at(60);
    expected.count = 1;
    expected.recorded_at = at(61);
    CHECK(store.schedule_runs("tick", 10) == std::vector<ScheduleRun>{expected});
}

TEST_CASE("a skipped entry whose window is already recorded is left out") {
    TempDir dir;
    SqliteStore store(dir.file(), migrated());
    REQUIRE(store.add_schedule(record("tick")));
    FireRequest f = fire("tick", t0, at(120), {window(at(120))});
    // The same window both enqueued and skipped: the first entry of a window stands.
    f.skipped = {skipped_run("tick", at(60), at(120)), skipped_run("tick", at(120), at(120))};
    REQUIRE(store.fire_schedule(f).applied);
    const std::vector<ScheduleRun> runs = store.schedule_runs("tick", 10);
    REQUIRE(runs.size() == 2);
    CHECK(runs[0].fire_at == at(120));
    CHECK(runs[0].outcome == WindowOutcome::enqueued);
    CHECK(runs[1].fire_at == at(60));
    CHECK(runs[1].outcome == WindowOutcome::skipped);
}

TEST_CASE("prune deletes at most limit history entries per call, oldest first") {
    TempDir dir;
    SqliteStore store(dir.file(), migrated());
    REQUIRE(store.add_schedule(record("tick")));
    Timestamp cursor = t0;
    for (int i = 1; i <= 5; ++i) {
        REQUIRE(store.fire_schedule(fire("tick", cursor, at(i), {window(at(i))})).applied);
        cursor = at(i);
    }
    PruneRequest prune;
    prune.schedule_runs_before = at(100);
    prune.limit = 2;
    CHECK(store.prune(prune) == 2);
    CHECK(store.schedule_runs("tick", 10).back().fire_at == at(3));
    CHECK(store.prune(prune) == 2);
    CHECK(store.prune(prune) == 1);
    CHECK(store.prune(prune) == 0);
    CHECK(store.schedule_runs("tick", 10).empty());
}

// ---- wake-ups -------------------------------------------------------------------------------

TEST_CASE("fire wakes the queues of the jobs it inserted, once each") {
    TempDir dir;
    SqliteStore store(dir.file(), migrated());
    REQUIRE(store.add_schedule(record("tick")));
    Wakeups wakeups(store.notifier());
    REQUIRE(store
                .fire_schedule(fire(
                    "tick", t0, at(180),
                    {window(at(60), "mail"), window(at(120), "reports"), window(at(180), "mail")}))
                .applied);
    CHECK(wakeups.take() == std::map<std::string, int>{{"mail", 1}, {"reports", 1}});

    // Nothing new: the window is in the history, and a stale cursor applies nothing.
    REQUIRE(
        store.fire_schedule(fire("tick", at(180), at(240), {window(at(180), "other")})).applied);
    CHECK_FALSE(store.fire_schedule(fire("tick", t0, at(300), {window(at(300), "late")})).applied);
    CHECK(wakeups.take().empty());
}

TEST_CASE("schedules work on an in-memory database") {
    SqliteStore store(":memory:", migrated());
    REQUIRE(store.add_schedule(record("tick")));
    Wakeups wakeups(store.notifier());
    const FireResult r = store.fire_schedule(fire("tick", t0, at(60), {window(at(60), "q")}));
    REQUIRE(r.applied);
    CHECK(wakeups.take() == std::map<std::string, int>{{"q", 1}});
    CHECK(store.schedule("tick")->cursor == at(60));
    CHECK(store.schedule_runs("tick", 10).at(0).job_id == r.jobs.at(0).id);
}

// ---- failures -------------------------------------------------------------------------------

TEST_CASE("fire on a full disk throws a storage error and writes nothing") {
    testing::FaultyDisk::install();
    TempDir dir;
    SqliteStore store(dir.file(), migrated());
    REQUIRE(store.add_schedule(record("tick")));
    RawConnection raw(dir.file());
    const std::vector<std::string> before = cron_tables(raw);

    FireRequest f = fire("tick", t0, at(180), {window(at(60)), window(at(120))});
    f.skipped = {skipped_run("tick", at(180), at(180))};
    {
        testing::DiskFull full;
        const std::optional<Error> e = error_of([&] { store.fire_schedule(f); });
        REQUIRE(e.has_value());
        CHECK(e->code() == ErrorCode::storage);
        CHECK(std::string(e->what()).find("fire_schedule: ") == 0);
    }
    CHECK(cron_tables(raw) == before);
    CHECK(store.schedule("tick")->cursor == t0);

    // Nothing was left open: the same request applies once there is space again.
    const FireResult r = store.fire_schedule(f);
    REQUIRE(r.applied);
    CHECK(r.jobs.size() == 2);
    CHECK(store.schedule_runs("tick", 10).size() == 3);
}

TEST_CASE("sync_declared_schedules on a full disk applies none of its changes") {
    testing::FaultyDisk::install();
    TempDir dir;
    SqliteStore store(dir.file(), migrated());
    ScheduleRecord dropped = record("dropped");
    dropped.declared = true;
    ScheduleRecord changed = record("changed");
    changed.declared = true;
    REQUIRE(store.add_schedule(dropped));
    REQUIRE(store.add_schedule(changed));
    RawConnection raw(dir.file());
    const std::vector<std::string> before = cron_tables(raw);

    changed.expression = "0 * * * *";
    const std::vector<ScheduleRecord> declared{changed, record("added")};
    {
        testing::DiskFull full;
        const std::optional<Error> e =
            error_of([&] { store.sync_declared_schedules(declared, at(10)); });
        REQUIRE(e.has_value());
        CHECK(e->code() == ErrorCode::storage);
    }
    CHECK(cron_tables(raw) == before);
    CHECK(store.sync_declared_schedules(declared, at(10)) == ScheduleSync{1, 1, 1});
}

// ---- query plans ----------------------------------------------------------------------------

TEST_CASE("fire, history and prune find their rows through keys, not scans") {
    TempDir dir;
    SqliteStore store(dir.file(), migrated());
    RawConnection raw(dir.file());
    using sqlite_detail::Sql;
    using sqlite_detail::sql_text;

    // Newest first straight off the primary key: no sort however long the history.
    const std::string runs = query_plan(raw, sql_text(Sql::schedule_runs));
    INFO(runs);
    CHECK(runs.find("USING PRIMARY KEY (schedule=?)") != std::string::npos);
    CHECK(runs.find("TEMP B-TREE") == std::string::npos);

    const std::string prune = query_plan(raw, sql_text(Sql::prune_schedule_runs));
    INFO(prune);
    CHECK(prune.find("USING COVERING INDEX jobq_schedule_runs_recorded (recorded_at<?)") !=
          std::string::npos);

    // Statements on the writer must not read a whole table while they hold the write lock.
    for (Sql id : {Sql::schedule_fire, Sql::schedule_run_exists, Sql::schedule_get_for_update,
                   Sql::schedule_update, Sql::schedule_pause, Sql::schedule_resume,
                   Sql::schedule_delete, Sql::schedule_delete_runs}) {
        const std::string plan = query_plan(raw, sql_text(id));
        INFO(plan);
        CHECK(plan.find("SCAN jobq_schedule") == std::string::npos);
    }
}

}  // namespace jobq
