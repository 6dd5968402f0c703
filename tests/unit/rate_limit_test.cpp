// RateLimit: the "50/s" text form, its range checks and its capacity.

#include <chrono>
#include <string>

#include <doctest/doctest.h>

#include "jobq/rate_limit.hpp"
#include "support.hpp"

using namespace std::chrono_literals;
using jobq::Duration;
using jobq::RateLimit;
using jobq::test::check_invalid_argument;

namespace {
RateLimit rate(int limit, Duration period, int burst = 0) {
    RateLimit r;
    r.limit = limit;
    r.period = period;
    r.burst = burst;
    return r;
}
}  // namespace

TEST_SUITE_BEGIN("RateLimit");

TEST_CASE("parse reads a count and a period in every unit") {
    CHECK(RateLimit::parse("50/s") == rate(50, 1s));
    CHECK(RateLimit::parse("100/10s") == rate(100, 10s));
    CHECK(RateLimit::parse("5/1m") == rate(5, 1min));
    CHECK(RateLimit::parse("1000/h") == rate(1000, 1h));
    CHECK(RateLimit::parse("20/500ms") == rate(20, 500ms));
    CHECK(RateLimit::parse("3/d") == rate(3, 24h));
    CHECK(RateLimit::parse("7/2d") == rate(7, 48h));
}

TEST_CASE("parse leaves burst 0, so the capacity is the count") {
    const RateLimit r = RateLimit::parse("50/s");
    CHECK(r.burst == 0);
    CHECK(r.capacity() == 50);
    CHECK(rate(50, 1s, 200).capacity() == 200);
}

TEST_CASE("to_string writes the coarsest unit and leaves out a count of 1") {
    CHECK(rate(50, 1s).to_string() == "50/s");
    CHECK(rate(100, 10s).to_string() == "100/10s");
    CHECK(rate(5, 1min).to_string() == "5/m");
    CHECK(rate(5, 60s).to_string() == "5/m");
    CHECK(rate(5, 90s).to_string() == "5/90s");
    CHECK(rate(1000, 1h).to_string() == "1000/h");
    CHECK(rate(20, 500ms).to_string() == "20/500ms");
    CHECK(rate(20, 1500ms).to_string() == "20/1500ms");
    CHECK(rate(3, 24h).to_string() == "3/d");
    CHECK(rate(3, 24h, 10).to_string() == "3/d");  // burst is not part of the text form
}

TEST_CASE("to_string and parse round-trip") {
    for (const char* text : {"50/s", "100/10s", "5/m", "1000/h", "20/500ms", "3/d", "1/7d",
                             "2147483647/s", "1/1500ms"}) {
        CAPTURE(text);
        CHECK(RateLimit::parse(text).to_string() == text);
    }
    // A sub-millisecond period can only be set in code; it still reads back.
    CHECK(RateLimit::parse(rate(1, 1500us).to_string()) == rate(1, 1500us));
}

TEST_CASE("an unknown unit is rejected, naming it and the units there are") {
    check_invalid_argument([] { RateLimit::parse("50/x"); }, "rate",
                           {"rate:", "unknown unit 'x'", "\"50/x\"", "ms, s, m, h or d"});
    check_invalid_argument([] { RateLimit::parse("50/sec"); }, "rate", {"'sec'"});
    check_invalid_argument([] { RateLimit::parse("50/10S"); }, "rate", {"'S'"});
    check_invalid_argument([] { RateLimit::parse("50/s "); }, "rate", {"unknown unit"});
}

TEST_CASE("a missing unit is rejected") {
    check_invalid_argument([] { RateLimit::parse("50/"); }, "rate", {"missing unit", "\"50/\""});
    check_invalid_argument([] { RateLimit::parse("50/10"); }, "rate", {"missing unit"});
}

TEST_CASE("a zero or negative period is rejected") {
    check_invalid_argument([] { RateLimit::parse("5/0s"); }, "rate",
                           {"period must be positive", "\"5/0s\""});
    check_invalid_argument([] { RateLimit::parse("5/-1s"); }, "rate", {"period must be positive"});
    check_invalid_argument([] { RateLimit::parse("5/0ms"); }, "rate", {"period must be positive"});
}

TEST_CASE("a count below 1 is rejected") {
    check_invalid_argument([] { RateLimit::parse("0/s"); }, "rate",
                           {"count must be at least 1", "\"0/s\""});
    check_invalid_argument([] { RateLimit::parse("-5/s"); }, "rate", {"at least 1"});
}

TEST_CASE("garbage is rejected with the form that is expected") {
    check_invalid_argument([] { RateLimit::parse(""); }, "rate", {"empty", "50/s"});
    check_invalid_argument([] { RateLimit::parse("50"); }, "rate", {"50/s", "\"50\""});
    check_invalid_argument([] { RateLimit::parse("fifty/s"); }, "rate", {"whole number"});
    check_invalid_argument([] { RateLimit::parse("/s"); }, "rate", {"whole number"});
    check_invalid_argument([] { RateLimit::parse("5.5/s"); }, "rate", {"whole number"});
    check_invalid_argument([] { RateLimit::parse(" 50/s"); }, "rate", {"whole number"});
    check_invalid_argument([] { RateLimit::parse("+5/s"); }, "rate", {"whole number"});
    check_invalid_argument([] { RateLimit::parse("5/-s"); }, "rate", {"\"5/-s\""});
    check_invalid_argument([] { RateLimit::parse("5/1.5s"); }, "rate", {"unknown unit '.5s'"});
}

TEST_CASE("a count or period too large to hold is rejected, not wrapped") {
    check_invalid_argument([] { RateLimit::parse("2147483648/s"); }, "rate",
                           {"count is too large", "2147483647"});
    check_invalid_argument([] { RateLimit::parse("99999999999999999999999/s"); }, "rate",
                           {"count is too large"});
    check_invalid_argument([] { RateLimit::parse("1/999999999999d"); }, "rate",
                           {"period is too long"});
    check_invalid_argument([] { RateLimit::parse("1/99999999999999999999999s"); }, "rate",
                           {"period is too long"});
}

TEST_CASE("validate accepts a well-formed rate") {
    CHECK_NOTHROW(rate(1, 1us).validate());
    CHECK_NOTHROW(rate(50, 1s, 100).validate());
    CHECK_NOTHROW(rate(50, 1s, 0).validate());
}

TEST_CASE("validate names the field that is out of range") {
    check_invalid_argument([] { rate(0, 1s).validate(); }, "rate.limit",
                           {"rate.limit:", "at least 1", "got 0"});
    check_invalid_argument([] { rate(-3, 1s).validate(); }, "rate.limit", {"got -3"});
    check_invalid_argument([] { rate(5, 0s).validate(); }, "rate.period",
                           {"rate.period:", "positive", "0s"});
    check_invalid_argument([] { rate(5, -2s).validate(); }, "rate.period", {"-2s"});
    check_invalid_argument([] { rate(5, 1s, -1).validate(); }, "rate.burst",
                           {"rate.burst:", "negative", "got -1"});
}

TEST_SUITE_END();

TEST_CASE("a rate's period is at most 100 years") {
    check_invalid_argument([] { rate(1, jobq::max_duration + 1s).validate(); }, "rate.period",
                           {"at most 36525d"});
    check_invalid_argument([] { RateLimit::parse("1/106751991d").validate(); }, "rate.period",
                           {"106751991d"});
    CHECK_NOTHROW(rate(1, jobq::max_duration).validate());
}
