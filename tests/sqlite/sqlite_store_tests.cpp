// SqliteStore behaviour that only the SQLite backend has: transactional enqueue on the
// caller's connection, durability settings, the per-file notifier, full disks, schema
// versions and the query plans behind "claim cost does not grow with the backlog".

#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <grp.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include "faulty_disk.hpp"
#include "jobq/backend/notifier.hpp"
#include "jobq/error.hpp"
#include "jobq/workflow_spec.hpp"
#include "jobq/queue.hpp"
#include "jobq/registry.hpp"
#include "jobq/sqlite/sqlite_store.hpp"
#include "jobq/worker.hpp"
#include "statements.hpp"
#include "support/fixed_time.hpp"
#include "support/temp_dir.hpp"
#include "support/wait_until.hpp"

namespace jobq {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using test::at;
using test::t0;
using test::TempDir;

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

TEST_CASE("enqueue_in: a workflow is all there once the caller commits, and none on rollback") {
    TempDir dir;
    SqliteStore store(dir.file(), migrated());
    RawConnection app(dir.file());
    app.exec("CREATE TABLE orders (id INTEGER PRIMARY KEY)");
    const WorkflowSpec spec = WorkflowSpec{"ship"}
                                  .add("pack", JobSpec{"order.pack"})
                                  .add("ship", JobSpec{"order.ship"}, {"pack"});

    app.exec("BEGIN");
    app.exec("INSERT INTO orders DEFAULT VALUES");
    store.enqueue_in(app.get(), spec);
    app.exec("ROLLBACK");
    CHECK(job_count(store) == 0);
    CHECK(store.workflows({}).workflows.empty());

    app.exec("BEGIN");
    app.exec("INSERT INTO orders DEFAULT VALUES");
    CHECK(error_code_of([&] {
              store.enqueue_in(app.get(), WorkflowSpec{"loop"}.add("a", JobSpec{"k"}, {"a"}));
          }) == ErrorCode::invalid_argument);
    const WorkflowInsert w = store.enqueue_in(app.get(), spec);
    CHECK_FALSE(store.workflow(w.id).has_value());  // not committed yet
    app.exec("COMMIT");
    const std::optional<WorkflowRecord> rec = store.workflow(w.id);
    REQUIRE(rec.has_value());
    CHECK(rec->jobs.size() == 2);
    CHECK(store.get(w.job_ids[0])->state == JobState::available);
    CHECK(store.get(w.job_ids[1])->state == JobState::pending);
    CHECK(app.count("SELECT count(*) FROM orders") == 1);
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

TEST_CASE("under durability full a claim alone does not sync the WAL; the next outcome does") {
    testing::FaultyDisk::install();
    TempDir dir;
    SqliteStore store(dir.file(), migrated(SqliteDurability::full));
    std::vector<NewJob> jobs(4, new_job());
    store.insert(jobs);
    testing::FaultyDisk::reset_counters();
    ClaimRequest req;
    req.queues = {{"default", 2}};
    req.worker_id = "w";
    req.now = system_clock().now();
    req.lease_expires_at = req.now + std::chrono::seconds{30};
    const std::vector<Job> claimed = store.claim(req).jobs;
    REQUIRE(claimed.size() == 2);
    // A claim lost to a power cut leaves its jobs to be claimed again: no sync to wait for.
    CHECK(testing::FaultyDisk::wal_syncs() == 0);

    Outcome done;
    done.id = claimed[0].id;
    done.attempt = claimed[0].attempt;
    done.worker_id = "w";
    done.kind = OutcomeKind::complete;
    done.at = system_clock().now();
    REQUIRE(store.complete(std::span<const Outcome>(&done, 1)) == std::vector<bool>{true});
    CHECK(testing::FaultyDisk::wal_syncs() >= 1);  // an outcome is durable, and the claim too
    // The claim left the writer as it found it: an enqueue syncs again.
    testing::FaultyDisk::reset_counters();
    store.insert(std::span<const NewJob>(jobs.data(), 1));
    CHECK(testing::FaultyDisk::wal_syncs() >= 1);
    // Outcomes riding on a claim are outcomes first: that transaction syncs.
    testing::FaultyDisk::reset_counters();
    done.id = claimed[1].id;
    done.attempt = claimed[1].attempt;
    req.queues = {{"default", 1}};
    const CompletedAndClaimed both =
        store.complete_and_claim(std::span<const Outcome>(&done, 1), req);
    CHECK(both.applied == std::vector<bool>{true});
    CHECK(both.claimed.jobs.size() == 1);
    CHECK(testing::FaultyDisk::wal_syncs() >= 1);
}

TEST_CASE(
    "the write-ahead log is still checkpointed (by a thread of its own) and nothing is lost") {
    TempDir dir;
    SqliteStore store(dir.file(), migrated());
    const auto db_size = [&] {
        return fs::file_size(dir.file());
    };
    const auto before = db_size();
    // About 3 MB of payload in 100 commits: past the 1000-page threshold (4 KiB pages) more
    // than once. No commit checkpoints itself, so the database file can only grow by the
    // checkpointer's thread copying the log back.
    const std::string payload = "{\"pad\":\"" + std::string(30'000, 'x') + "\"}";
    std::vector<NewJob> batch(1, new_job("default", payload));
    for (int i = 0; i < 100; ++i) store.insert(batch);
    CHECK(test::poll_until([&] { return db_size() > before + 1'000'000; }));
    CHECK(job_count(store) == 100);
    // A reader of its own sees every job, whatever the checkpoint has copied so far.
    RawConnection raw(dir.file());
    CHECK(raw.column("SELECT count(*) FROM jobq_jobs") == std::vector<std::string>{"100"});
}

TEST_CASE("a steady stream of commits does not grow the write-ahead log without bound") {
    TempDir dir;
    SqliteStore store(dir.file(), migrated());
    // About 8 pages a commit, 1000 commits: twice the 4000-page cap past which the committing
    // writer checkpoints itself, however far the checkpointer's thread lags.
    const std::string payload = "{\"pad\":\"" + std::string(30'000, 'x') + "\"}";
    std::vector<NewJob> batch(1, new_job("default", payload));
    for (int i = 0; i < 1000; ++i) store.insert(batch);
    // The log file keeps its largest size; a frame is a 4 KiB page and a 24-byte header.
    const auto wal_bytes = fs::file_size(dir.file() + "-wal");
    CHECK(wal_bytes <= (4000 + 100) * (4096 + 24));
    CHECK(job_count(store) == 1000);
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

TEST_CASE("outcomes that ride on a failing claim are written alone, and the claim retried") {
    // SQLite completes with claims: a worker's outcomes go in its next claim's transaction.
    // When that claim fails (here: a row it cannot read), nothing of the transaction stays,
    // so the worker must write the outcomes by themselves rather than wait for a good claim.
    TempDir dir;
    SqliteStore store(dir.file(), migrated());
    REQUIRE(store.completes_with_claims());
    Queue queue(store);
    const JobId good = queue.enqueue(JobSpec{"k"}.priority(0)).id;
    const JobId bad = queue.enqueue(JobSpec{"k"}.priority(1)).id;
    {
        RawConnection raw(dir.file());
        raw.exec("UPDATE jobq_jobs SET payload = 'not json' WHERE id = " + std::to_string(bad));
    }
    Registry registry;
    registry.add("k", [](JobContext&) -> boost::asio::awaitable<void> { co_return; });
    std::mutex mutex;
    int claim_failures = 0;
    WorkerOptions options;
    options.queues = {{"default", 1}};  // one at a time: the good job's claim does not read bad
    options.on_error = [&](const std::string& message) {
        const std::lock_guard lock(mutex);
        if (message.find("claim failed") != std::string::npos) ++claim_failures;
    };
    boost::asio::io_context io;
    auto guard = boost::asio::make_work_guard(io);
    std::thread io_thread([&io] { io.run(); });
    {
        Worker worker(io.get_executor(), store, registry, options);
        worker.start();
        CHECK(test::poll_until([&] { return store.get(good)->state == JobState::completed; }));
        CHECK(test::poll_until([&] {
            const std::lock_guard lock(mutex);
            return claim_failures >= 2;  // retried, with its backoff
        }));
        worker.stop();
        CHECK(worker.counters().completed == 1);
    }
    guard.reset();
    io_thread.join();
    CHECK(store.get(good)->state == JobState::completed);
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

// ---- read-only databases ------------------------------------------------------------------

SqliteOptions with_access(SqliteAccess access) {
    SqliteOptions o;
    o.access = access;
    return o;
}

std::string file_bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

/// Runs `body` in a child process that may not write what this one can: as uid/gid 65534
/// when the test runs as root (whom file permissions do not bind). Returns the message of
/// what the body threw, or empty when it returned.
std::string run_unprivileged(const std::function<void()>& body) {
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        ::close(fds[0]);
        std::string failure;
        try {
            if (::geteuid() == 0 &&
                (::setgroups(0, nullptr) != 0 || ::setgid(65534) != 0 || ::setuid(65534) != 0)) {
                failure = "cannot drop privileges";
            } else {
                body();
            }
        } catch (const std::exception& e) {
            failure = e.what();
        }
        if (!failure.empty()) (void)!::write(fds[1], failure.data(), failure.size());
        ::_exit(failure.empty() ? 0 : 1);
    }
    ::close(fds[1]);
    std::string out;
    char buf[4096];
    ssize_t n = 0;
    while ((n = ::read(fds[0], buf, sizeof buf)) > 0) out.append(buf, static_cast<std::size_t>(n));
    ::close(fds[0]);
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    REQUIRE(WIFEXITED(status));
    return out;
}

/// For the unprivileged child, where doctest's assertions cannot report.
void expect(bool ok, const std::string& what) {
    if (!ok) throw std::runtime_error("expected: " + what);
}

/// The message `f` throws as Error(storage), or a description of what it did instead.
template <class F>
std::string storage_error(F&& f) {
    try {
        f();
    } catch (const Error& e) {
        if (e.code() == ErrorCode::storage) return e.what();
        return std::string("wrong code: ") + e.what();
    }
    return "no error";
}

bool refused_as_read_only(const std::string& message) {
    return message.find("is open read-only") != std::string::npos &&
           message.find("this needs write access") != std::string::npos;
}

/// A database with a job of each interesting kind, a schedule, a limit and a live worker.
void fill(const std::string& file) {
    SqliteStore store(file, migrated());
    store.insert(std::vector<NewJob>{new_job("mail"), new_job("reports")});
    ClaimRequest claim;
    claim.queues = {QueueDemand{"reports", 1}};
    claim.worker_id = "w1";
    claim.now = t0;
    claim.lease_expires_at = t0 + 1h;
    const std::vector<Job> claimed = store.claim(claim).jobs;
    REQUIRE(claimed.size() == 1);
    Outcome discard;
    discard.id = claimed[0].id;
    discard.attempt = claimed[0].attempt;
    discard.worker_id = "w1";
    discard.kind = OutcomeKind::discard;
    discard.at = t0;
    discard.error = AttemptError{1, t0, "discard", "no such report"};
    REQUIRE(store.complete(std::vector<Outcome>{discard}) == std::vector<bool>{true});
    ScheduleRecord schedule;
    schedule.name = "nightly";
    schedule.expression = "0 3 * * *";
    schedule.zone = "UTC";
    schedule.job = R"({"kind":"report.build"})";
    schedule.misfire = R"({"mode":"skip"})";
    schedule.cursor = schedule.created_at = schedule.updated_at = t0;
    REQUIRE(store.add_schedule(schedule));
    FlowLimits limits;
    limits.max_running = 3;
    store.set_limits(LimitScope::queue("mail"), limits, t0);
    store.record_worker(WorkerRecord{"w1", {"mail"}, t0, t0, t0 + 24h * 365 * 100});
}

TEST_CASE("a store opened read-only reads everything, refuses every write and writes nothing") {
    TempDir dir;
    const std::string file = dir.file();
    fill(file);
    const std::string before = file_bytes(file);
    REQUIRE_FALSE(fs::exists(file + "-wal"));  // merged when the last connection closed

    {
        SqliteStore store(file, with_access(SqliteAccess::read_only));
        CHECK(store.read_only());
        CHECK(store.schema_version() == 4);
        CHECK(store.migrate() == 4);  // current: nothing to write
        CHECK(job_count(store) == 2);
        CHECK(store.get(1).has_value());
        CHECK(store.stats(t0).size() == 2);
        CHECK(store.schedules().size() == 1);
        CHECK(store.schedule("nightly").has_value());
        CHECK(store.schedule_runs("nightly", 10).empty());
        CHECK(store.limit_records().size() == 1);
        CHECK(store.limit_record(LimitScope::queue("mail")).has_value());
        CHECK(store.workers(t0).size() == 1);
        CHECK(store.wait_facts(1, t0).has_value());
        CHECK_FALSE(store.wait_groups(t0).empty());
        CHECK_NOTHROW(store.next_run_at(std::vector<std::string>{"mail"}));
        CHECK(store.expired_leases(t0 + 48h, 10).empty());

        const Timestamp now = t0;
        ClaimRequest claim;
        claim.queues = {QueueDemand{"mail", 1}};
        claim.worker_id = "w2";
        claim.now = now;
        claim.lease_expires_at = now + 1h;
        Outcome complete;
        complete.id = 1;
        complete.attempt = 1;
        complete.worker_id = "w2";
        complete.kind = OutcomeKind::complete;
        complete.at = now;
        ScheduleRecord schedule = *store.schedule("nightly");
        FireRequest fire;
        fire.name = "nightly";
        fire.expected_cursor = schedule.cursor;
        fire.new_cursor = schedule.cursor + 24h;
        fire.now = now;
        PruneRequest prune;
        prune.discarded_before = now + 1h;
        FlowLimits limits;
        limits.max_running = 5;
        const std::vector<ScheduleRecord> declared{schedule};

        const std::vector<std::pair<const char*, std::function<void()>>> writes{
            {"insert",
             [&] {
                 store.insert(std::vector<NewJob>{new_job("mail")});
             }},
            {"claim",
             [&] {
                 store.claim(claim);
             }},
            {"heartbeat",
             [&] {
                 store.heartbeat(HeartbeatRequest{{JobAttempt{1, 1}}, "w2", now + 1h});
             }},
            {"complete",
             [&] {
                 store.complete(std::vector<Outcome>{complete});
             }},
            {"cancel",
             [&] {
                 store.cancel(1, now);
             }},
            {"retry",
             [&] {
                 store.retry(2, now);
             }},
            {"remove",
             [&] {
                 store.remove(1);
             }},
            {"replay_discarded",
             [&] {
                 store.replay_discarded(JobFilter{}, now);
             }},
            {"promote_due",
             [&] {
                 store.promote_due(now + 48h);
             }},
            {"prune",
             [&] {
                 store.prune(prune);
             }},
            {"add_schedule",
             [&] {
                 ScheduleRecord other = schedule;
                 other.name = "hourly";
                 store.add_schedule(other);
             }},
            {"update_schedule",
             [&] {
                 store.update_schedule(schedule);
             }},
            {"remove_schedule",
             [&] {
                 store.remove_schedule("nightly");
             }},
            {"set_schedule_paused",
             [&] {
                 store.set_schedule_paused(PauseRequest{"nightly", true, now, {}, {}});
             }},
            {"sync_declared_schedules",
             [&] {
                 store.sync_declared_schedules(declared, now);
             }},
            {"fire_schedule",
             [&] {
                 store.fire_schedule(fire);
             }},
            {"set_limits",
             [&] {
                 store.set_limits(LimitScope::queue("mail"), limits, now);
             }},
            {"remove_limits",
             [&] {
                 store.remove_limits(LimitScope::queue("mail"), now);
             }},
            {"set_queue_paused",
             [&] {
                 store.set_queue_paused("mail", true, now);
             }},
            {"record_worker",
             [&] {
                 store.record_worker(WorkerRecord{"w2", {"mail"}, now, now, now + 1h});
             }},
            {"remove_worker",
             [&] {
                 store.remove_worker("w1");
             }},
        };
        for (const auto& [name, write] : writes) {
            const std::string message = storage_error(write);
            INFO(std::string(name), ": ", message);
            CHECK(refused_as_read_only(message));
            CHECK(message.find("opened read-only") != std::string::npos);
        }
    }
    CHECK(file_bytes(file) == before);
}

TEST_CASE("read_only refuses to migrate a database that needs it") {
    TempDir dir;
    { SqliteStore create(dir.file()); }  // an empty database file, schema version 0
    SqliteStore store(dir.file(), with_access(SqliteAccess::read_only));
    CHECK(store.schema_version() == 0);
    CHECK(refused_as_read_only(storage_error([&] { store.migrate(); })));
}

TEST_CASE("a database this process may not write: read_write refuses, automatic reads it") {
    TempDir dir;
    const std::string file = dir.file();
    fill(file);
    fs::permissions(file, fs::perms::owner_read | fs::perms::group_read | fs::perms::others_read);
    fs::permissions(dir.path(), fs::perms::owner_read | fs::perms::owner_exec |
                                    fs::perms::group_read | fs::perms::group_exec |
                                    fs::perms::others_read | fs::perms::others_exec);
    const std::string failure = run_unprivileged([&] {
        const std::string refused = storage_error([&] { SqliteStore s(file); });
        expect(refused.find("not writable by this process") != std::string::npos &&
                   refused.find("read-only") != std::string::npos,
               "read_write names why it cannot open and how to read: " + refused);
        for (SqliteAccess access : {SqliteAccess::automatic, SqliteAccess::read_only}) {
            SqliteStore store(file, with_access(access));
            expect(store.read_only(), "read_only()");
            expect(job_count(store) == 2, "both jobs listed");
            expect(store.workers(t0).size() == 1, "the worker listed");
            const std::string write = storage_error([&] { store.cancel(1, t0); });
            expect(refused_as_read_only(write), "cancel refused as read-only: " + write);
        }
    });
    CHECK(failure.empty());
    INFO(failure);
    // SQLite left nothing in the directory: no -wal or -shm.
    CHECK(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()) == 1);
    fs::permissions(dir.path(), fs::perms::owner_all);
    fs::permissions(file, fs::perms::owner_read | fs::perms::owner_write);
}

TEST_CASE("read-only beside a live writer sees its commits; a stranded log is refused clearly") {
    TempDir dir;
    const std::string file = dir.file();
    fill(file);
    // A writer in its own process (SQLite connections must not cross a fork) that keeps its
    // commits in the log, so the main file alone is out of date; then it dies without closing.
    int ready[2];
    int go[2];
    REQUIRE(::pipe(ready) == 0);
    REQUIRE(::pipe(go) == 0);
    const pid_t writer = ::fork();
    REQUIRE(writer >= 0);
    if (writer == 0) {
        sqlite3* db = nullptr;
        char byte = 0;
        if (sqlite3_open(file.c_str(), &db) != SQLITE_OK ||
            sqlite3_exec(db, "PRAGMA wal_autocheckpoint = 0; UPDATE jobq_jobs SET priority = 7",
                         nullptr, nullptr, nullptr) != SQLITE_OK ||
            ::write(ready[1], "r", 1) != 1 || ::read(go[0], &byte, 1) != 1 ||
            sqlite3_exec(db, "UPDATE jobq_jobs SET priority = 8", nullptr, nullptr, nullptr) !=
                SQLITE_OK) {
            ::_exit(1);
        }
        ::_exit(0);  // no close: the log keeps both commits
    }
    char byte = 0;
    REQUIRE(::read(ready[0], &byte, 1) == 1);
    REQUIRE(fs::file_size(file + "-wal") > 0);
    fs::permissions(dir.path(), fs::perms::owner_read | fs::perms::owner_exec |
                                    fs::perms::group_read | fs::perms::group_exec |
                                    fs::perms::others_read | fs::perms::others_exec);
    std::string failure = run_unprivileged([&] {
        SqliteStore store(file, with_access(SqliteAccess::automatic));
        expect(store.read_only(), "read_only()");
        expect(store.get(1)->priority == 7, "the writer's commit, read through its log");
    });
    CHECK(failure.empty());
    INFO(failure);

    REQUIRE(::write(go[1], "g", 1) == 1);
    int status = 0;
    REQUIRE(::waitpid(writer, &status, 0) == writer);
    REQUIRE(WIFEXITED(status));
    REQUIRE(WEXITSTATUS(status) == 0);
    for (int fd : {ready[0], ready[1], go[0], go[1]}) ::close(fd);
    // Without the -shm file, a process that cannot write the directory cannot read the log,
    // and must not show the stale main file instead.
    fs::remove(file + "-shm");
    failure = run_unprivileged([&] {
        const std::string refused =
            storage_error([&] { SqliteStore s(file, with_access(SqliteAccess::automatic)); });
        expect(refused.find("write-ahead log") != std::string::npos &&
                   refused.find("holds commits not yet in the database file") != std::string::npos,
               "a stranded log refused: " + refused);
    });
    CHECK(failure.empty());
    INFO(failure);
    fs::permissions(dir.path(), fs::perms::owner_all);
    // A process that may write the directory recovers the log: nothing was lost.
    SqliteStore store(file);
    CHECK(store.get(1)->priority == 8);
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
    for (Sql id :
         {Sql::find_unique, Sql::next_run_at, Sql::complete, Sql::heartbeat, Sql::heartbeat_lost,
          Sql::replay_one, Sql::prune_one, Sql::cancel, Sql::retry, Sql::remove}) {
        const std::string plan = query_plan(raw, sql_text(id));
        INFO(plan);
        // A bare "SCAN jobq_jobs" reads the whole table; walking an index is fine.
        CHECK(plan.find("SCAN jobq_jobs\n") == std::string::npos);
    }
}

}  // namespace jobq
