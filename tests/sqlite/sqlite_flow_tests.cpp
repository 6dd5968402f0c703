// Flow control as only the SQLite backend has it: migration 3 on a file with jobs, the split
// claimable index and the plain claim beside the flow claim, quotas inside the caller's own
// transaction, failed claims that must leave nothing behind, running counts kept exact, the
// tenant rotation kept in the store object, and two store objects on one file (as two
// processes) sharing a cap. The shared contract is in tests/conformance/flow_conformance.cpp.

#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <sqlite3.h>

#include "faulty_disk.hpp"
#include "jobq/backend/claim_plan.hpp"
#include "jobq/backend/new_job.hpp"
#include "jobq/error.hpp"
#include "jobq/job_spec.hpp"
#include "jobq/quota_exceeded.hpp"
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

SqliteOptions migrated(bool migrate = true) {
    SqliteOptions o;
    o.durability = SqliteDurability::normal;
    o.busy_timeout = 30s;
    o.migrate = migrate;
    return o;
}

/// A plain connection, to look at the file as another program would.
class RawConnection {
  public:
    explicit RawConnection(const std::string& file) {
        REQUIRE(sqlite3_open(file.c_str(), &db_) == SQLITE_OK);
        sqlite3_busy_timeout(db_, 30000);
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

/// The plan SQLite chooses for `sql`, one step per line.
std::string query_plan(RawConnection& conn, std::string_view sql) {
    std::string plan;
    for (const std::string& step : conn.column("EXPLAIN QUERY PLAN " + std::string(sql), 3)) {
        plan += step + "\n";
    }
    return plan;
}

bool contains(const std::string& text, std::string_view part) {
    return text.find(part) != std::string::npos;
}

std::vector<InsertResult> enqueue_n(Store& store, int n, const JobSpec& spec, Timestamp now = t0) {
    std::vector<NewJob> batch;
    for (int i = 0; i < n; ++i) batch.push_back(to_new_job(spec, now));
    return store.insert(batch);
}

ClaimResult claim(Store& store, const std::string& queue, int limit, Timestamp now,
                  const std::string& worker = "w") {
    ClaimRequest req;
    req.queues = {{queue, limit}};
    req.worker_id = worker;
    req.now = now;
    req.lease_expires_at = now + 30s;
    return store.claim(req);
}

Outcome done(const Job& job, Timestamp when, OutcomeKind kind = OutcomeKind::complete) {
    Outcome o;
    o.id = job.id;
    o.attempt = job.attempt;
    o.worker_id = job.worker_id;
    o.kind = kind;
    o.at = when;
    o.run_at = when;
    return o;
}

FlowLimits cap(int n) {
    FlowLimits l;
    l.max_running = n;
    return l;
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

/// What the limit rows and the jobs table hold, as text, to show that a failed call wrote
/// nothing.
std::vector<std::string> flow_tables(RawConnection& raw) {
    std::vector<std::string> rows = raw.column(
        "SELECT scope || ':' || name || '|' || running || '|' || tokens || '|' || tokens_at"
        " FROM jobq_limits ORDER BY scope, name");
    for (std::string& job : raw.column("SELECT id || '|' || state || '|' || attempt || '|' ||"
                                       " coalesce(worker_id, '') FROM jobq_jobs ORDER BY id")) {
        rows.push_back(std::move(job));
    }
    return rows;
}

/// The running count each limit row should hold, counted from the jobs.
std::int64_t real_running(RawConnection& raw, const LimitScope& scope) {
    const std::string column = scope.type == ScopeType::queue  ? "queue"
                               : scope.type == ScopeType::kind ? "kind"
                                                               : "tenant";
    return raw.count("SELECT count(*) FROM jobq_jobs WHERE state = 'running' AND " + column +
                     " = '" + scope.name + "'");
}

}  // namespace

// ---- schema ---------------------------------------------------------------------------------

TEST_CASE("the library's schema is version 4: limits, workers, a split claim index, workflows") {
    const auto& all = sqlite_detail::migrations();
    REQUIRE(all.size() == 4);
    CHECK(all[2].first == 3);
    CHECK(all[3].first == 4);
    CHECK(sqlite_detail::library_schema_version() == 4);

    TempDir dir;
    SqliteStore store(dir.file(), migrated());
    CHECK(store.schema_version() == 4);
    RawConnection raw(dir.file());
    CHECK(raw.column("SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'jobq_%'"
                     " AND name <> 'jobq_meta' AND name NOT LIKE 'jobq_schedule%' ORDER BY name") ==
          std::vector<std::string>{"jobq_job_deps", "jobq_jobs", "jobq_limits", "jobq_workers",
                                   "jobq_workflows"});
    CHECK(raw.column("SELECT name FROM sqlite_master WHERE type = 'index' AND"
                     " tbl_name = 'jobq_jobs' AND name LIKE 'jobq_jobs_%' ORDER BY name") ==
          std::vector<std::string>{"jobq_jobs_claimable", "jobq_jobs_claimable_tenant",
                                   "jobq_jobs_due", "jobq_jobs_tenant_queued", "jobq_jobs_unique",
                                   "jobq_jobs_workflow"});
}

TEST_CASE("migrating a version-2 file keeps every job claimable and counts right") {
    TempDir dir;
    {
        // A file as jobq wrote it before flow control: the first two migrations only, with
        // jobs in every claim-relevant shape.
        RawConnection raw(dir.file());
        raw.exec(
            "CREATE TABLE jobq_meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL)"
            " WITHOUT ROWID");
        raw.exec(std::string(sqlite_detail::migrations().at(0).second));
        raw.exec(std::string(sqlite_detail::migrations().at(1).second));
        raw.exec("INSERT INTO jobq_meta (key, value) VALUES ('schema_version', 2)");
        const std::string insert =
            "INSERT INTO jobq_jobs (kind, queue, tenant, payload, priority, state, attempt,"
            " max_attempts, created_at, run_at, worker_id, lease_expires_at) VALUES ";
        raw.exec(insert +
                 "('k', 'q', NULL, '{}', 0, 'available', 0, 3, 1, 1, NULL, NULL),"
                 "('k', 'q', NULL, '{}', 1, 'available', 0, 3, 1, 1, NULL, NULL),"
                 "('k', 'q', 'acme', '{}', 0, 'available', 0, 3, 1, 2, NULL, NULL),"
                 "('k', 'q', 'acme', '{}', 0, 'available', 0, 3, 1, 3, NULL, NULL),"
                 "('k', 'q', 'zeta', '{}', 0, 'available', 0, 3, 1, 4, NULL, NULL),"
                 "('k', 'q', 'acme', '{}', 0, 'running', 1, 3, 1, 1, 'old', 9999999999999999),"
                 "('slow', 'q', NULL, '{}', 0, 'running', 1, 3, 1, 1, 'old', 9999999999999999),"
                 "('k', 'q', 'acme', '{}', 0, 'scheduled', 0, 3, 1, 9000000000000000, NULL,"
                 " NULL)");
    }
    SqliteStore store(dir.file(), migrated(false));
    CHECK(store.schema_version() == 2);
    CHECK(store.migrate() == 4);
    CHECK(store.schema_version() == 4);

    RawConnection raw(dir.file());
    // Every available job is in exactly one of the two claimable indexes.
    CHECK(raw.count("SELECT count(*) FROM jobq_jobs INDEXED BY jobq_jobs_claimable"
                    " WHERE state = 'available' AND tenant IS NULL AND queue = 'q'") == 2);
    CHECK(raw.count("SELECT count(*) FROM jobq_jobs INDEXED BY jobq_jobs_claimable_tenant"
                    " WHERE state = 'available' AND tenant IS NOT NULL AND queue = 'q'") == 3);
    // The quota index holds the tenant's queued jobs, the scheduled one included.
    CHECK(raw.count("SELECT count(*) FROM jobq_jobs INDEXED BY jobq_jobs_tenant_queued"
                    " WHERE tenant = 'acme' AND tenant IS NOT NULL AND (state = 'pending'"
                    " OR state = 'scheduled' OR state = 'available' OR state = 'retryable')") == 3);

    // Rows created now count the jobs that were already running.
    CHECK(store.set_limits(LimitScope::queue("q"), cap(100), at(0)).running == 2);
    CHECK(store.set_limits(LimitScope::kind("k"), cap(100), at(0)).running == 1);
    CHECK(store.set_limits(LimitScope::kind("slow"), cap(100), at(0)).running == 1);
    CHECK(store.set_limits(LimitScope::tenant("acme"), cap(100), at(0)).running == 1);
    FlowLimits quota;
    quota.max_queued = 4;
    store.set_limits(LimitScope::tenant("zeta"), quota, at(0));

    // Every old available job is claimed, and the counts follow.
    const ClaimResult r = claim(store, "q", 100, at(1));
    CHECK(r.jobs.size() == 5);
    CHECK(store.limit_record(LimitScope::queue("q"))->running == 7);
    CHECK(store.limit_record(LimitScope::kind("k"))->running == 6);
    CHECK(store.limit_record(LimitScope::tenant("acme"))->running == 3);
    CHECK(store.limit_record(LimitScope::tenant("zeta"))->running == 1);

    // The old running jobs give their slots back when they end, like new ones.
    std::vector<Outcome> outcomes;
    for (const std::string& id :
         raw.column("SELECT id FROM jobq_jobs WHERE worker_id = 'old' ORDER BY id")) {
        Outcome o;
        o.id = std::stoll(id);
        o.attempt = 1;
        o.worker_id = "old";
        o.at = at(2);
        outcomes.push_back(o);
    }
    REQUIRE(outcomes.size() == 2);
    CHECK(store.complete(outcomes) == std::vector<bool>{true, true});
    CHECK(store.limit_record(LimitScope::queue("q"))->running == 5);
    CHECK(store.limit_record(LimitScope::kind("slow"))->running == 0);
    CHECK(store.limit_record(LimitScope::tenant("acme"))->running == 2);

    // The quota index counts what version 2 left too: zeta has one job, running now.
    enqueue_n(store, 4, JobSpec{"k"}.queue("q").tenant("zeta"));
    CHECK_THROWS_AS(enqueue_n(store, 1, JobSpec{"k"}.queue("q").tenant("zeta")), QuotaExceeded);
}

// ---- the plain claim and the flow claim ------------------------------------------------------

TEST_CASE("without limit rows a queue of jobs without tenants is claimed in plain order") {
    TempDir dir;
    SqliteStore store(dir.file(), migrated());
    enqueue_n(store, 3, JobSpec{"k"}.queue("q").priority(2), at(0));
    enqueue_n(store, 3, JobSpec{"k"}.queue("q").priority(1), at(1));
    enqueue_n(store, 2, JobSpec{"k"}.queue("other"), at(0));
    const ClaimResult r = claim(store, "q", 4, at(2));
    REQUIRE(r.jobs.size() == 4);
    CHECK(r.more.empty());
    CHECK_FALSE(r.throttled_until.has_value());
    for (int i = 0; i < 3; ++i) CHECK(r.jobs[static_cast<std::size_t>(i)].priority == 1);
    CHECK(r.jobs[3].priority == 2);
    for (std::size_t i = 1; i < 3; ++i) CHECK(r.jobs[i - 1].id < r.jobs[i].id);
    CHECK(claim(store, "q", 10, at(3)).jobs.size() == 2);
    CHECK(claim(store, "other", 10, at(3)).jobs.size() == 2);

    // Its statement is version 2's with the tenant condition of the index it walks.
    RawConnection raw(dir.file());
    const std::string plan = query_plan(raw, sqlite_detail::sql_text(sqlite_detail::Sql::claim));
    INFO(plan);
    CHECK(contains(plan, "USING INDEX jobq_jobs_claimable (queue=?)"));
    CHECK_FALSE(contains(plan, "TEMP B-TREE"));
}

TEST_CASE("a queue goes back to the plain claim once its last limit row is removed") {
    TempDir dir;
    SqliteStore store(dir.file(), migrated());
    store.set_limits(LimitScope::queue("q"), cap(1), at(0));
    enqueue_n(store, 5, JobSpec{"k"}.queue("q"));
    CHECK(claim(store, "q", 10, at(1)).jobs.size() == 1);
    REQUIRE(store.remove_limits(LimitScope::queue("q"), at(2)));
    CHECK(store.limit_records().empty());
    CHECK(claim(store, "q", 10, at(3)).jobs.size() == 4);
}

TEST_CASE("the flow claim's statements walk indexes, not the table") {
    TempDir dir;
    SqliteStore store(dir.file(), migrated());
    RawConnection raw(dir.file());
    using sqlite_detail::Sql;
    using sqlite_detail::sql_text;
    auto plan_of = [&](Sql id) {
        return query_plan(raw, sql_text(id));
    };

    std::string plan = plan_of(Sql::next_tenant);
    INFO(plan);
    CHECK(contains(plan, "USING INDEX jobq_jobs_claimable_tenant (queue=? AND tenant>?)"));
    CHECK_FALSE(contains(plan, "TEMP B-TREE"));

    plan = plan_of(Sql::candidates_tenant);
    CHECK(contains(plan, "USING INDEX jobq_jobs_claimable_tenant (queue=? AND tenant=?)"));
    CHECK_FALSE(contains(plan, "TEMP B-TREE"));
    plan = plan_of(Sql::candidates_plain);
    CHECK(contains(plan, "USING INDEX jobq_jobs_claimable (queue=?)"));
    CHECK_FALSE(contains(plan, "TEMP B-TREE"));
    CHECK(contains(plan_of(Sql::queue_has_tenant_jobs), "jobq_jobs_claimable_tenant (queue=?"));
    CHECK(contains(plan_of(Sql::queue_has_plain_jobs), "jobq_jobs_claimable (queue=?)"));

    // A quota count reads the index only, however many jobs the tenant has queued.
    plan = plan_of(Sql::tenant_queued);
    CHECK(contains(plan, "USING COVERING INDEX jobq_jobs_tenant_queued (tenant=?"));

    // Completions give slots back by primary key; planned jobs start by theirs.
    plan = plan_of(Sql::limit_release);
    CHECK(contains(plan, "USING PRIMARY KEY (scope=? AND name=?)"));
    plan = plan_of(Sql::claim_picked);
    CHECK(contains(plan, "USING INTEGER PRIMARY KEY (rowid=?)"));

    // Nothing else on the writer reads the whole jobs table (count_running does, on purpose:
    // no index holds running jobs).
    for (Sql id : {Sql::claim_picked, Sql::limit_release, Sql::limit_started,
                   Sql::tenant_max_queued, Sql::limit_get_for_update, Sql::worker_delete}) {
        plan = plan_of(id);
        CHECK_FALSE(contains(plan, "SCAN jobq_jobs\n"));
        CHECK_FALSE(contains(plan, "SCAN jobq_limits"));
    }
}

// ---- quotas ---------------------------------------------------------------------------------

TEST_CASE("a quota refused in enqueue_in leaves the caller's transaction open and usable") {
    TempDir dir;
    SqliteStore store(dir.file(), migrated());
    FlowLimits quota;
    quota.max_queued = 2;
    store.set_limits(LimitScope::tenant("acme"), quota, at(0));
    RawConnection app(dir.file());
    app.exec("CREATE TABLE orders (id INTEGER PRIMARY KEY)");

    app.exec("BEGIN");
    app.exec("INSERT INTO orders DEFAULT VALUES");
    store.enqueue_in(app.get(), JobSpec{"k"}.tenant("acme"));
    const std::vector<JobSpec> over{JobSpec{"k"}.tenant("other"), JobSpec{"k"}.tenant("acme"),
                                    JobSpec{"k"}.tenant("acme")};
    try {
        store.enqueue_in(app.get(), over);
        FAIL("expected QuotaExceeded");
    } catch (const QuotaExceeded& e) {
        CHECK(e.tenant() == "acme");
        CHECK(e.limit() == 2);
        CHECK(e.queued() == 2);  // the one of this transaction and the batch's first
    }
    CHECK(sqlite3_get_autocommit(app.get()) == 0);  // still the caller's transaction
    app.exec("INSERT INTO orders DEFAULT VALUES");
    store.enqueue_in(app.get(), JobSpec{"k"}.tenant("acme"));  // the second fits
    app.exec("COMMIT");

    RawConnection raw(dir.file());
    CHECK(raw.count("SELECT count(*) FROM orders") == 2);
    CHECK(raw.count("SELECT count(*) FROM jobq_jobs WHERE tenant = 'acme'") == 2);
    CHECK(raw.count("SELECT count(*) FROM jobq_jobs WHERE tenant = 'other'") == 0);

    // Outside a transaction the refusal leaves no transaction behind either.
    CHECK_THROWS_AS(store.enqueue_in(app.get(), JobSpec{"k"}.tenant("acme")), QuotaExceeded);
    CHECK(sqlite3_get_autocommit(app.get()) != 0);
}

TEST_CASE("cron windows are not refused by a tenant's quota") {
    TempDir dir;
    SqliteStore store(dir.file(), migrated());
    FlowLimits quota;
    quota.max_queued = 0;
    store.set_limits(LimitScope::tenant("acme"), quota, at(0));
    CHECK_THROWS_AS(enqueue_n(store, 1, JobSpec{"k"}.tenant("acme")), QuotaExceeded);
    ScheduleRecord r;
    r.name = "tick";
    r.expression = "* * * * *";
    r.zone = "UTC";
    r.job = R"({"kind":"k"})";
    r.misfire = R"({"mode":"skip"})";
    r.cursor = t0;
    r.created_at = t0;
    r.updated_at = t0;
    REQUIRE(store.add_schedule(r));
    FireRequest f;
    f.name = "tick";
    f.expected_cursor = t0;
    f.new_cursor = at(60);
    f.windows = {WindowJob{at(60), to_new_job(JobSpec{"k"}.tenant("acme").run_at(at(60)), t0)}};
    f.now = at(60);
    CHECK(store.fire_schedule(f).applied);
}

// ---- failures -------------------------------------------------------------------------------

TEST_CASE("a flow claim on a full disk writes nothing but still takes its tenants' turn") {
    testing::FaultyDisk::install();
    TempDir dir;
    SqliteStore store(dir.file(), migrated());
    FlowLimits limits = cap(100);
    limits.rate = RateLimit{1000, 1s, 0};
    store.set_limits(LimitScope::queue("q"), limits, at(0));
    store.set_limits(LimitScope::kind("k"), cap(100), at(0));
    const int tenants = max_tenants_per_claim + 4;
    for (int t = 0; t < tenants; ++t) {
        enqueue_n(store, 1, JobSpec{"k"}.queue("q").tenant("t" + std::to_string(100 + t)));
    }
    RawConnection raw(dir.file());
    const std::vector<std::string> before = flow_tables(raw);
    {
        testing::DiskFull full;
        const std::optional<Error> e = error_of([&] { claim(store, "q", 100, at(1)); });
        REQUIRE(e.has_value());
        CHECK(e->code() == ErrorCode::storage);
        CHECK(std::string(e->what()).find("claim: ") == 0);
    }
    CHECK(flow_tables(raw) == before);

    // The rotation moves when a claim is planned, as on every backend
    // (jobq/backend/tenant_rotation.hpp): the failed claim's tenants lost their turn, so the
    // next claim starts after them and wraps round to the first.
    const ClaimResult r = claim(store, "q", 100, at(1));
    REQUIRE(r.jobs.size() == static_cast<std::size_t>(max_tenants_per_claim));
    std::set<std::string> seen;
    for (const Job& j : r.jobs) seen.insert(j.tenant);
    std::set<std::string> expected;
    for (int t = max_tenants_per_claim; t < tenants; ++t)
        expected.insert("t" + std::to_string(100 + t));
    for (int t = 0; static_cast<int>(expected.size()) < max_tenants_per_claim; ++t) {
        expected.insert("t" + std::to_string(100 + t));
    }
    CHECK(seen == expected);
    CHECK(store.limit_record(LimitScope::queue("q"))->running == max_tenants_per_claim);
}

TEST_CASE("a flow claim that finds the file locked writes nothing") {
    TempDir dir;
    SqliteOptions quick = migrated();
    quick.busy_timeout = 50ms;
    SqliteStore store(dir.file(), quick);
    store.set_limits(LimitScope::queue("q"), cap(3), at(0));
    enqueue_n(store, 5, JobSpec{"k"}.queue("q").tenant("a"));
    RawConnection other(dir.file());
    const std::vector<std::string> before = flow_tables(other);
    other.exec("BEGIN IMMEDIATE");
    const std::optional<Error> e = error_of([&] { claim(store, "q", 10, at(1)); });
    other.exec("ROLLBACK");
    REQUIRE(e.has_value());
    CHECK(e->code() == ErrorCode::storage);
    CHECK(flow_tables(other) == before);
    CHECK(claim(store, "q", 10, at(1)).jobs.size() == 3);
}

// ---- running counts -------------------------------------------------------------------------

TEST_CASE("running counts equal the running jobs after any mix of claims and endings") {
    TempDir dir;
    SqliteStore store(dir.file(), migrated());
    const std::vector<std::string> queues{"q1", "q2"};
    const std::vector<std::string> kinds{"a", "b", "c"};
    const std::vector<std::string> tenants{"", "t1", "t2", "t3"};
    std::vector<LimitScope> scopes;
    for (const std::string& q : queues) scopes.push_back(LimitScope::queue(q));
    for (const std::string& k : kinds) scopes.push_back(LimitScope::kind(k));
    for (const std::string& t : tenants) {
        if (!t.empty()) scopes.push_back(LimitScope::tenant(t));
    }
    // Caps that bind now and then, and one scope (kind c) without a row at first.
    store.set_limits(LimitScope::queue("q1"), cap(6), at(0));
    store.set_limits(LimitScope::queue("q2"), cap(50), at(0));
    store.set_limits(LimitScope::kind("a"), cap(4), at(0));
    store.set_limits(LimitScope::kind("b"), cap(50), at(0));
    store.set_limits(LimitScope::tenant("t1"), cap(3), at(0));
    store.set_limits(LimitScope::tenant("t2"), cap(50), at(0));
    store.set_limits(LimitScope::tenant("t3"), cap(50), at(0));

    RawConnection raw(dir.file());
    std::mt19937 rng(20240605);
    auto pick = [&](const auto& v) {
        return v[rng() % v.size()];
    };
    std::vector<Job> held;  // jobs this test believes it holds (some lose their fence)
    int second = 1;
    for (int step = 0; step < 400; ++step) {
        const Timestamp now = at(second++);
        switch (rng() % 7) {
            case 0:
            case 1: {
                std::vector<NewJob> batch;
                for (int i = 0; i < 4; ++i) {
                    batch.push_back(to_new_job(
                        JobSpec{pick(kinds)}.queue(pick(queues)).tenant(pick(tenants)), now));
                }
                store.insert(batch);
                break;
            }
            case 2: {
                ClaimRequest req;
                req.queues = {{pick(queues), 1 + static_cast<int>(rng() % 5)},
                              {pick(queues), 1 + static_cast<int>(rng() % 5)}};
                req.worker_id = "w";
                req.now = now;
                req.lease_expires_at = now + 5s;
                for (Job& j : store.claim(req).jobs) held.push_back(std::move(j));
                break;
            }
            case 3: {
                // A batch of outcomes, some of them stale (answered twice, or for another
                // worker), which the fence must keep from counting.
                std::vector<Outcome> batch;
                for (int i = 0; i < 3 && !held.empty(); ++i) {
                    const std::size_t k = rng() % held.size();
                    const OutcomeKind kind = pick(std::vector<OutcomeKind>{
                        OutcomeKind::complete, OutcomeKind::retry, OutcomeKind::snooze,
                        OutcomeKind::discard, OutcomeKind::cancel});
                    Outcome o = done(held[k], now, kind);
                    if (rng() % 5 == 0) o.worker_id = "someone-else";
                    batch.push_back(o);
                    if (rng() % 3 == 0) batch.push_back(o);  // answered twice
                    held.erase(held.begin() + static_cast<std::ptrdiff_t>(k));
                }
                store.complete(batch);
                break;
            }
            case 4: {
                if (held.empty()) break;
                store.cancel(pick(held).id, now);
                break;
            }
            case 5: {
                // The rescuer: every expired lease, as Scheduler would end them.
                std::vector<Outcome> batch;
                for (const Job& j : store.expired_leases(now, 100)) {
                    Outcome o = done(j, now, OutcomeKind::retry);
                    o.only_if_lease_expired_by = now;
                    batch.push_back(o);
                }
                store.complete(batch);
                break;
            }
            case 6: {
                // A row appears or goes while jobs run.
                if (rng() % 2 == 0) {
                    store.set_limits(LimitScope::kind("c"), cap(50), now);
                } else {
                    store.remove_limits(LimitScope::kind("c"), now);
                }
                break;
            }
        }
        for (const LimitRecord& r : store.limit_records()) {
            INFO(r.scope.to_string() << " at step " << step);
            REQUIRE(r.running == real_running(raw, r.scope));
            if (r.limits.max_running) CHECK(r.running <= *r.limits.max_running);
        }
    }
    CHECK(raw.count("SELECT count(*) FROM jobq_jobs WHERE state = 'running'") > 0);
}

// ---- tenant rotation ------------------------------------------------------------------------

TEST_CASE("the tenant rotation reaches every tenant of a queue, however many there are") {
    TempDir dir;
    SqliteStore store(dir.file(), migrated());
    const int tenants = 3 * max_tenants_per_claim + 5;
    for (int t = 0; t < tenants; ++t) {
        enqueue_n(store, 3, JobSpec{"k"}.queue("q").tenant("t" + std::to_string(1000 + t)));
    }
    enqueue_n(store, 3, JobSpec{"k"}.queue("q"));  // and jobs without a tenant

    // Each claim visits at most max_tenants_per_claim tenants (plus the jobs without one)
    // and says when there are more; the next one starts where it stopped.
    std::map<std::string, int> taken;
    int claims = 0;
    for (; claims < 10 && static_cast<int>(taken.size()) < tenants + 1; ++claims) {
        const ClaimResult r = claim(store, "q", 1000, at(claims));
        std::set<std::string> in_this;
        for (const Job& j : r.jobs) in_this.insert(j.tenant);
        CHECK(in_this.count("") == (claims == 0 ? 1 : 0));  // all three at the first visit
        CHECK(static_cast<int>(in_this.size()) <= max_tenants_per_claim + 1);
        for (const Job& j : r.jobs) ++taken[j.tenant];
        const bool more = std::find(r.more.begin(), r.more.end(), "q") != r.more.end();
        CHECK(more == (static_cast<int>(taken.size()) < tenants + 1));
    }
    CHECK(static_cast<int>(taken.size()) == tenants + 1);
    CHECK(claims == (tenants + max_tenants_per_claim - 1) / max_tenants_per_claim);
    // Every visit took all of the tenant's jobs (the budget allows it).
    for (const auto& [tenant, n] : taken) CHECK(n == 3);

    // Each store object keeps its own rotation: another one starts from the first tenant.
    enqueue_n(store, 1, JobSpec{"k"}.queue("r").tenant("a"));
    enqueue_n(store, 1, JobSpec{"k"}.queue("r").tenant("b"));
    SqliteStore another(dir.file(), migrated(false));
    CHECK(claim(another, "r", 1, at(100)).jobs.at(0).tenant == "a");
}

TEST_CASE("the rotation wraps to the tenants before the cursor, the cursor's own included") {
    TempDir dir;
    SqliteStore store(dir.file(), migrated());
    const int tenants = max_tenants_per_claim + 2;
    for (int t = 0; t < tenants; ++t) {
        enqueue_n(store, 2, JobSpec{"k"}.queue("q").tenant("t" + std::to_string(100 + t)));
    }
    // One job per claim from 16 tenants each: the first claim takes from t100..t115.
    ClaimResult r = claim(store, "q", max_tenants_per_claim, at(1));
    CHECK(r.jobs.size() == static_cast<std::size_t>(max_tenants_per_claim));
    // The next one starts after t115: t116, t117, then wraps to t100..t113.
    r = claim(store, "q", 100, at(2));
    std::set<std::string> seen;
    for (const Job& j : r.jobs) seen.insert(j.tenant);
    CHECK(seen.count("t116") == 1);
    CHECK(seen.count("t117") == 1);
    CHECK(seen.count("t100") == 1);
    CHECK(seen.count("t113") == 1);
    CHECK(seen.count("t114") == 0);
    CHECK(std::find(r.more.begin(), r.more.end(), "q") != r.more.end());
}

// ---- two store objects on one file ----------------------------------------------------------

TEST_CASE("two stores on one file never run more than a shared cap of 5") {
    TempDir dir;
    SqliteStore a(dir.file(), migrated());
    SqliteStore b(dir.file(), migrated(false));
    a.set_limits(LimitScope::queue("q"), cap(5), at(0));
    const int total = 400;
    for (int i = 0; i < total / 4; ++i) {
        enqueue_n(a, 4,
                  JobSpec{"k"}.queue("q").tenant(i % 2 == 0 ? "" : "t" + std::to_string(i % 7)));
    }

    std::atomic<bool> stop{false};
    std::atomic<int> over{0};
    std::atomic<int> finished{0};
    std::atomic<std::int64_t> peak{0};
    auto work = [&](SqliteStore& store, const std::string& worker, unsigned seed) {
        std::mt19937 rng(seed);
        std::vector<Job> mine;
        for (int round = 0; round < 2000 && finished.load() < total; ++round) {
            const Timestamp now = at(1 + round);
            ClaimResult r = claim(store, "q", 1 + static_cast<int>(rng() % 5), now, worker);
            for (Job& j : r.jobs) mine.push_back(std::move(j));
            const std::int64_t running = store.limit_record(LimitScope::queue("q"))->running;
            if (running > 5) ++over;
            std::int64_t p = peak.load();
            while (running > p && !peak.compare_exchange_weak(p, running)) {
            }
            // Finish a random part of what this worker holds.
            std::vector<Outcome> outcomes;
            while (!mine.empty() && rng() % 3 != 0) {
                outcomes.push_back(done(mine.back(), now));
                mine.pop_back();
            }
            if (!outcomes.empty()) {
                for (bool ok : store.complete(outcomes)) finished += ok ? 1 : 0;
            }
        }
        std::vector<Outcome> rest;
        for (const Job& j : mine) rest.push_back(done(j, at(5000)));
        if (!rest.empty()) {
            for (bool ok : store.complete(rest)) finished += ok ? 1 : 0;
        }
    };
    // A third reader watches the jobs themselves, in snapshots of its own.
    std::thread watcher([&] {
        RawConnection raw(dir.file());
        while (!stop.load()) {
            if (raw.count("SELECT count(*) FROM jobq_jobs WHERE state = 'running'") > 5) ++over;
            std::this_thread::yield();  // two cores: leave the workers room
        }
    });
    std::thread ta([&] { work(a, "worker-a", 1); });
    std::thread tb([&] { work(b, "worker-b", 2); });
    ta.join();
    tb.join();
    stop = true;
    watcher.join();

    CHECK(over.load() == 0);
    CHECK(peak.load() <= 5);
    CHECK(peak.load() >= 1);
    CHECK(finished.load() == total);
    CHECK(a.limit_record(LimitScope::queue("q"))->running == 0);
    RawConnection raw(dir.file());
    CHECK(raw.count("SELECT count(*) FROM jobq_jobs WHERE state = 'completed'") == total);
}

// ---- explain facts --------------------------------------------------------------------------

TEST_CASE("wait facts count due scheduled and retryable jobs as ahead, as a claim would") {
    TempDir dir;
    SqliteStore store(dir.file(), migrated());
    enqueue_n(store, 1, JobSpec{"k"}.queue("q").run_at(at(5)), at(0));   // due at 5
    enqueue_n(store, 1, JobSpec{"k"}.queue("q").tenant("t"), at(1));     // available
    enqueue_n(store, 1, JobSpec{"k"}.queue("q").run_at(at(50)), at(0));  // not due at 10
    const JobId id = enqueue_n(store, 1, JobSpec{"k"}.queue("q"), at(6)).at(0).id;
    const std::optional<WaitFacts> facts = store.wait_facts(id, at(10));
    REQUIRE(facts.has_value());
    CHECK(facts->ahead == 2);
    CHECK(facts->limits.empty());
    CHECK(facts->workers.empty());
}

TEST_CASE("worker records and wait facts work on an in-memory database") {
    SqliteStore store(":memory:", migrated());
    store.record_worker(WorkerRecord{"w", {"q"}, t0, t0, at(30)});
    const JobId id = enqueue_n(store, 1, JobSpec{"k"}.queue("q")).at(0).id;
    const std::optional<WaitFacts> facts = store.wait_facts(id, at(1));
    REQUIRE(facts.has_value());
    REQUIRE(facts->workers.size() == 1);
    CHECK(facts->workers[0].id == "w");
    CHECK(store.workers(at(31)).empty());
}

}  // namespace jobq
