// Clocks: a ManualClock moves only when told; the system clock reads real time in microseconds.

#include <chrono>

#include <doctest/doctest.h>

#include "jobq/clock.hpp"
#include "support.hpp"

using namespace std::chrono_literals;
using jobq::ManualClock;
using jobq::test::reference_time;

TEST_SUITE_BEGIN("Clock");

TEST_CASE("a manual clock starts at the time it is given and stays there") {
    const ManualClock c{reference_time()};
    CHECK(c.now() == reference_time());
    CHECK(c.now() == reference_time());
}

TEST_CASE("advance moves a manual clock forward by the duration") {
    ManualClock c{reference_time()};
    c.advance(90s);
    CHECK(c.now() == reference_time(90s));
    c.advance(1us);
    CHECK(c.now() == reference_time(90s + 1us));
}

TEST_CASE("set moves a manual clock to the given time, also backwards") {
    ManualClock c{reference_time()};
    c.set(reference_time(1h));
    CHECK(c.now() == reference_time(1h));
    c.set(reference_time(-1h));
    CHECK(c.now() == reference_time(-1h));
}

TEST_CASE("a manual clock is usable wherever a Clock is expected") {
    ManualClock c{reference_time()};
    const jobq::Clock& clock = c;
    c.advance(5s);
    CHECK(clock.now() == reference_time(5s));
}

TEST_CASE("the system clock reads the current time, truncated to microseconds") {
    using std::chrono::floor;
    const auto before = floor<jobq::Duration>(std::chrono::system_clock::now());
    const jobq::Timestamp t = jobq::system_clock().now();
    const auto after = floor<jobq::Duration>(std::chrono::system_clock::now());
    CHECK(before <= t);
    CHECK(t <= after);
}

TEST_SUITE_END();
