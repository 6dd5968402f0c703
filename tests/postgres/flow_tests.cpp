// Flow control on PostgreSQL, where it must hold across processes: the version-3 migration of
// a schema that has jobs, the plain claim left as it was, quotas in the caller's transaction,
// cancellations announced to other stores over NOTIFY, a cap that several stores claiming at
// once never exceed, and claims, completions and cancels on the same limit rows finishing
// without deadlocks. Two PostgresStore objects share no connection, as two processes would.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <exception>
#include <future>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <doctest/doctest.h>
#include <pqxx/pqxx>

#include "jobq/backend/notifier.hpp"
#include "jobq/error.hpp"
#include "jobq/flow_limits.hpp"
#include "jobq/job_spec.hpp"
#include "jobq/limit_scope.hpp"
#include "jobq/postgres/postgres_store.hpp"
#include "jobq/quota_exceeded.hpp"
#include "pg_fixture.hpp"
#include "wake_log.hpp"

namespace jobq::pgtest {

namespace {

/// One integer that `sql` selects, on a connection of its own.
std::int64_t query_int(const std::string& url, const std::string& sql) {
    pqxx::connection c{url};
    pqxx::nontransaction tx{c};
    return tx.exec1(sql)[0].as<std::int64_t>();
}

/// Inserts `n` jobs of `spec` now, in one call.
std::vector<JobId> insert_many(Store& store, const JobSpec& spec, int n) {
    const Timestamp now = system_clock().now();
    std::vector<NewJob> jobs(static_cast<std::size_t>(n), to_new_job(spec, now));
    std::vector<JobId> ids;
    for (const InsertResult& r : store.insert(jobs)) ids.push_back(r.id);
    return ids;
}

/// The outcome that completes `job` for `worker`.
Outcome completion(const Job& job, const std::string& worker) {
    Outcome o;
    o.id = job.id;
    o.attempt = job.attempt;
    o.worker_id = worker;
    o.kind = OutcomeKind::complete;
    o.at = system_clock().now();
    return o;
}

/// Claims for `worker` from `queue`, up to `limit`.
ClaimResult claim_from(Store& store, const std::string& queue, int limit,
                       const std::string& worker) {
    const Timestamp now = system_clock().now();
    ClaimRequest req;
    req.queues = {{queue, limit}};
    req.worker_id = worker;
    req.now = now;
    req.lease_expires_at = now + std::chrono::seconds{60};
    return store.claim(req);
}

FlowLimits cap(int max_running) {
    FlowLimits l;
    l.max_running = max_running;
    return l;
}

/// The running count of a scope's row (-1 when it has none).
std::int64_t running_of(Store& store, const LimitScope& scope) {
    const std::optional<LimitRecord> r = store.limit_record(scope);
    return r ? r->running : -1;
}

/// Waits for every future, each within the deadline; fails naming the ones that hang (a
/// deadlock) and rethrows the first failure.
void join_all(std::vector<std::future<void>>& tasks, const std::string& what,
              std::chrono::seconds deadline = std::chrono::seconds{120}) {
    const auto until = SteadyClock::now() + deadline;
    for (std::size_t i = 0; i < tasks.size(); ++i) {
        if (tasks[i].wait_until(until) != std::future_status::ready) {
            FAIL(what << ": task " << i << " did not finish within " << deadline.count() << " s");
        }
    }
    for (auto& t : tasks) t.get();
}

}  // namespace

TEST_SUITE_BEGIN("flow");

TEST_CASE("a version-2 schema with jobs migrates to version 3 and its jobs stay claimable") {
    ScratchSchema reference{"flref"};
    const int latest = PostgresStore{reference.url(), reference.options(false)}.migrate();
    REQUIRE(latest >= 3);

    // Version 2 exactly as a release of that version left it: its migration files, its meta row.
    ScratchSchema schema{"flv2"};
    const std::string quoted = "\"" + schema.name() + "\"";
    auto migration = [&](const char* file) {
        std::string sql =
            read_file(std::string(JOBQ_SOURCE_DIR) + "/backends/postgres/sql/" + file);
        for (std::size_t p = sql.find("@schema@"); p != std::string::npos;
             p = sql.find("@schema@", p)) {
            sql.replace(p, 8, quoted);
        }
        return sql;
    };
    {
        pqxx::connection c{schema.url()};
        pqxx::work tx{c};
        tx.exec0("CREATE SCHEMA " + quoted);
        tx.exec0("CREATE TABLE " + quoted + ".meta (key text PRIMARY KEY, value integer NOT NULL)");
        tx.exec(migration("001_initial.sql"));
        tx.exec(migration("002_schedules.sql"));
        tx.exec0("INSERT INTO " + quoted + ".meta VALUES ('schema_version', 2)");
        // Jobs of a release without tenants' own index: some with a tenant, one not yet due.
        tx.exec0("INSERT INTO " + quoted +
                 ".jobs (kind, queue, tenant, payload, priority, state, max_attempts,"
                 " created_at, run_at) VALUES"
                 " ('legacy.job', 'old', NULL, '{}', 1, 'available', 3, 1, 1),"
                 " ('legacy.job', 'old', 'acme', '{}', 0, 'available', 3, 1, 2),"
                 " ('legacy.job', 'old', 'zeta', '{}', 2, 'available', 3, 1, 3),"
                 " ('legacy.job', 'old', 'acme', '{}', 0, 'scheduled', 3, 1, 9000000000000000)");
        tx.commit();
    }

    PostgresStore store{schema.url(), schema.options(false)};
    CHECK(store.schema_version() == 2);
    CHECK(store.migrate() == latest);
    CHECK(store.schema_version() == latest);

    // The claim index is split by tenant and the tables are there, empty.
    const std::string indexes = "SELECT count(*) FROM pg_indexes WHERE schemaname = '" +
                                schema.name() +
                                "' AND indexname IN ('jobs_claimable',"
                                " 'jobs_claimable_tenant', 'jobs_tenant_queued')";
    CHECK(query_int(schema.url(), indexes) == 3);
    CHECK(store.limit_records().empty());
    CHECK(store.workers(system_clock().now()).empty());

    // Every job that was claimable is, in priority order, tenants or not.
    const std::vector<Job> claimed = claim_from(store, "old", 10, "migrated").jobs;
    REQUIRE(claimed.size() == 3);
    CHECK(claimed[0].tenant == "acme");
    CHECK(claimed[1].tenant.empty());
    CHECK(claimed[2].tenant == "zeta");
    CHECK(jobs_in_queue(store, "old").size() == 4);
}

TEST_CASE("without limit rows jobs without a tenant are claimed in claim order as before") {
    ScratchSchema schema{"flplain"};
    PostgresStore store{schema.url(), schema.options()};
    const Timestamp now = system_clock().now();
    std::vector<NewJob> jobs;
    for (int i = 0; i < 6; ++i) {
        jobs.push_back(to_new_job(
            JobSpec{"pg.plain", {{"i", i}}}.queue("plain").priority(i % 2 == 0 ? 1 : 0), now));
    }
    // Due already, still scheduled: the claim takes it as it always did.
    jobs.push_back(to_new_job(JobSpec{"pg.plain", {{"i", 6}}}.queue("plain").priority(0), now));
    jobs.back().state = JobState::scheduled;
    jobs.back().run_at = now - std::chrono::seconds{5};
    // Tenant jobs elsewhere do not change how this queue is claimed.
    jobs.push_back(to_new_job(JobSpec{"pg.other"}.queue("elsewhere").tenant("acme"), now));
    const std::vector<InsertResult> ids = store.insert(jobs);
    REQUIRE(ids.size() == jobs.size());

    const ClaimResult first = claim_from(store, "plain", 3, "plain-worker");
    REQUIRE(first.jobs.size() == 3);
    // Priority 0 first (the due one has the earliest run_at), then by id.
    CHECK(first.jobs[0].id == ids[6].id);
    CHECK(first.jobs[1].id == ids[1].id);
    CHECK(first.jobs[2].id == ids[3].id);
    for (const Job& j : first.jobs) {
        CHECK(j.state == JobState::running);
        CHECK(j.attempt == 1);
        CHECK(j.worker_id == "plain-worker");
    }
    CHECK(first.more.empty());
    CHECK_FALSE(first.throttled_until.has_value());

    const ClaimResult rest = claim_from(store, "plain", 10, "plain-worker");
    REQUIRE(rest.jobs.size() == 4);
    CHECK(rest.jobs[0].id == ids[5].id);
    CHECK(rest.jobs[1].id == ids[0].id);
    CHECK(rest.jobs[2].id == ids[2].id);
    CHECK(rest.jobs[3].id == ids[4].id);
    CHECK(claim_from(store, "plain", 10, "plain-worker").jobs.empty());
    CHECK(store.limit_records().empty());
}

TEST_CASE("a job over its tenant's quota in enqueue_in leaves the caller's transaction usable") {
    ScratchSchema schema{"flquota"};
    PostgresStore store{schema.url(), schema.options()};
    FlowLimits quota;
    quota.max_queued = 2;
    store.set_limits(LimitScope::tenant("acme"), quota, system_clock().now());
    insert_one(store, JobSpec{"pg.quota"}.queue("q").tenant("acme"));
    const std::string orders = schema.qualified("orders");
    exec_sql(schema.url(), "CREATE TABLE " + orders + " (id integer PRIMARY KEY)");

    pqxx::connection conn{schema.url()};
    SUBCASE("a batch without unique keys is refused before anything is written") {
        pqxx::work tx{conn};
        tx.exec0("INSERT INTO " + orders + " VALUES (1)");
        const std::vector<JobSpec> batch{JobSpec{"pg.quota"}.queue("q").tenant("acme"),
                                         JobSpec{"pg.quota"}.queue("q").tenant("other"),
                                         JobSpec{"pg.quota"}.queue("q").tenant("acme")};
        try {
            store.enqueue_in(tx, batch);
            FAIL("the batch went over acme's quota");
        } catch (const QuotaExceeded& e) {
            CHECK(e.code() == ErrorCode::quota_exceeded);
            CHECK(e.tenant() == "acme");
            CHECK(e.limit() == 2);
            CHECK(e.queued() == 2);
        }
        tx.exec0("INSERT INTO " + orders + " VALUES (2)");  // still usable
        tx.commit();
    }
    SUBCASE("a batch with unique keys is rolled back to where the caller left it") {
        pqxx::work tx{conn};
        tx.exec0("INSERT INTO " + orders + " VALUES (1)");
        const std::vector<JobSpec> batch{
            JobSpec{"pg.quota"}.queue("q").tenant("acme").unique_key("k1"),
            JobSpec{"pg.quota"}.queue("q").tenant("acme").unique_key("k1"),  // coalesces
            JobSpec{"pg.quota"}.queue("q").tenant("other"),
            JobSpec{"pg.quota"}.queue("q").tenant("acme").unique_key("k2")};
        try {
            store.enqueue_in(tx, batch);
            FAIL("the batch went over acme's quota");
        } catch (const QuotaExceeded& e) {
            CHECK(e.tenant() == "acme");
            CHECK(e.queued() == 2);
        }
        tx.exec0("INSERT INTO " + orders + " VALUES (2)");
        tx.commit();
    }
    CHECK(query_int(schema.url(), "SELECT count(*) FROM " + orders) == 2);
    CHECK(jobs_in_queue(store, "q").size() == 1);  // only the one from before

    // Under the quota, the same transaction path enqueues (and counts coalesced jobs once).
    pqxx::work tx{conn};
    const std::vector<JobSpec> fits{JobSpec{"pg.quota"}.queue("q").tenant("acme").unique_key("u"),
                                    JobSpec{"pg.quota"}.queue("q").tenant("acme").unique_key("u")};
    const std::vector<InsertResult> r = store.enqueue_in(tx, fits);
    tx.commit();
    REQUIRE(r.size() == 2);
    CHECK(r[1].duplicate);
    CHECK(r[1].id == r[0].id);
    CHECK(jobs_in_queue(store, "q").size() == 2);
}

TEST_CASE("the store's own insert over a quota writes nothing and names the tenant") {
    ScratchSchema schema{"flquota2"};
    PostgresStore store{schema.url(), schema.options()};
    FlowLimits quota;
    quota.max_queued = 3;
    store.set_limits(LimitScope::tenant("acme"), quota, system_clock().now());
    CHECK(insert_many(store, JobSpec{"pg.quota"}.queue("q").tenant("acme"), 3).size() == 3);
    CHECK_THROWS_AS(insert_many(store, JobSpec{"pg.quota"}.queue("q").tenant("acme"), 1),
                    QuotaExceeded);
    // Claimed jobs are not queued any more: room for one.
    REQUIRE(claim_from(store, "q", 1, "w").jobs.size() == 1);
    CHECK(insert_many(store, JobSpec{"pg.quota"}.queue("q").tenant("acme"), 1).size() == 1);
    CHECK(jobs_in_queue(store, "q").size() == 4);
}

TEST_CASE("cancelling a running job tells another store's subscribers over NOTIFY") {
    ScratchSchema schema{"flcancel"};
    PostgresStore listener{schema.url(), schema.options()};
    PostgresStore canceller{schema.url(), schema.options(false)};
    struct Heard {
        std::mutex mutex;
        std::vector<JobId> ids;
    };
    auto heard = std::make_shared<Heard>();
    Subscription sub = listener.notifier().subscribe_cancelled([heard](JobId id) {
        std::lock_guard lock(heard->mutex);
        heard->ids.push_back(id);
    });
    auto has = [&](JobId id) {
        std::lock_guard lock(heard->mutex);
        return std::find(heard->ids.begin(), heard->ids.end(), id) != heard->ids.end();
    };
    // The listener's LISTEN is in place once a wake-up from the other store arrives.
    WakeLog wakes{listener.notifier()};
    prime({&wakes}, canceller);

    // A limit row, so the cancel also frees a slot.
    canceller.set_limits(LimitScope::queue("cq"), cap(2), system_clock().now());
    const JobId queued = insert_one(canceller, JobSpec{"pg.cancel"}.queue("cq"));
    const JobId running = insert_one(canceller, JobSpec{"pg.cancel"}.queue("cq"));
    const std::vector<Job> claimed = claim_from(canceller, "cq", 1, "cw").jobs;
    REQUIRE(claimed.size() == 1);
    REQUIRE(claimed[0].id == queued);
    CHECK(running_of(canceller, LimitScope::queue("cq")) == 1);

    // Cancelling a job that is not running announces nothing.
    CHECK(canceller.cancel(running, system_clock().now()).changed);
    const ChangeResult r = canceller.cancel(queued, system_clock().now());
    CHECK(r.changed);
    REQUIRE(r.job.has_value());
    CHECK(r.job->state == JobState::cancelled);
    CHECK(running_of(canceller, LimitScope::queue("cq")) == 0);

    wait_until([&] { return has(queued); }, "the cancellation to reach the other store");
    CHECK_FALSE(has(running));
    // It came as a cancellation, not as a wake-up of a queue named after it.
    CHECK(wakes.count("cancel " + std::to_string(queued)) == 0);
    // The queue was woken too: a slot came free.
    wakes.wait_for("cq");
}

TEST_CASE("two stores claiming from several threads never run more jobs than the queue's cap") {
    constexpr int max_running = 5;
    constexpr int total = 300;
    ScratchSchema schema{"flcap"};
    PostgresStore a{schema.url(), schema.options()};
    PostgresStore b{schema.url(), schema.options(false)};
    a.set_limits(LimitScope::queue("capq"), cap(max_running), system_clock().now());
    // Tenants too: the claims go through rotation and fair order while the cap holds.
    const Timestamp now = system_clock().now();
    std::vector<NewJob> jobs;
    for (int i = 0; i < total; ++i) {
        jobs.push_back(to_new_job(JobSpec{"pg.cap", {{"i", i}}}.queue("capq").tenant(
                                      i % 3 == 0 ? "" : "t" + std::to_string(i % 7)),
                                  now));
    }
    REQUIRE(a.insert(jobs).size() == total);

    const std::string running_jobs = "SELECT count(*) FROM " + schema.qualified("jobs") +
                                     " WHERE queue = 'capq' AND state = 'running'";
    const std::string running_count = "SELECT running FROM " + schema.qualified("limits") +
                                      " WHERE scope = 'queue' AND name = 'capq'";
    std::atomic<int> completed{0};
    std::atomic<bool> done{false};
    std::atomic<std::int64_t> most_running{0};
    std::atomic<std::int64_t> most_counted{0};
    auto note_max = [](std::atomic<std::int64_t>& m, std::int64_t v) {
        std::int64_t cur = m.load();
        while (v > cur && !m.compare_exchange_weak(cur, v)) {
        }
    };

    std::vector<std::future<void>> tasks;
    // A watcher samples both the jobs table and the row while the claimers work.
    tasks.push_back(std::async(std::launch::async, [&] {
        pqxx::connection c{schema.url()};
        while (!done) {
            pqxx::work tx{c};  // one snapshot for both reads
            note_max(most_running, tx.exec1(running_jobs)[0].as<std::int64_t>());
            note_max(most_counted, tx.exec1(running_count)[0].as<std::int64_t>());
            tx.commit();
        }
    }));
    for (int t = 0; t < 6; ++t) {
        Store& store = t % 2 == 0 ? static_cast<Store&>(a) : static_cast<Store&>(b);
        tasks.push_back(std::async(std::launch::async, [&, t] {
            const std::string worker = "cap-" + std::to_string(t);
            pqxx::connection c{schema.url()};
            const auto until = SteadyClock::now() + std::chrono::seconds{120};
            while (completed < total && SteadyClock::now() < until) {
                const std::vector<Job> got = claim_from(store, "capq", 3, worker).jobs;
                if (got.empty()) {
                    std::this_thread::sleep_for(std::chrono::milliseconds{1});
                    continue;
                }
                {
                    pqxx::nontransaction tx{c};
                    note_max(most_running, tx.exec1(running_jobs)[0].as<std::int64_t>());
                }
                std::vector<Outcome> outcomes;
                for (const Job& j : got) outcomes.push_back(completion(j, worker));
                const std::vector<bool> applied = store.complete(outcomes);
                completed += static_cast<int>(std::count(applied.begin(), applied.end(), true));
            }
        }));
    }
    std::vector<std::future<void>> claimers(std::make_move_iterator(tasks.begin() + 1),
                                            std::make_move_iterator(tasks.end()));
    join_all(claimers, "claimers");
    done = true;
    tasks.front().get();

    MESSAGE("at most " << most_running.load() << " jobs ran at once; the row counted at most "
                       << most_counted.load());
    CHECK(completed == total);
    CHECK(most_running.load() <= max_running);
    CHECK(most_counted.load() <= max_running);
    CHECK(most_running.load() >= 1);
    CHECK(running_of(a, LimitScope::queue("capq")) == 0);
    CHECK(query_int(schema.url(), running_jobs) == 0);
}

TEST_CASE("claims, completions, cancels and limit changes on the same rows all finish") {
    ScratchSchema schema{"fldead"};
    PostgresStore a{schema.url(), schema.options()};
    PostgresStore b{schema.url(), schema.options(false)};
    const Timestamp now = system_clock().now();
    a.set_limits(LimitScope::queue("dq"), cap(8), now);
    a.set_limits(LimitScope::kind("pg.k0"), cap(6), now);
    a.set_limits(LimitScope::kind("pg.k1"), cap(6), now);
    for (int t = 0; t < 4; ++t) {
        a.set_limits(LimitScope::tenant("t" + std::to_string(t)), cap(3), now);
    }
    constexpr int total = 1000;
    std::vector<NewJob> jobs;
    for (int i = 0; i < total; ++i) {
        jobs.push_back(
            to_new_job(JobSpec{"pg.k" + std::to_string(i % 2), {{"i", i}}}.queue("dq").tenant(
                           i % 5 == 4 ? "" : "t" + std::to_string(i % 4)),
                       now));
    }
    REQUIRE(a.insert(jobs).size() == total);

    std::atomic<int> finished{0};  // completed or cancelled, by this test's threads
    std::mutex held_mutex;
    std::vector<Job> held;  // claimed and not yet finished: what the cancellers pick from
    std::vector<std::future<void>> tasks;
    const auto until = SteadyClock::now() + std::chrono::seconds{90};
    for (int t = 0; t < 10; ++t) {
        Store& store = t % 2 == 0 ? static_cast<Store&>(a) : static_cast<Store&>(b);
        tasks.push_back(std::async(std::launch::async, [&, t] {
            const std::string worker = "dw-" + std::to_string(t);
            std::mt19937 rng(static_cast<unsigned>(t));
            while (finished < total && SteadyClock::now() < until) {
                std::vector<Job> got = claim_from(store, "dq", 4, worker).jobs;
                if (got.empty()) {
                    std::this_thread::sleep_for(std::chrono::milliseconds{1});
                    continue;
                }
                {
                    std::lock_guard lock(held_mutex);
                    held.insert(held.end(), got.begin(), got.end());
                }
                std::vector<Outcome> outcomes;
                for (const Job& j : got) outcomes.push_back(completion(j, worker));
                // Now and then one outcome twice: two rounds in one transaction.
                if (rng() % 4 == 0) outcomes.push_back(outcomes.front());
                std::shuffle(outcomes.begin(), outcomes.end(), rng);
                const std::vector<bool> applied = store.complete(outcomes);
                finished += static_cast<int>(std::count(applied.begin(), applied.end(), true));
                std::lock_guard lock(held_mutex);
                for (const Job& j : got) {
                    held.erase(std::remove_if(held.begin(), held.end(),
                                              [&](const Job& h) { return h.id == j.id; }),
                               held.end());
                }
            }
        }));
    }
    for (int t = 0; t < 2; ++t) {
        Store& store = t == 0 ? static_cast<Store&>(a) : static_cast<Store&>(b);
        tasks.push_back(std::async(std::launch::async, [&, t] {
            std::mt19937 rng(static_cast<unsigned>(100 + t));
            while (finished < total && SteadyClock::now() < until) {
                std::optional<JobId> victim;
                {
                    std::lock_guard lock(held_mutex);
                    if (!held.empty()) victim = held[rng() % held.size()].id;
                }
                if (!victim) {
                    // A queued one instead.
                    victim = static_cast<JobId>(1 + rng() % total);
                }
                if (store.cancel(*victim, system_clock().now()).changed) ++finished;
                std::this_thread::sleep_for(std::chrono::milliseconds{2});
            }
        }));
    }
    tasks.push_back(std::async(std::launch::async, [&] {
        // Limits change while all that goes on: rows are recounted under the table lock.
        int round = 0;
        while (finished < total && SteadyClock::now() < until) {
            a.set_limits(LimitScope::kind("pg.k" + std::to_string(round % 2)), cap(4 + round % 3),
                         system_clock().now());
            a.set_limits(LimitScope::tenant("t" + std::to_string(round % 4)), cap(2 + round % 2),
                         system_clock().now());
            ++round;
            std::this_thread::sleep_for(std::chrono::milliseconds{20});
        }
    }));
    join_all(tasks, "claimers, cancellers and the limit changer");

    CHECK(finished == total);
    // Nothing runs any more, and every row agrees.
    CHECK(query_int(schema.url(), "SELECT count(*) FROM " + schema.qualified("jobs") +
                                      " WHERE state IN ('running', 'available')") == 0);
    for (const LimitRecord& r : a.limit_records()) {
        INFO(r.scope.to_string());
        CHECK(r.running == 0);
    }
}

TEST_CASE("a running count stays exact through claims, completions, cancels and a new limit") {
    ScratchSchema schema{"flcount"};
    PostgresStore store{schema.url(), schema.options()};
    insert_many(store, JobSpec{"pg.count"}.queue("cnt").tenant("acme"), 6);
    // Running before the row exists: counted when it is written.
    REQUIRE(claim_from(store, "cnt", 2, "w").jobs.size() == 2);
    store.set_limits(LimitScope::tenant("acme"), cap(10), system_clock().now());
    store.set_limits(LimitScope::kind("pg.count"), cap(10), system_clock().now());
    CHECK(running_of(store, LimitScope::tenant("acme")) == 2);
    CHECK(running_of(store, LimitScope::kind("pg.count")) == 2);

    const std::vector<Job> more = claim_from(store, "cnt", 3, "w").jobs;
    REQUIRE(more.size() == 3);
    CHECK(running_of(store, LimitScope::tenant("acme")) == 5);
    CHECK(running_of(store, LimitScope::kind("pg.count")) == 5);

    // A retry, a fenced-off repeat and a snooze: each applied one frees a slot, once.
    Outcome retry = completion(more[0], "w");
    retry.kind = OutcomeKind::retry;
    retry.run_at = system_clock().now() + std::chrono::hours{1};
    Outcome stale = completion(more[0], "w");
    Outcome snooze = completion(more[1], "w");
    snooze.kind = OutcomeKind::snooze;
    snooze.run_at = system_clock().now() + std::chrono::hours{1};
    const std::vector<Outcome> outcomes{retry, stale, snooze};
    const std::vector<bool> applied = store.complete(outcomes);
    CHECK(applied == std::vector<bool>{true, false, true});
    CHECK(running_of(store, LimitScope::tenant("acme")) == 3);

    CHECK(store.cancel(more[2].id, system_clock().now()).changed);
    CHECK(running_of(store, LimitScope::tenant("acme")) == 2);
    CHECK(running_of(store, LimitScope::kind("pg.count")) == 2);
    CHECK(query_int(schema.url(), "SELECT count(*) FROM " + schema.qualified("jobs") +
                                      " WHERE state = 'running'") == 2);
}

TEST_CASE("a completion gives its slot back without waiting for a claim that holds the rows") {
    ScratchSchema schema{"flrelease"};
    PostgresStore store{schema.url(), schema.options()};
    store.set_limits(LimitScope::queue("rel"), cap(10), system_clock().now());
    store.set_limits(LimitScope::kind("pg.rel"), cap(10), system_clock().now());
    insert_many(store, JobSpec{"pg.rel"}.queue("rel"), 4);
    const std::vector<Job> jobs = claim_from(store, "rel", 3, "w").jobs;
    REQUIRE(jobs.size() == 3);
    CHECK(running_of(store, LimitScope::queue("rel")) == 3);

    // Another session holds every limit row as a flow claim does for its whole transaction.
    pqxx::connection holder{schema.url()};
    pqxx::work hold{holder};
    hold.exec("SELECT 1 FROM " + schema.qualified("limits") + " FOR UPDATE");
    std::future<std::vector<bool>> done = std::async(std::launch::async, [&] {
        const std::vector<Outcome> outcomes{completion(jobs[0], "w"), completion(jobs[1], "w")};
        return store.complete(outcomes);
    });
    const bool finished_under_lock =
        done.wait_for(std::chrono::seconds{60}) == std::future_status::ready;
    hold.commit();
    REQUIRE(finished_under_lock);
    CHECK(done.get() == std::vector<bool>{true, true});
    // Not yet folded into the rows, yet every reader counts them.
    CHECK(running_of(store, LimitScope::queue("rel")) == 1);
    CHECK(running_of(store, LimitScope::kind("pg.rel")) == 1);
    CHECK(query_int(schema.url(), "SELECT count(*) FROM " + schema.qualified("limit_releases")) ==
          2);

    // The next flow claim folds them in and starts from the exact count.
    CHECK(claim_from(store, "rel", 5, "w").jobs.size() == 1);
    CHECK(query_int(schema.url(), "SELECT count(*) FROM " + schema.qualified("limit_releases")) ==
          0);
    CHECK(query_int(schema.url(), "SELECT running FROM " + schema.qualified("limits") +
                                      " WHERE scope = 'queue'") == 2);
    CHECK(running_of(store, LimitScope::queue("rel")) == 2);
    // A new limit counts the running jobs afresh and drops releases left over.
    store.set_limits(LimitScope::queue("rel"), cap(1), system_clock().now());
    CHECK(running_of(store, LimitScope::queue("rel")) == 2);
    CHECK(claim_from(store, "rel", 5, "w").jobs.empty());
}

TEST_CASE("a queue with more tenants than one claim visits reports more and reaches them all") {
    ScratchSchema schema{"flrot"};
    PostgresStore store{schema.url(), schema.options()};
    constexpr int tenants = 40;
    const Timestamp now = system_clock().now();
    std::vector<NewJob> jobs;
    for (int t = 0; t < tenants; ++t) {
        for (int i = 0; i < 2; ++i) {
            jobs.push_back(to_new_job(
                JobSpec{"pg.rot"}.queue("rot").tenant("t" + std::to_string(100 + t)), now));
        }
    }
    REQUIRE(store.insert(jobs).size() == jobs.size());

    std::set<std::string> seen;
    bool reported_more = false;
    for (int round = 0; round < 20 && seen.size() < tenants; ++round) {
        const ClaimResult r = claim_from(store, "rot", 8, "rot-worker");
        for (const Job& j : r.jobs) seen.insert(j.tenant);
        if (!r.more.empty()) {
            reported_more = true;
            CHECK(r.more == std::vector<std::string>{"rot"});
        }
        if (round < 2) {
            // While every visited tenant has work: one job from each of 8, they take turns.
            std::set<std::string> distinct;
            for (const Job& j : r.jobs) distinct.insert(j.tenant);
            CHECK(r.jobs.size() == 8);
            CHECK(distinct.size() == r.jobs.size());
        }
    }
    CHECK(reported_more);
    CHECK(seen.size() == tenants);
}

TEST_SUITE_END();  // flow

// ---- the one-statement claim under limits that do not bind (Sql::flow_unbound) --------------

namespace {

FlowLimits cap_and_rate(int max_running, const char* rate) {
    FlowLimits l = cap(max_running);
    l.rate = RateLimit::parse(rate);
    return l;
}

/// Claims `limit` from `queue` and completes them all; returns how many it claimed.
std::size_t claim_and_complete(Store& store, const std::string& queue, int limit) {
    const std::vector<Job> jobs = claim_from(store, queue, limit, "w").jobs;
    std::vector<Outcome> outcomes;
    for (const Job& j : jobs) outcomes.push_back(completion(j, "w"));
    if (!outcomes.empty()) CHECK(store.complete(outcomes) == std::vector<bool>(jobs.size(), true));
    return jobs.size();
}

}  // namespace

TEST_CASE("limits far from binding are claimed in one statement and keep counts and buckets") {
    ScratchSchema schema{"flunbound"};
    PostgresStore store{schema.url(), schema.options()};
    const Timestamp t0 = system_clock().now();
    store.set_limits(LimitScope::queue("ub"), cap_and_rate(1000, "100000/s"), t0);
    store.set_limits(LimitScope::kind("pg.ub"), cap(1000), t0);
    insert_many(store, JobSpec{"pg.ub"}.queue("ub"), 200);

    // The first claim takes the flow path and finds the limits far away; the ones after it go
    // through the one statement, folding in the slots the completions gave back.
    std::size_t claimed = 0;
    for (int i = 0; i < 5; ++i) claimed += claim_and_complete(store, "ub", 20);
    CHECK(claimed == 100);
    const PostgresStore::ClaimPaths paths = store.claim_paths();
    CHECK(paths.flow == 1);
    CHECK(paths.unbound == 4);
    std::vector<Job> held = claim_from(store, "ub", 30, "w").jobs;
    REQUIRE(held.size() == 30);
    CHECK(store.claim_paths().unbound == 5);
    CHECK(running_of(store, LimitScope::queue("ub")) == 30);
    CHECK(running_of(store, LimitScope::kind("pg.ub")) == 30);
    CHECK(query_int(schema.url(), "SELECT count(*) FROM " + schema.qualified("jobs") +
                                      " WHERE state = 'running'") == 30);
    // Each claim folded the releases it found; only the last completions' are left.
    CHECK(query_int(schema.url(), "SELECT count(*) FROM " + schema.qualified("limit_releases")) <=
          2);
    // 130 jobs took 130 tokens from a bucket of 100000 refilled at 100000/s: what is left is
    // below the burst by at most what the elapsed time refilled.
    const std::optional<LimitRecord> q = store.limit_record(LimitScope::queue("ub"));
    REQUIRE(q);
    CHECK(q->bucket.tokens <= 100000.0);
    CHECK(q->bucket.tokens >= 100000.0 - 130.0);
}

TEST_CASE("a claim another store made meanwhile sends the one statement back to plan again") {
    ScratchSchema schema{"flunstale"};
    PostgresStore a{schema.url(), schema.options()};
    PostgresStore b{schema.url(), schema.options()};
    const Timestamp t0 = system_clock().now();
    a.set_limits(LimitScope::queue("us"), cap(10), t0);
    insert_many(a, JobSpec{"pg.us"}.queue("us"), 40);
    REQUIRE(claim_from(a, "us", 2, "a").jobs.size() == 2);  // flow path: room for more
    REQUIRE(claim_from(a, "us", 3, "a").jobs.size() == 3);  // one statement, rows known
    CHECK(a.claim_paths().unbound == 1);
    // b fills the cap. a's rows say 5 of 10 run, so a claim of 5 would fit as a read them:
    // the statement must notice the rows changed, and the claim must start nothing.
    REQUIRE(claim_from(b, "us", 5, "b").jobs.size() == 5);
    CHECK(claim_from(a, "us", 5, "a").jobs.empty());
    CHECK(running_of(a, LimitScope::queue("us")) == 10);
    CHECK(query_int(schema.url(), "SELECT count(*) FROM " + schema.qualified("jobs") +
                                      " WHERE state = 'running'") == 10);

    // A lower cap written meanwhile is a change too.
    PostgresStore c{schema.url(), schema.options()};
    c.set_limits(LimitScope::queue("cut"), cap(100), t0);
    insert_many(c, JobSpec{"pg.cut"}.queue("cut"), 40);
    REQUIRE(claim_from(c, "cut", 2, "c").jobs.size() == 2);
    REQUIRE(claim_from(c, "cut", 2, "c").jobs.size() == 2);
    CHECK(c.claim_paths().unbound == 1);
    a.set_limits(LimitScope::queue("cut"), cap(5), system_clock().now());
    CHECK(claim_from(c, "cut", 10, "c").jobs.size() == 1);
    CHECK(running_of(c, LimitScope::queue("cut")) == 5);
    // And a new kind row, which the rows c planned with did not have.
    a.set_limits(LimitScope::queue("cut"), cap(100), system_clock().now());
    REQUIRE(claim_from(c, "cut", 2, "c").jobs.size() == 2);  // flow path, then known again
    REQUIRE(claim_from(c, "cut", 2, "c").jobs.size() == 2);
    a.set_limits(LimitScope::kind("pg.cut"), cap(10), system_clock().now());
    CHECK(claim_from(c, "cut", 10, "c").jobs.size() == 1);
    CHECK(running_of(c, LimitScope::kind("pg.cut")) == 10);
}

TEST_CASE("a tenant's job sends a queue claimed in one statement back to the flow path") {
    ScratchSchema schema{"fluntenant"};
    PostgresStore store{schema.url(), schema.options()};
    store.set_limits(LimitScope::queue("ut"), cap(100), system_clock().now());
    insert_many(store, JobSpec{"pg.ut"}.queue("ut"), 10);
    REQUIRE(claim_from(store, "ut", 2, "w").jobs.size() == 2);
    REQUIRE(claim_from(store, "ut", 2, "w").jobs.size() == 2);
    CHECK(store.claim_paths().unbound == 1);
    // Tenants take turns with the jobs without one, which only the flow path arranges.
    insert_many(store, JobSpec{"pg.ut"}.queue("ut").tenant("acme"), 4);
    const std::vector<Job> jobs = claim_from(store, "ut", 4, "w").jobs;
    CHECK(store.claim_paths().unbound == 1);
    REQUIRE(jobs.size() == 4);
    CHECK(std::count_if(jobs.begin(), jobs.end(),
                        [](const Job& j) { return j.tenant == "acme"; }) == 2);
    CHECK(running_of(store, LimitScope::queue("ut")) == 8);
}

TEST_CASE("when the last limit row goes the claims return to the plain claim") {
    ScratchSchema schema{"flunplain"};
    PostgresStore store{schema.url(), schema.options()};
    store.set_limits(LimitScope::queue("up"), cap(100), system_clock().now());
    insert_many(store, JobSpec{"pg.up"}.queue("up"), 10);
    REQUIRE(claim_from(store, "up", 1, "w").jobs.size() == 1);
    REQUIRE(claim_from(store, "up", 1, "w").jobs.size() == 1);
    CHECK(store.claim_paths().unbound == 1);
    REQUIRE(store.remove_limits(LimitScope::queue("up"), system_clock().now()));
    REQUIRE(claim_from(store, "up", 1, "w").jobs.size() == 1);  // finds no row, says so
    const std::uint64_t plain = store.claim_paths().plain;
    REQUIRE(claim_from(store, "up", 1, "w").jobs.size() == 1);
    CHECK(store.claim_paths().plain == plain + 1);
}

TEST_CASE("a one-statement claim that waited for a flow claim's rows never exceeds the cap") {
    ScratchSchema schema{"flunrace"};
    PostgresStore a{schema.url(), schema.options()};
    a.set_limits(LimitScope::queue("race"), cap(10), system_clock().now());
    insert_many(a, JobSpec{"pg.race"}.queue("race"), 40);
    REQUIRE(claim_from(a, "race", 2, "a").jobs.size() == 2);  // flow path: room for more
    REQUIRE(claim_from(a, "race", 2, "a").jobs.size() == 2);  // one statement from now on
    CHECK(a.claim_paths().unbound == 1);
    // a last saw 4 of 10 running. Another store fills the cap; two of its jobs finish,
    // leaving releases for the next claim to fold.
    PostgresStore c{schema.url(), schema.options()};
    const std::vector<Job> more = claim_from(c, "race", 6, "c").jobs;
    REQUIRE(more.size() == 6);
    const std::vector<Outcome> done{completion(more[0], "c"), completion(more[1], "c")};
    REQUIRE(c.complete(done) == std::vector<bool>{true, true});
    CHECK(running_of(a, LimitScope::queue("race")) == 8);

    // Another process's flow claim, held open: it folds the two releases and starts two jobs
    // into the freed slots (the row says 10 again, under a new version).
    pqxx::connection other{schema.url()};
    pqxx::work b{other};
    const std::string limits = schema.qualified("limits");
    b.exec("SELECT 1 FROM " + limits + " WHERE scope = 'queue' AND name = 'race' FOR UPDATE");
    b.exec("DELETE FROM " + schema.qualified("limit_releases") +
           " WHERE scope = 'queue' AND name = 'race'");
    b.exec("UPDATE " + limits + " SET running = 10 WHERE scope = 'queue' AND name = 'race'");
    b.exec("UPDATE " + schema.qualified("jobs") +
           " SET state = 'running', attempt = attempt + 1, worker_id = 'b',"
           " lease_expires_at = created_at + 3600000000 WHERE id IN (SELECT id FROM " +
           schema.qualified("jobs") + " WHERE queue = 'race' AND state = 'available' LIMIT 2)");

    // a's next claim (planned from 4 of 10, so sent) waits for those rows; its snapshot still
    // shows the two releases, which must not be taken off the row b leaves.
    std::future<std::size_t> claimed =
        std::async(std::launch::async, [&] { return claim_from(a, "race", 2, "a").jobs.size(); });
    pqxx::connection observer{schema.url()};
    wait_until(
        [&] {
            pqxx::nontransaction q{observer};
            return q.exec(
                        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                        " AND query LIKE '%locked AS MATERIALIZED%'")[0][0]
                           .as<int>() > 0 ||
                   claimed.wait_for(std::chrono::seconds{0}) == std::future_status::ready;
        },
        "a's claim to wait for the other claim's rows");
    b.commit();
    CHECK(claimed.get() == 0);
    CHECK(running_of(a, LimitScope::queue("race")) == 10);
    CHECK(query_int(schema.url(), "SELECT count(*) FROM " + schema.qualified("jobs") +
                                      " WHERE state = 'running'") == 10);
}

}  // namespace jobq::pgtest
