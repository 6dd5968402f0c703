// jobq-sqlite-floor: the leanest queue in raw SQL on this machine, the floor PERF.md compares
// jobq against. Absolute figures move from machine to machine (a WAL fdatasync costs 135 µs on
// the standard machine and milliseconds on a busy virtual disk); measuring the floor where the
// bench runs turns jobq-bench's figures into ratios that do not.
//
//   jobq-sqlite-floor --db PATH --durability normal|full --jobs N
//
// One JSON line per measurement: batched insert, one insert per transaction, and a claim of B
// jobs in one transaction followed by their completion in one transaction, B = 1, 10, 100.

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <sqlite3.h>
#include <nlohmann/json.hpp>

namespace {

using Clock = std::chrono::steady_clock;

// Just enough of the sqlite3 API to keep the measurements readable.
class Db {
  public:
    explicit Db(const std::string& path) {
        if (sqlite3_open(path.c_str(), &db_) != SQLITE_OK) fail("open");
    }
    ~Db() { sqlite3_close_v2(db_); }
    Db(const Db&) = delete;
    Db& operator=(const Db&) = delete;

    void exec(const char* sql) {
        if (sqlite3_exec(db_, sql, nullptr, nullptr, nullptr) != SQLITE_OK) fail(sql);
    }
    sqlite3_stmt* prepare(const char* sql) {
        sqlite3_stmt* s = nullptr;
        if (sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, nullptr) != SQLITE_OK) {
            fail(sql);
        }
        statements_.push_back(s);
        return s;
    }
    // Runs a prepared statement to the end; returns the number of rows it produced.
    int run(sqlite3_stmt* s) {
        int rows = 0;
        int rc = 0;
        while ((rc = sqlite3_step(s)) == SQLITE_ROW) ++rows;
        if (rc != SQLITE_DONE) fail("step");
        sqlite3_reset(s);
        return rows;
    }
    void finalize_all() {
        for (sqlite3_stmt* s : statements_) sqlite3_finalize(s);
        statements_.clear();
    }
    [[noreturn]] void fail(std::string_view what) const {
        throw std::runtime_error(fmt::format("{}: {}", what, sqlite3_errmsg(db_)));
    }

  private:
    sqlite3* db_ = nullptr;
    std::vector<sqlite3_stmt*> statements_;
};

constexpr const char* schema = R"(
    CREATE TABLE jobs (
        id INTEGER PRIMARY KEY, queue TEXT NOT NULL, state TEXT NOT NULL,
        priority INTEGER NOT NULL, run_at INTEGER NOT NULL, attempt INTEGER NOT NULL DEFAULT 0,
        payload TEXT NOT NULL, worker_id TEXT, lease_expires_at INTEGER, finished_at INTEGER);
    CREATE INDEX jobs_claimable ON jobs (queue, priority, run_at) WHERE state = 'available';
)";

void fresh(const std::string& path) {
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
    Db db(path);
    db.exec("PRAGMA journal_mode = WAL");
    db.exec(schema);
}

