// LISTEN/NOTIFY: a PostgresStore's notifier wakes its subscribers when any store on the same
// schema — in this process or another — inserts jobs; a large insert sends a few wake-ups, not
// one per job; a reset subscription hears nothing more; another schema's jobs wake nobody here.
// Each "nothing arrived" check waits for a later wake-up first: PostgreSQL delivers a session's
// notifications in commit order, so what did not come before it will not come at all.

#include <chrono>
#include <span>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "jobq/backend/new_job.hpp"
#include "jobq/postgres/postgres_store.hpp"
#include "pg_fixture.hpp"
#include "wake_log.hpp"

namespace jobq::pgtest {

namespace {

// Two stores on one schema that share no connection, as two processes would have.
struct TwoStores {
    ScratchSchema schema{"ntf"};
    PostgresStore listener{schema.url(), schema.options()};
    PostgresStore writer{schema.url(), schema.options(false)};
};

}  // namespace

TEST_SUITE_BEGIN("notify");
TEST_CASE("a subscriber is woken when another store inserts into a queue") {
    TwoStores s;
    WakeLog wakes{s.listener.notifier()};
    prime({&wakes}, s.writer);

    const auto start = SteadyClock::now();
    insert_one(s.writer, JobSpec{"pg.ping"}.queue("q1"));
    wakes.wait_for("q1", std::chrono::seconds{30});
    MESSAGE("the wake-up arrived " << seconds_since(start) << " s after the insert");
    CHECK(wakes.count("q1") >= 1);
}

TEST_CASE("a bulk insert of 10,000 jobs sends a few wake-ups, not one per job") {
    TwoStores s;
    WakeLog wakes{s.listener.notifier()};
    prime({&wakes}, s.writer);

    constexpr int total = 10'000;
    const Timestamp now = system_clock().now();
    std::vector<NewJob> batch;
    batch.reserve(total);
    for (int i = 0; i < total; ++i) {
        batch.push_back(to_new_job(JobSpec{"pg.bulk", {{"i", i}}}.queue("bulk"), now));
    }
    const auto start = SteadyClock::now();
    REQUIRE(s.writer.insert(batch).size() == total);
    MESSAGE("inserting " << total << " jobs took " << seconds_since(start) << " s");

    insert_one(s.writer, JobSpec{"pg.sentinel"}.queue("sentinel"));
    wakes.wait_for("sentinel");
    const int bulk_wakes = wakes.count_for("bulk");
    MESSAGE(bulk_wakes << " wake-ups for the bulk queue; " << wakes.describe());
    CHECK(bulk_wakes >= 1);
    CHECK(bulk_wakes <= 10);
}

TEST_CASE("a subscription that was reset hears nothing more while another still does") {
    TwoStores s;
    WakeLog gone{s.listener.notifier()};
    WakeLog staying{s.listener.notifier()};
    prime({&gone, &staying}, s.writer);

    gone.reset();
    insert_one(s.writer, JobSpec{"pg.ping"}.queue("after"));
    staying.wait_for("after");
    CHECK(gone.count("after") == 0);
    // And a later one, so a delivery that lagged behind the first would show too.
    insert_one(s.writer, JobSpec{"pg.ping"}.queue("later"));
    staying.wait_for("later");
    CHECK(gone.count("after") == 0);
    CHECK(gone.count("later") == 0);
}

TEST_CASE("inserts into another schema wake no subscriber of this one") {
    TwoStores s;
    WakeLog wakes{s.listener.notifier()};
    prime({&wakes}, s.writer);

    ScratchSchema other_schema{"ntfo"};
    {
        PostgresStore other{other_schema.url(), other_schema.options()};
        WakeLog other_wakes{other.notifier()};
        prime({&other_wakes}, other, "other_prime");  // its wake-ups do go out, to its own
        insert_one(other, JobSpec{"pg.ping"}.queue("elsewhere"));
        other_wakes.wait_for("elsewhere");
    }
    insert_one(s.writer, JobSpec{"pg.sentinel"}.queue("sentinel"));
    wakes.wait_for("sentinel");
    INFO(wakes.describe());
    CHECK(wakes.count("elsewhere") == 0);
    CHECK(wakes.count("other_prime") == 0);
}

TEST_SUITE_END();  // notify

}  // namespace jobq::pgtest
