// SqliteStore behaviour that only the SQLite backend has: transactional enqueue on the
// caller's connection, durability settings, the per-file notifier, full disks, schema
// versions and the query plans behind "claim cost does not grow with the backlog".

#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <sqlite3.h>
#include <unistd.h>

#include "faulty_disk.hpp"
#include "jobq/error.hpp"
#include "jobq/notifier.hpp"
#include "jobq/sqlite/sqlite_store.hpp"
#include "statements.hpp"

namespace jobq {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

const Timestamp t0{std::chrono::seconds{1'700'000'000}};

/// A private directory for a test's database files, removed afterwards.
class TempDir {
  public:
    TempDir() {
        static std::atomic<int> counter{0};
        static const unsigned salt = std::random_device{}();
        do {
            path_ = fs::temp_directory_path() /
                    ("jobq-sqlite-test-" + std::to_string(::getpid()) + "-" + std::to_string(salt) +
                     "-" + std::to_string(counter++));
        } while (!fs::create_directory(path_));
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path_, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    std::string file(const std::string& name = "jobs.db") const { return (path_ / name).string(); }
    const fs::path& path() const { return path_; }

  private:
    fs::path path_;
};

SqliteOptions migrated(SqliteDurability durability = SqliteDurability::normal) {
    SqliteOptions o;
    o.durability = durability;
    o.migrate = true;
    return o;
}

/// A plain connection of the application's own, as enqueue_in callers have one.
class RawConnection {
  public:
    explicit RawConnection(const std::string& file) {
        REQUIRE(sqlite3_open(file.c_str(), &db_) == SQLITE_OK);
        sqlite3_busy_timeout(db_, 10000);
    }
    ~RawConnection() { sqlite3_close_v2(db_); }
    RawConnection(const RawConnection&) = delete;
    RawConnection& operator=(const RawConnection&) = delete;

    sqlite3* get() const { return db_; }
    void exec(const std::string& sql) {
        char* message = nullptr;
        const int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &message);
        const std::string text = message != nullptr ? message : "";
        sqlite3_free(message);
        REQUIRE_MESSAGE(rc == SQLITE_OK, sql << ": " << text);
    }
    /// The first column of every row of `sql`, as text.
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

NewJob new_job(const std::string& queue = "default", std::string payload = "{}") {
    NewJob job = to_new_job(JobSpec{"k"}.queue(queue), t0);
    job.payload = std::move(payload);
    return job;
}

std::int64_t job_count(Store& store) {
    JobFilter all;
    all.limit = 1'000'000;
    return static_cast<std::int64_t>(store.list(all).jobs.size());
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

template <class F>
std::optional<ErrorCode> error_code_of(F&& f) {
    try {
        f();
    } catch (const Error& e) {
        return e.code();
    }
    return std::nullopt;
}

/// The plan SQLite chooses for `sql`, one step per line.
std::string query_plan(RawConnection& conn, std::string_view sql) {
    std::string plan;
    // Column 3 of EXPLAIN QUERY PLAN is the step's description.
    for (const std::string& step : conn.column("EXPLAIN QUERY PLAN " + std::string(sql), 3)) {
        plan += step + "\n";
    }
    return plan;
}

}  // namespace

// ---- transactional enqueue ------------------------------------------------------------------

TEST_CASE("enqueue_in: the job exists once the caller's transaction commits") {
    TempDir dir;
    SqliteStore store(dir.file(), migrated());
    RawConnection app(dir.file());
    app.exec("CREATE TABLE orders (id INTEGER PRIMARY KEY, total INTEGER)");

    app.exec("BEGIN");
    app.exec("INSERT INTO orders (total) VALUES (42)");
    const InsertResult r =
        store.enqueue_in(app.get(), JobSpec{"order.ship", {{"order", 1}}}.queue("shipping"));
    CHECK_FALSE(r.duplicate);
    CHECK_FALSE(store.get(r.id).has_value());  // not committed yet
    app.exec("COMMIT");

    const std::optional<Job> job = store.get(r.id);
    REQUIRE(job.has_value());
    CHECK(job->kind == "order.ship");
    CHECK(job->queue == "shipping");
    CHECK(job->payload == nlohmann::json{{"order", 1}});
    CHECK(app.count("SELECT count(*) FROM orders") == 1);
}

TEST_CASE("enqueue_in: no job exists when the caller's transaction rolls back") {
    TempDir dir;
    SqliteStore store(dir.file(), migrated());
    RawConnection app(dir.file());
    app.exec("CREATE TABLE orders (id INTEGER PRIMARY KEY)");

    app.exec("BEGIN");
    app.exec("INSERT INTO orders DEFAULT VALUES");
    const InsertResult r = store.enqueue_in(app.get(), JobSpec{"order.ship"});
    app.exec("ROLLBACK");

    CHECK_FALSE(store.get(r.id).has_value());
    CHECK(job_count(store) == 0);
    CHECK(app.count("SELECT count(*) FROM orders") == 0);
}

TEST_CASE("enqueue_in: a bad spec throws and writes nothing, leaving the caller's work intact") {
    TempDir dir;
    SqliteStore store(dir.file(), migrated());
    RawConnection app(dir.file());
    app.exec("CREATE TABLE orders (id INTEGER PRIMARY KEY)");

    app.exec("BEGIN");
    app.exec("INSERT INTO orders DEFAULT VALUES");
    const std::vector<JobSpec> specs{JobSpec{"fine"}, JobSpec{"bad"}.priority(42)};
    CHECK(error_code_of([&] { store.enqueue_in(app.get(), specs); }) ==
          ErrorCode::invalid_argument);
    CHECK(sqlite3_get_autocommit(app.get()) == 0);  // the caller's transaction is still open
    app.exec("COMMIT");

    CHECK(job_count(store) == 0);
    CHECK(app.count("SELECT count(*) FROM orders") == 1);
}

TEST_CASE("enqueue_in: outside a transaction the job is committed at once") {
    TempDir dir;
    SqliteStore store(dir.file(), migrated());
    RawConnection app(dir.file());
    const InsertResult r = store.enqueue_in(app.get(), JobSpec{"k"});
    CHECK(sqlite3_get_autocommit(app.get()) != 0);
    CHECK(store.get(r.id).has_value());
}

TEST_CASE("enqueue_in: a unique key coalesces with a job the store inserted") {
    TempDir dir;
    SqliteStore store(dir.file(), migrated());
    const NewJob first = to_new_job(JobSpec{"k"}.unique_key("once"), t0);
    const JobId id = store.insert(std::span<const NewJob>(&first, 1)).at(0).id;

    RawConnection app(dir.file());
    app.exec("BEGIN");
    const InsertResult r = store.enqueue_in(app.get(), JobSpec{"k"}.unique_key("once"));
    app.exec("COMMIT");
    CHECK(r.duplicate);
    CHECK(r.id == id);
    CHECK(job_count(store) == 1);
}

TEST_CASE("enqueue_in: in-process workers are woken for the job's queue") {
    TempDir dir;
    SqliteStore store(dir.file(), migrated());
    Wakeups wakeups(store.notifier());
    RawConnection app(dir.file());
    store.enqueue_in(app.get(), JobSpec{"k"}.queue("mail"));
    CHECK(wakeups.take() == std::map<std::string, int>{{"mail", 1}});
}

TEST_CASE("enqueue_in: a connection to another database is refused") {
    TempDir dir;
    SqliteStore store(dir.file(), migrated());
    SqliteStore elsewhere(dir.file("other.db"), migrated());
    RawConnection app(dir.file("other.db"));
    CHECK(error_code_of([&] { store.enqueue_in(app.get(), JobSpec{"k"}); }) ==
          ErrorCode::invalid_argument);
    CHECK(job_count(elsewhere) == 0);
}

TEST_CASE("enqueue_in: an unmigrated database is a schema error") {
    TempDir dir;
    SqliteStore store(dir.file());
    RawConnection app(dir.file());
    CHECK(error_code_of([&] { store.enqueue_in(app.get(), JobSpec{"k"}); }) == ErrorCode::schema);
}

// ---- connection settings ----------------------------------------------------------------

TEST_CASE("the database is put in WAL mode") {
    TempDir dir;
    SqliteStore store(dir.file(), migrated());
    RawConnection raw(dir.file());
    CHECK(raw.column("PRAGMA journal_mode") == std::vector<std::string>{"wal"});
}

TEST_CASE("durability full syncs the WAL at every commit and normal does not") {
    testing::FaultyDisk::install();
    auto syncs_for_five_commits = [](SqliteDurability durability) {
        TempDir dir;
        SqliteStore store(dir.file(), migrated(durability));
        const NewJob job = new_job();
        store.insert(std::span<const NewJob>(&job, 1));  // the WAL exists and has a header
        testing::FaultyDisk::reset_counters();
        for (int i = 0; i < 5; ++i) store.insert(std::span<const NewJob>(&job, 1));
        return testing::FaultyDisk::wal_syncs();
    };
    CHECK(syncs_for_five_commits(SqliteDurability::full) >= 5);
    CHECK(syncs_for_five_commits(SqliteDurability::normal) == 0);
}

TEST_CASE("an in-memory database works on a single connection") {
    SqliteStore store(":memory:", migrated());
    const NewJob job = new_job("q");
    const JobId id = store.insert(std::span<const NewJob>(&job, 1)).at(0).id;
    ClaimRequest req;
    req.queues = {{"q", 5}};
    req.worker_id = "w";
    req.now = t0;
    req.lease_expires_at = t0 + 30s;
    CHECK(store.claim(req).jobs.size() == 1);
    CHECK(store.get(id)->state == JobState::running);

    // No other connection can reach this database, so none can enqueue into it.
    RawConnection app(":memory:");
    CHECK(error_code_of([&] { store.enqueue_in(app.get(), JobSpec{"k"}); }) ==
          ErrorCode::invalid_argument);
}

// ---- notifier -----------------------------------------------------------------------------

TEST_CASE("stores on one file share a notifier and are woken once per inserted queue") {
    TempDir dir;
    SqliteStore writer(dir.file(), migrated());
    // Another spelling of the same file still finds the same notifier.
    SqliteStore reader((dir.path() / "." / "jobs.db").string());
    SqliteStore unrelated(dir.file("other.db"), migrated());
    CHECK(&writer.notifier() == &reader.notifier());
    CHECK(&writer.notifier() != &unrelated.notifier());

    Wakeups woken(reader.notifier());
    Wakeups not_woken(unrelated.notifier());
    const std::vector<NewJob> batch{new_job("mail"), new_job("reports"), new_job("mail")};
    writer.insert(batch);
    CHECK(woken.take() == std::map<std::string, int>{{"mail", 1}, {"reports", 1}});
    CHECK(not_woken.take().empty());
}

TEST_CASE("promote_due wakes the queues whose jobs became available") {
    TempDir dir;
    SqliteStore store(dir.file(), migrated());
    NewJob later = to_new_job(JobSpec{"k"}.queue("later").delay(60s), t0);
    store.insert(std::span<const NewJob>(&later, 1));
    Wakeups wakeups(store.notifier());
    CHECK(store.promote_due(t0 + 59s) == 0);
    CHECK(wakeups.take().empty());
    CHECK(store.promote_due(t0 + 60s) == 1);
    CHECK(wakeups.take() == std::map<std::string, int>{{"later", 1}});
}

// ---- failures -----------------------------------------------------------------------------

TEST_CASE("a full disk makes insert throw a storage error and leaves no partial batch") {
    testing::FaultyDisk::install();
    TempDir dir;
    SqliteStore store(dir.file(), migrated());
    const std::vector<NewJob> before{new_job(), new_job(), new_job()};
    store.insert(before);

    // Fails at COMMIT, when the WAL frames are written.
    const std::vector<NewJob> small{new_job(), new_job()};
    // Larger than the page cache, so SQLite spills to the WAL in the middle of the batch.
    const std::vector<NewJob> large(
        4000, new_job("default", R"({"pad":")" + std::string(2000, 'x') + "\"}"));
    for (const std::vector<NewJob>* batch : {&small, &large}) {
        testing::DiskFull full;
        try {
            store.insert(*batch);
            FAIL("insert on a full disk succeeded");
        } catch (const Error& e) {
            CHECK(e.code() == ErrorCode::storage);
            CHECK(std::string(e.what()).find("insert: ") == 0);
        }
    }
    CHECK(job_count(store) == 3);

    // Nothing is left open: once there is space again the same store writes normally.
    store.insert(small);
    CHECK(job_count(store) == 5);
    RawConnection raw(dir.file());
    CHECK(raw.count("SELECT count(*) FROM jobq_jobs") == 5);
}

TEST_CASE("a full disk during complete applies none of the outcomes") {
    testing::FaultyDisk::install();
    TempDir dir;
    SqliteStore store(dir.file(), migrated());
    const std::vector<NewJob> jobs{new_job(), new_job()};
    store.insert(jobs);
    ClaimRequest req;
    req.queues = {{"default", 2}};
    req.worker_id = "w";
    req.now = t0;
    req.lease_expires_at = t0 + 30s;
    const std::vector<Job> claimed = store.claim(req).jobs;
    REQUIRE(claimed.size() == 2);
    std::vector<Outcome> outcomes(2);
    for (std::size_t i = 0; i < 2; ++i) {
        outcomes[i].id = claimed[i].id;
        outcomes[i].attempt = claimed[i].attempt;
        outcomes[i].worker_id = "w";
        outcomes[i].at = t0 + 1s;
    }
    {
        testing::DiskFull full;
        CHECK(error_code_of([&] { store.complete(outcomes); }) == ErrorCode::storage);
    }
    CHECK(store.get(claimed[0].id)->state == JobState::running);
    CHECK(store.get(claimed[1].id)->state == JobState::running);
    CHECK(store.complete(outcomes) == std::vector<bool>{true, true});
}

TEST_CASE("a claim that fails part-way through claims nothing") {
    TempDir dir;
    SqliteStore store(dir.file(), migrated());
    const std::vector<NewJob> jobs{new_job(), new_job()};
    const std::vector<InsertResult> ids = store.insert(jobs);
    {
        // A row the store cannot read: the claim fails after its UPDATE has run, inside the
        // transaction, which must then be rolled back by the store (SQLite would not).
        RawConnection raw(dir.file());
        raw.exec("UPDATE jobq_jobs SET payload = 'not json' WHERE id = " +
                 std::to_string(ids[1].id));
    }
    ClaimRequest req;
    req.queues = {{"default", 2}};
    req.worker_id = "w";
    req.now = t0;
    req.lease_expires_at = t0 + 30s;
    CHECK(error_code_of([&] { store.claim(req); }) == ErrorCode::storage);

    RawConnection raw(dir.file());
    CHECK(raw.count("SELECT count(*) FROM jobq_jobs WHERE state = 'available'") == 2);
    CHECK(store.get(ids[0].id)->state == JobState::available);
    store.insert(jobs);  // the writer is free again
    CHECK(raw.count("SELECT count(*) FROM jobq_jobs") == 4);
}

TEST_CASE("a database from a newer jobq is refused with a schema error") {
    TempDir dir;
    { SqliteStore store(dir.file(), migrated()); }
    {
        RawConnection raw(dir.file());
        raw.exec("UPDATE jobq_meta SET value = 999 WHERE key = 'schema_version'");
    }
    SqliteStore store(dir.file());
    CHECK(store.schema_version() == 999);
    CHECK(error_code_of([&] { store.migrate(); }) == ErrorCode::schema);
    const NewJob job = new_job();
    CHECK(error_code_of([&] { store.insert(std::span<const NewJob>(&job, 1)); }) ==
          ErrorCode::schema);
    CHECK(error_code_of([&] { store.get(1); }) == ErrorCode::schema);
    CHECK(error_code_of([&] { SqliteStore again(dir.file(), migrated()); }) == ErrorCode::schema);
    CHECK(store.schema_version() == 999);
}

TEST_CASE("an unmigrated database names the fix in its error") {
    TempDir dir;
    SqliteStore store(dir.file());
    try {
        store.get(1);
        FAIL("get on an unmigrated database succeeded");
    } catch (const Error& e) {
        CHECK(e.code() == ErrorCode::schema);
        CHECK(std::string(e.what()).find("run migrate()") != std::string::npos);
    }
}

TEST_CASE("migrations from two stores at once leave one schema") {
    TempDir dir;
    SqliteOptions o;
    o.busy_timeout = 30s;
    SqliteStore a(dir.file(), o);
    SqliteStore b(dir.file(), o);
    int va = 0;
    int vb = 0;
    std::thread ta([&] { va = a.migrate(); });
    std::thread tb([&] { vb = b.migrate(); });
    ta.join();
    tb.join();
    CHECK(va == vb);
    CHECK(a.schema_version() == va);
    RawConnection raw(dir.file());
    CHECK(raw.count("SELECT count(*) FROM jobq_meta") == 1);
}

// ---- query plans ---------------------------------------------------------------------------

TEST_CASE("claim walks the partial indexes, so its cost does not grow with the backlog") {
    TempDir dir;
    SqliteStore store(dir.file(), migrated());
    RawConnection raw(dir.file());
    using sqlite_detail::Sql;
    using sqlite_detail::sql_text;

    const std::string claim = query_plan(raw, sql_text(Sql::claim));
    INFO(claim);
    CHECK(claim.find("USING INDEX jobq_jobs_claimable (queue=?)") != std::string::npos);
    CHECK(claim.find("TEMP B-TREE") == std::string::npos);
    CHECK(claim.find("SCAN jobq_jobs\n") == std::string::npos);

    const std::string promote = query_plan(raw, sql_text(Sql::promote_due));
    INFO(promote);
    CHECK(promote.find("USING INDEX jobq_jobs_due (run_at<?)") != std::string::npos);

    // Statements on the writer must not read the whole table while they hold the write lock.
    for (Sql id : {Sql::find_unique, Sql::next_run_at, Sql::complete, Sql::heartbeat,
                   Sql::replay_one, Sql::prune_one, Sql::cancel, Sql::retry, Sql::remove}) {
        const std::string plan = query_plan(raw, sql_text(id));
        INFO(plan);
        // A bare "SCAN jobq_jobs" reads the whole table; walking an index is fine.
        CHECK(plan.find("SCAN jobq_jobs\n") == std::string::npos);
    }
}

}  // namespace jobq
