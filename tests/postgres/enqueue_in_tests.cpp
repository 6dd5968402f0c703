// Transactional enqueue: PostgresStore::enqueue_in writes jobs inside the caller's own pqxx
// transaction, so a job exists if and only if the caller's business data commits, and the
// wake-up goes out with that commit. Bad input is refused before anything reaches the server.

#include <atomic>
#include <exception>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <doctest/doctest.h>
#include <pqxx/pqxx>

#include "jobq/error.hpp"
#include "jobq/job_spec.hpp"
#include "jobq/postgres/postgres_store.hpp"
#include "pg_fixture.hpp"
#include "wake_log.hpp"

namespace jobq::pgtest {

namespace {

// A migrated schema with a business table of the caller's (`orders`) beside jobq's, the store
// on it, and a connection of the caller's own.
struct Shop {
    ScratchSchema schema{"tx"};
    PostgresStore store{schema.url(), schema.options()};
    pqxx::connection conn{schema.url()};

    Shop() { exec_sql(schema.url(), "CREATE TABLE " + orders() + " (id integer PRIMARY KEY)"); }

    std::string orders() const { return schema.qualified("orders"); }

    void add_order(pqxx::transaction_base& tx, int id) {
        tx.exec0("INSERT INTO " + orders() + " VALUES (" + std::to_string(id) + ")");
    }

    /// Whether order `id` is committed, seen from a connection of its own.
    bool order_exists(int id) {
        pqxx::connection c{schema.url()};
        pqxx::nontransaction tx{c};
        return tx.exec("SELECT 1 FROM " + orders() + " WHERE id = " + std::to_string(id)).size() ==
               1;
    }

    /// Claims whatever is claimable in `queue` (as a worker would).
    std::vector<Job> claim_all(const std::string& queue) {
        return claim_now(store, queue, 100, "tx-test");
    }

    /// Commits a job into `queue` through enqueue_in on a connection of its own: a wake-up that
    /// can only arrive through the server.
    void commit_one(const std::string& queue) {
        pqxx::connection c{schema.url()};
        pqxx::work tx{c};
        store.enqueue_in(tx, JobSpec{"pg.sentinel"}.queue(queue));
        tx.commit();
    }
};

/// Whether the backend `pid` is waiting for a lock, seen from `observer`.
bool waits_for_lock(pqxx::connection& observer, int pid) {
    pqxx::nontransaction tx{observer};
    const pqxx::result r =
        tx.exec("SELECT wait_event_type FROM pg_stat_activity WHERE pid = " + std::to_string(pid));
    return r.size() == 1 && !r[0][0].is_null() && r[0][0].as<std::string>() == "Lock";
}

// The unique-key cases: a first transaction, on the shop's connection, has enqueued `spec` and
// not ended yet; a second one, on a connection and a thread of its own, enqueues the same spec
// and commits. Once this is constructed, the second is waiting for the first to end (or has
// finished already: then the test's checks say what it did).
struct RacingEnqueue {
    // What the second transaction did.
    struct Second {
        std::optional<InsertResult> result;
        std::string failure;
        std::atomic<bool> done{false};
    };

    // Declared before `first`: a test that fails early ends the first transaction (releasing
    // the key) before it waits for the second's thread.
    pqxx::connection second_conn;
    Second second;
    std::jthread second_thread;
    pqxx::work first;
    InsertResult first_result;
    bool second_finished_early = false;

    RacingEnqueue(Shop& shop, const JobSpec& spec)
        : second_conn{shop.schema.url()},
          first{shop.conn},
          first_result(shop.store.enqueue_in(first, spec)) {
        const int second_pid = second_conn.backendpid();
        second_thread = std::jthread([this, &shop, spec] {
            try {
                pqxx::work tx{second_conn};
                tx.exec0("SET LOCAL statement_timeout = '60s'");  // a deadlock fails, not hangs
                second.result = shop.store.enqueue_in(tx, spec);
                tx.commit();
            } catch (const std::exception& e) {
                second.failure = e.what();
            }
            second.done = true;
        });
        // The second transaction cannot know yet whether the first's job will exist: it has to
        // wait for it.
        pqxx::connection observer{shop.schema.url()};
        wait_until([&] { return second.done || waits_for_lock(observer, second_pid); },
                   "the second transaction to wait for the first or to finish");
        second_finished_early = second.done;
    }