void open_pragmas(Db& db, const std::string& durability) {
    db.exec("PRAGMA journal_mode = WAL");
    db.exec(durability == "full" ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL");
}

nlohmann::json line(const char* floor, const std::string& durability, std::int64_t jobs, double s) {
    return {{"floor", floor},
            {"durability", durability},
            {"jobs", jobs},
            {"seconds", std::round(s * 1e4) / 1e4},
            {"jobs_per_sec", std::round(static_cast<double>(jobs) / s)}};
}

void insert_rows(Db& db, sqlite3_stmt* insert, std::int64_t n) {
    for (std::int64_t i = 0; i < n; ++i) {
        sqlite3_bind_int64(insert, 1, i);
        db.run(insert);
    }
}

constexpr const char* insert_sql =
    "INSERT INTO jobs (queue, state, priority, run_at, payload) "
    "VALUES ('default', 'available', 0, ?1, '{}')";

double seconds_since(Clock::time_point t) {
    return std::chrono::duration<double>(Clock::now() - t).count();
}

// What every measurement shares: the database file, its durability and the job count.
struct Setup {
    std::string path;
    std::string durability;
    std::int64_t jobs = 20000;
    bool full() const { return durability == "full"; }
    // Where each job costs a sync (two at FULL), fewer jobs keep a run within a minute.
    std::int64_t synced_jobs() const {
        return full() ? std::max<std::int64_t>(jobs / 20, 200) : jobs;
    }
};

// Batched insert: N rows, 1000 per transaction.
void insert_batched(const Setup& s) {
    fresh(s.path);
    Db db(s.path);
    open_pragmas(db, s.durability);
    sqlite3_stmt* insert = db.prepare(insert_sql);
    const auto t = Clock::now();
    for (std::int64_t done = 0; done < s.jobs; done += 1000) {
        db.exec("BEGIN IMMEDIATE");
        insert_rows(db, insert, std::min<std::int64_t>(1000, s.jobs - done));
        db.exec("COMMIT");
    }
    fmt::print("{}\n", line("insert_batched", s.durability, s.jobs, seconds_since(t)).dump());
    db.finalize_all();
}

// One insert per transaction: a commit (and, at FULL, a WAL sync) per row.
void insert_one_per_txn(const Setup& s) {
    fresh(s.path);
    Db db(s.path);
    open_pragmas(db, s.durability);
    sqlite3_stmt* insert = db.prepare(insert_sql);
    const std::int64_t n = s.synced_jobs();
    const auto t = Clock::now();
    for (std::int64_t i = 0; i < n; ++i) {
        db.exec("BEGIN IMMEDIATE");
        insert_rows(db, insert, 1);
        db.exec("COMMIT");
    }
    fmt::print("{}\n", line("insert_one_per_txn", s.durability, n, seconds_since(t)).dump());
    db.finalize_all();
}

// Claim B in one transaction, then complete those B in one transaction, until none is left.
void claim_complete(const Setup& s, int batch) {
    fresh(s.path);
    Db db(s.path);
    open_pragmas(db, s.durability);
    const std::int64_t n = batch == 1 ? s.synced_jobs() : s.jobs;
    {
        sqlite3_stmt* insert = db.prepare(insert_sql);
        db.exec("BEGIN IMMEDIATE");
        insert_rows(db, insert, n);
        db.exec("COMMIT");
    }
    sqlite3_stmt* claim = db.prepare(
        "UPDATE jobs SET state = 'running', attempt = attempt + 1, worker_id = 'w', "
        "lease_expires_at = ?2 WHERE id IN (SELECT id FROM jobs WHERE state = 'available' "
        "AND queue = 'default' ORDER BY priority, run_at, id LIMIT ?1) RETURNING id");
    sqlite3_stmt* complete = db.prepare(
        "UPDATE jobs SET state = 'completed', finished_at = ?2 "
        "WHERE id = ?1 AND state = 'running' AND worker_id = 'w'");
    std::vector<std::int64_t> ids;
    std::int64_t done = 0;
    const auto t = Clock::now();
    while (done < n) {
        ids.clear();
        db.exec("BEGIN IMMEDIATE");
        sqlite3_bind_int(claim, 1, batch);
        sqlite3_bind_int64(claim, 2, 42);
        int rc = 0;
        while ((rc = sqlite3_step(claim)) == SQLITE_ROW)
            ids.push_back(sqlite3_column_int64(claim, 0));
        if (rc != SQLITE_DONE) db.fail("claim");
        sqlite3_reset(claim);
        db.exec("COMMIT");
        if (ids.empty()) break;
        db.exec("BEGIN IMMEDIATE");
        for (std::int64_t id : ids) {
            sqlite3_bind_int64(complete, 1, id);
            sqlite3_bind_int64(complete, 2, 43);
            db.run(complete);
        }
        db.exec("COMMIT");
        done += static_cast<std::int64_t>(ids.size());
    }
    nlohmann::json j = line("claim_complete", s.durability, done, seconds_since(t));
    j["batch"] = batch;
    fmt::print("{}\n", j.dump());
    db.finalize_all();
}

// Runs the measurements (or only the one named, e.g. "claim_complete_100", for a profiler).
bool measure(const Setup& s, std::string_view only) {
    bool ran = false;
    auto want = [&](std::string_view name) {
        const bool yes = only.empty() || only == name;
        ran = ran || yes;
        return yes;
    };
    if (want("insert_batched")) insert_batched(s);
    if (want("insert_one_per_txn")) insert_one_per_txn(s);
    if (want("claim_complete_1")) claim_complete(s, 1);
    if (want("claim_complete_10")) claim_complete(s, 10);
    if (want("claim_complete_100")) claim_complete(s, 100);
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(s.path + suffix);
    return ran;
}

}  // namespace

int main(int argc, char** argv) {
    constexpr std::string_view usage =
        "usage: jobq-sqlite-floor --db PATH [--durability normal|full] [--jobs N]\n"
        "                         [--only insert_batched|insert_one_per_txn|claim_complete_B]\n";
    Setup setup{.durability = "normal"};
    std::string only;
    bool ok = argc % 2 == 1;  // the program name, then flag/value pairs
    for (int i = 1; ok && i + 1 < argc; i += 2) {
        const std::string_view flag = argv[i];
        const std::string_view value = argv[i + 1];
        if (flag == "--db") {
            setup.path = value;
        } else if (flag == "--durability" && (value == "normal" || value == "full")) {
            setup.durability = value;
        } else if (flag == "--jobs") {
            const auto [end, ec] =
                std::from_chars(value.data(), value.data() + value.size(), setup.jobs);
            ok = ec == std::errc{} && end == value.data() + value.size() && setup.jobs > 0;
        } else if (flag == "--only") {
            only = value;
        } else {
            ok = false;
        }
    }
    if (!ok || setup.path.empty()) {
        fmt::print(stderr, "{}", usage);
        return 2;
    }
    try {
        if (!measure(setup, only)) {
            fmt::print(stderr, "jobq-sqlite-floor: --only: no measurement named '{}'\n{}", only,
                       usage);
            return 2;
        }
        return 0;
    } catch (const std::exception& e) {
        fmt::print(stderr, "jobq-sqlite-floor: {}\n", e.what());
        return 1;
    }
}
