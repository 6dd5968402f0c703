// plan_windows: the misfire policies as a pure function of (cursor, now). Times are explicit;
// nothing here reads a clock.

#include <chrono>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "jobq/cron_expression.hpp"
#include "jobq/cron_windows.hpp"
#include "jobq/time_format.hpp"
#include "support.hpp"

using namespace std::chrono_literals;
using jobq::CronExpression;
using jobq::MisfireMode;
using jobq::MisfirePolicy;
using jobq::Timestamp;
using jobq::TimeZone;
using jobq::WindowPlan;
using jobq::test::contains;

namespace {

// 2026-11-23 at hh:mm:ss UTC.
Timestamp hms(int h, int m, int s = 0) {
    using namespace std::chrono;
    return Timestamp{sys_days{year{2026} / November / day{23}}} + hours{h} + minutes{m} +
           seconds{s};
}

WindowPlan plan(const char* expression, MisfirePolicy policy, Timestamp cursor, Timestamp now) {
    return jobq::plan_windows(CronExpression::parse(expression), TimeZone{}, policy, cursor, now);
}

MisfirePolicy mode(MisfireMode m) {
    MisfirePolicy p;
    p.mode = m;
    return p;
}

std::vector<Timestamp> every_minute(Timestamp from, Timestamp to) {
    std::vector<Timestamp> out;
    for (Timestamp t = from; t <= to; t += 1min) out.push_back(t);
    return out;
}

}  // namespace

TEST_SUITE_BEGIN("plan_windows");

TEST_CASE("nothing is due before the next window") {
    const WindowPlan p = plan("* * * * *", {}, hms(10, 0), hms(10, 0, 59) + 999999us);
    CHECK_FALSE(p.due());
    CHECK(p.cursor == hms(10, 0));
}

TEST_CASE("a window reached on time is enqueued and becomes the cursor") {
    const WindowPlan p = plan("* * * * *", mode(MisfireMode::skip), hms(10, 0), hms(10, 1) + 500ms);
    CHECK(p.enqueue == std::vector<Timestamp>{hms(10, 1)});
    CHECK(p.skipped.empty());
    CHECK(p.cursor == hms(10, 1));
}

TEST_CASE("a window reached late but within grace is on time under every policy") {
    for (MisfireMode m : {MisfireMode::catch_up, MisfireMode::latest_only, MisfireMode::skip}) {
        CAPTURE(jobq::to_string(m));
        const WindowPlan p = plan("0 * * * *", mode(m), hms(9, 0), hms(10, 0, 59));
        CHECK(p.enqueue == std::vector<Timestamp>{hms(10, 0)});
        CHECK(p.skipped.empty());
    }
}

TEST_CASE("the cursor moves to the newest window even when nothing is enqueued") {
    const WindowPlan p = plan("0 * * * *", mode(MisfireMode::skip), hms(6, 0), hms(10, 30));
    CHECK(p.enqueue.empty());
    REQUIRE(p.skipped.size() == 1);
    CHECK(p.cursor == hms(10, 0));
    CHECK(p.due());
}

TEST_CASE("catch_up enqueues every missed window, oldest first, then the on-time one") {
    const WindowPlan p = plan("*/10 * * * *", {}, hms(9, 0), hms(10, 0, 30));
    CHECK(p.enqueue == std::vector<Timestamp>{hms(9, 10), hms(9, 20), hms(9, 30), hms(9, 40),
                                              hms(9, 50), hms(10, 0)});
    CHECK(p.skipped.empty());
    CHECK(p.cursor == hms(10, 0));
}

TEST_CASE("catch_up keeps the newest max_catch_up missed windows and records the rest") {
    // Minutely, two hours down: 119 missed windows and one on time.
    const WindowPlan p = plan("* * * * *", {}, hms(10, 0), hms(12, 0, 30));
    std::vector<Timestamp> expected = every_minute(hms(10, 20), hms(11, 59));
    expected.push_back(hms(12, 0));
    CHECK(p.enqueue == expected);
    REQUIRE(p.skipped.size() == 1);
    CHECK(p.skipped[0].first == hms(10, 1));
    CHECK(p.skipped[0].last == hms(10, 19));
    CHECK(p.skipped[0].count == 19);
    CHECK(contains(p.skipped[0].reason, "max_catch_up 100"));
}

TEST_CASE("catch_up skips windows older than max_age") {
    MisfirePolicy policy;
    policy.max_age = 2h;
    const WindowPlan p = plan("0 * * * *", policy, hms(0, 0), hms(10, 0, 10));
    // 01:00..08:00 are older than two hours; 09:00 is missed but young; 10:00 is on time.
    CHECK(p.enqueue == std::vector<Timestamp>{hms(9, 0), hms(10, 0)});
    REQUIRE(p.skipped.size() == 1);
    CHECK(p.skipped[0].first == hms(1, 0));
    CHECK(p.skipped[0].last == hms(8, 0));
    CHECK(p.skipped[0].count == 8);
    CHECK(contains(p.skipped[0].reason, "max_age 2h"));
}