    /// Waits for the second transaction to end (once the test has ended the first); requires
    /// that it succeeded, and returns what its enqueue_in returned.
    InsertResult finish_second() {
        second_thread.join();
        REQUIRE_MESSAGE(second.failure.empty(),
                        "the second transaction failed: " << second.failure);
        REQUIRE(second.result.has_value());
        return *second.result;
    }
};

}  // namespace

TEST_SUITE_BEGIN("enqueue_in");
TEST_CASE(
    "a job enqueued in the caller's transaction exists once it commits and wakes a "
    "subscriber") {
    Shop shop;
    WakeLog wakes{shop.store.notifier()};
    prime_with({&wakes}, "prime", [&] { shop.commit_one("prime"); });

    pqxx::work tx{shop.conn};
    shop.add_order(tx, 1);
    const InsertResult r =
        shop.store.enqueue_in(tx, JobSpec{"order.ship", {{"order", 1}}}.queue("txq").tag("shop"));
    CHECK_FALSE(r.duplicate);
    REQUIRE(r.id > 0);

    // Not yet: other connections do not see it, and no wake-up went out.
    CHECK_FALSE(shop.store.get(r.id).has_value());
    CHECK(shop.claim_all("txq").empty());
    CHECK(wakes.count_for("txq") == 0);

    tx.commit();

    const std::optional<Job> job = shop.store.get(r.id);
    REQUIRE(job.has_value());
    CHECK(job->kind == "order.ship");
    CHECK(job->queue == "txq");
    CHECK(job->payload == nlohmann::json{{"order", 1}});
    CHECK(job->tags == std::vector<std::string>{"shop"});
    CHECK(job->state == JobState::available);
    const std::vector<Job> listed = jobs_in_queue(shop.store, "txq");
    REQUIRE(listed.size() == 1);
    CHECK(listed[0].id == r.id);
    CHECK(shop.order_exists(1));
    wakes.wait_for("txq");

    const std::vector<Job> claimed = shop.claim_all("txq");
    REQUIRE(claimed.size() == 1);
    CHECK(claimed[0].id == r.id);
}

TEST_CASE("several jobs enqueued in one transaction appear together at its commit") {
    Shop shop;
    std::vector<JobSpec> specs;
    for (int i = 0; i < 50; ++i) specs.push_back(JobSpec{"order.ship", {{"i", i}}}.queue("txq"));
    pqxx::work tx{shop.conn};
    shop.add_order(tx, 7);
    const std::vector<InsertResult> results = shop.store.enqueue_in(tx, specs);
    REQUIRE(results.size() == specs.size());
    CHECK(jobs_in_queue(shop.store, "txq").empty());
    tx.commit();
    CHECK(jobs_in_queue(shop.store, "txq").size() == specs.size());
    for (std::size_t i = 0; i < results.size(); ++i) {
        const std::optional<Job> job = shop.store.get(results[i].id);
        REQUIRE(job.has_value());
        CHECK(job->payload.at("i") == static_cast<int>(i));
    }
}

TEST_CASE("a job enqueued in a transaction that rolls back never exists and wakes nobody") {
    Shop shop;
    WakeLog wakes{shop.store.notifier()};
    prime_with({&wakes}, "prime", [&] { shop.commit_one("prime"); });

    JobId aborted = 0;
    {
        pqxx::work tx{shop.conn};
        shop.add_order(tx, 2);
        aborted = shop.store.enqueue_in(tx, JobSpec{"order.ship"}.queue("txq")).id;
        tx.abort();
    }
    JobId abandoned = 0;
    {
        pqxx::work tx{shop.conn};  // left without commit: pqxx rolls it back
        shop.add_order(tx, 3);
        abandoned = shop.store.enqueue_in(tx, JobSpec{"order.ship"}.queue("txq")).id;
    }

    CHECK_FALSE(shop.store.get(aborted).has_value());
    CHECK_FALSE(shop.store.get(abandoned).has_value());
    CHECK(jobs_in_queue(shop.store, "txq").empty());
    CHECK(shop.claim_all("txq").empty());
    CHECK_FALSE(shop.order_exists(2));
    CHECK_FALSE(shop.order_exists(3));

    // Wake-ups arrive in commit order, so once a later commit's has come, a wake-up of the
    // rolled-back transactions would have come before it.
    shop.commit_one("sentinel");
    wakes.wait_for("sentinel");
    CHECK(wakes.count("txq") == 0);

    // The caller's connection is fine for the next transaction.
    pqxx::work next{shop.conn};
    const InsertResult r = shop.store.enqueue_in(next, JobSpec{"order.ship"}.queue("txq"));
    next.commit();
    CHECK(shop.store.get(r.id).has_value());
}

TEST_CASE(
    "bad input to enqueue_in is refused before anything is written, and the transaction goes "
    "on") {
    Shop shop;
    pqxx::work tx{shop.conn};
    shop.add_order(tx, 4);

    try {
        shop.store.enqueue_in(tx, JobSpec{"order.ship"}.queue("txq").priority(42));
        FAIL("a priority of 42 was accepted");
    } catch (const Error& e) {
        CHECK(e.code() == ErrorCode::invalid_argument);
        CHECK(e.field() == "priority");
    }
    // A batch whose second job is bad writes neither of them.
    const std::vector<JobSpec> batch{JobSpec{"order.ship"}.queue("txq"),
                                     JobSpec{"order.ship"}.queue("txq").max_attempts(0)};
    try {
        shop.store.enqueue_in(tx, batch);
        FAIL("a batch with max_attempts 0 was accepted");
    } catch (const Error& e) {
        CHECK(e.code() == ErrorCode::invalid_argument);
        CHECK(std::string(e.what()).find("job 2 of 2") != std::string::npos);
    }

    // The caller's transaction was not aborted: it still runs statements and commits.
    CHECK(tx.exec("SELECT 1").size() == 1);
    shop.add_order(tx, 5);
    tx.commit();
    CHECK(shop.order_exists(4));
    CHECK(shop.order_exists(5));
    CHECK(jobs_in_queue(shop.store, "txq").empty());
}

TEST_CASE("a unique key coalesces across two concurrent transactions once the first commits") {
    Shop shop;
    const JobSpec spec =
        JobSpec{"welcome.send", {{"user", 42}}}.queue("uq").unique_key("welcome:42");
    RacingEnqueue race{shop, spec};
    CHECK_FALSE(race.first_result.duplicate);

    race.first.commit();
    INFO("the second enqueue finished before the first transaction committed: "
         << race.second_finished_early);
    const InsertResult second = race.finish_second();
    CHECK(second.duplicate);
    CHECK(second.id == race.first_result.id);
    const std::vector<Job> jobs = jobs_in_queue(shop.store, "uq");
    CHECK(jobs.size() == 1);
}

TEST_CASE("a unique key held by a transaction that rolls back is free for the concurrent one") {
    Shop shop;
    const JobSpec spec =
        JobSpec{"welcome.send", {{"user", 43}}}.queue("uq").unique_key("welcome:43");
    RacingEnqueue race{shop, spec};
    CHECK_FALSE(race.first_result.duplicate);

    race.first.abort();
    const InsertResult second = race.finish_second();
    CHECK_FALSE(second.duplicate);
    const std::vector<Job> jobs = jobs_in_queue(shop.store, "uq");
    REQUIRE(jobs.size() == 1);
    CHECK(jobs[0].id == second.id);
    CHECK_FALSE(shop.store.get(race.first_result.id).has_value());
}

TEST_CASE("a NUL in a payload is refused before the server sees it, and the transaction lives on") {
    Shop shop;
    pqxx::work tx{shop.conn};
    shop.add_order(tx, 7);
    try {
        shop.store.enqueue_in(tx, JobSpec{"k", {{"note", std::string("a\0b", 3)}}});
        FAIL("a NUL was accepted");
    } catch (const Error& e) {
        CHECK(e.code() == ErrorCode::invalid_argument);
        CHECK(e.field() == "payload");
    }
    tx.commit();  // nothing was sent, so the caller's transaction is not aborted
    CHECK(shop.order_exists(7));
    CHECK(all_jobs(shop.store).empty());
}

TEST_CASE("bad data that reaches the server anyway (class 22) is invalid_argument, not storage") {
    ScratchSchema schema{"bad_data"};
    PostgresStore store{schema.url(), schema.options()};
    // Past the API boundary on purpose: jsonb cannot hold \u0000 and says so with 22P05.
    NewJob job = to_new_job(JobSpec{"k"}, Timestamp{std::chrono::seconds{1'700'000'000}});
    job.payload = R"({"note":"a\u0000b"})";
    try {
        store.insert(std::span<const NewJob>(&job, 1));
        FAIL("the server accepted a NUL in jsonb");
    } catch (const Error& e) {
        CHECK(e.code() == ErrorCode::invalid_argument);
        CHECK(std::string_view(e.what()).find("22P05") != std::string_view::npos);
    }
    CHECK(all_jobs(store).empty());
}

TEST_SUITE_END();  // enqueue_in

}  // namespace jobq::pgtest