TEST_CASE("catch_up records both the too-old and the excess windows, oldest first") {
    MisfirePolicy policy;
    policy.max_age = 3h;
    policy.max_catch_up = 2;
    const WindowPlan p = plan("0 * * * *", policy, hms(0, 0), hms(10, 30));
    CHECK(p.enqueue == std::vector<Timestamp>{hms(9, 0), hms(10, 0)});
    REQUIRE(p.skipped.size() == 2);
    CHECK(p.skipped[0].first == hms(1, 0));
    CHECK(p.skipped[0].last == hms(7, 0));
    CHECK(p.skipped[0].count == 7);
    CHECK(contains(p.skipped[0].reason, "max_age"));
    CHECK(p.skipped[1].first == hms(8, 0));
    CHECK(p.skipped[1].last == hms(8, 0));
    CHECK(p.skipped[1].count == 1);
    CHECK(contains(p.skipped[1].reason, "max_catch_up 2"));
}

TEST_CASE("latest_only enqueues just the newest missed window when none is on time") {
    const WindowPlan p = plan("0 * * * *", mode(MisfireMode::latest_only), hms(8, 0), hms(12, 30));
    CHECK(p.enqueue == std::vector<Timestamp>{hms(12, 0)});
    REQUIRE(p.skipped.size() == 1);
    CHECK(p.skipped[0].first == hms(9, 0));
    CHECK(p.skipped[0].last == hms(11, 0));
    CHECK(p.skipped[0].count == 3);
    CHECK(contains(p.skipped[0].reason, "latest_only"));
    CHECK(p.cursor == hms(12, 0));
}

TEST_CASE("latest_only skips every missed window when a newer one is on time") {
    const WindowPlan p =
        plan("0 * * * *", mode(MisfireMode::latest_only), hms(8, 0), hms(12, 0, 5));
    CHECK(p.enqueue == std::vector<Timestamp>{hms(12, 0)});
    REQUIRE(p.skipped.size() == 1);
    CHECK(p.skipped[0].first == hms(9, 0));
    CHECK(p.skipped[0].last == hms(11, 0));
    CHECK(p.skipped[0].count == 3);
}

TEST_CASE("skip enqueues only on-time windows and records the missed ones") {
    const WindowPlan p = plan("0 * * * *", mode(MisfireMode::skip), hms(8, 0), hms(12, 0, 5));
    CHECK(p.enqueue == std::vector<Timestamp>{hms(12, 0)});
    REQUIRE(p.skipped.size() == 1);
    CHECK(p.skipped[0].count == 3);
    CHECK(contains(p.skipped[0].reason, "misfire policy skip"));
}

TEST_CASE("a wider grace makes late windows on time") {
    MisfirePolicy policy = mode(MisfireMode::skip);
    policy.grace = 3h;
    const WindowPlan p = plan("0 * * * *", policy, hms(8, 0), hms(11, 30));
    CHECK(p.enqueue == std::vector<Timestamp>{hms(9, 0), hms(10, 0), hms(11, 0)});
    CHECK(p.skipped.empty());
}

TEST_CASE("a month-long outage of an every-second schedule is planned in bounded work") {
    const Timestamp now = hms(12, 0);
    const WindowPlan p = plan("* * * * * *", {}, now - 24h * 30, now);
    // 100 missed windows caught up plus the 61 on time (grace 1 min, both ends included).
    CHECK(p.enqueue.size() == 161);
    CHECK(p.enqueue.back() == now);
    REQUIRE(p.skipped.size() == 2);
    CHECK(p.skipped[0].count == jobq::max_windows_counted);  // counted up to the cap
    CHECK(p.cursor == now);
}

TEST_CASE("windows across a spring-forward gap are planned in the schedule's zone") {
    // Europe/Berlin skips 02:00-03:00 on 2026-03-29: the 02:30 window fires at 03:00 CEST.
    using namespace std::chrono;
    const TimeZone berlin = TimeZone::locate("Europe/Berlin");
    const Timestamp cursor = Timestamp{sys_days{year{2026} / March / day{28}}} + 12h;
    const Timestamp now = Timestamp{sys_days{year{2026} / March / day{30}}} + 12h;
    MisfirePolicy policy;
    policy.max_age = 72h;
    const WindowPlan p =
        jobq::plan_windows(CronExpression::parse("30 2 * * *"), berlin, policy, cursor, now);
    REQUIRE(p.enqueue.size() == 2);
    CHECK(berlin.format(p.enqueue[0]) == "2026-03-29T03:00:00+02:00");
    CHECK(berlin.format(p.enqueue[1]) == "2026-03-30T02:30:00+02:00");
}

TEST_SUITE_END();
