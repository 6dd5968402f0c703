// Text forms of timestamps (ISO 8601) and durations ("1h30m"), as the CLI and JSON use them.

#include <chrono>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "jobq/time_format.hpp"
#include "support.hpp"

using namespace std::chrono_literals;
using jobq::Duration;
using jobq::format_duration;
using jobq::format_timestamp;
using jobq::parse_duration;
using jobq::parse_timestamp;
using jobq::Timestamp;
using jobq::test::check_invalid_argument;
using jobq::test::reference_time;

namespace {
Timestamp utc(int y, unsigned mo, unsigned d, Duration time_of_day = Duration::zero()) {
    using namespace std::chrono;
    return Timestamp{sys_days{year{y} / month{mo} / day{d}}} + time_of_day;
}
}  // namespace

TEST_SUITE_BEGIN("time_format");

TEST_CASE("format_timestamp writes ISO 8601 UTC with six fraction digits") {
    CHECK(format_timestamp(reference_time(123456us)) == "2026-11-23T10:56:48.123456Z");
    CHECK(format_timestamp(reference_time()) == "2026-11-23T10:56:48.000000Z");
    CHECK(format_timestamp(Timestamp{}) == "1970-01-01T00:00:00.000000Z");
}

TEST_CASE("format_timestamp writes times before 1970 as calendar times") {
    CHECK(format_timestamp(Timestamp{} - 1us) == "1969-12-31T23:59:59.999999Z");
}

TEST_CASE("parse_timestamp reads back what format_timestamp writes") {
    const std::vector<Timestamp> times{Timestamp{},
                                       Timestamp{} - 1us,
                                       reference_time(),
                                       reference_time(999'999us),
                                       utc(2024, 2, 29, 23h + 59min),
                                       utc(9999, 12, 31, 86'399'999'999us)};
    for (const Timestamp t : times) {
        const std::string text = format_timestamp(t);
        INFO(text);
        CHECK(parse_timestamp(text) == t);
    }
}

TEST_CASE("parse_timestamp reads a time without a fraction") {
    CHECK(parse_timestamp("2026-11-23T10:56:48Z") == reference_time());
}

TEST_CASE("parse_timestamp subtracts a positive offset and adds a negative one") {
    CHECK(parse_timestamp("2026-11-23T12:56:48+02:00") == reference_time());
    CHECK(parse_timestamp("2026-11-23T05:26:48-05:30") == reference_time());
    CHECK(parse_timestamp("2026-11-23T10:56:48+00:00") == reference_time());
}

TEST_CASE("parse_timestamp reads an offset without a colon") {
    CHECK(parse_timestamp("2026-11-23T12:56:48+0200") == reference_time());
}

TEST_CASE("an offset may move the time into another day") {
    CHECK(parse_timestamp("2026-11-24T01:00:00+02:00") == utc(2026, 11, 23, 23h));
}

TEST_CASE("a date alone means midnight UTC") {
    CHECK(parse_timestamp("2026-11-23") == utc(2026, 11, 23));
}

TEST_CASE("seconds may be left out") {
    CHECK(parse_timestamp("2026-11-23T10:56Z") == utc(2026, 11, 23, 10h + 56min));
}

TEST_CASE("a fraction is read to the microsecond and digits beyond are dropped") {
    CHECK(parse_timestamp("2026-11-23T10:56:48.5Z") == reference_time(500ms));
    CHECK(parse_timestamp("2026-11-23T10:56:48.000001Z") == reference_time(1us));
    CHECK(parse_timestamp("2026-11-23T10:56:48.123456789Z") == reference_time(123456us));
    CHECK(parse_timestamp("2026-11-23T10:56:48,25Z") == reference_time(250ms));
}

TEST_CASE("a lowercase t or z and a space separator are accepted") {
    CHECK(parse_timestamp("2026-11-23t10:56:48z") == reference_time());
    CHECK(parse_timestamp("2026-11-23 10:56:48Z") == reference_time());
}

TEST_CASE("malformed timestamps are rejected naming the field and quoting the text") {
    const std::vector<std::string> bad{
        "",
        "2026",
        "2026-11",
        "2026-11-2",
        "26-11-23",
        "2026/11/23",
        " 2026-11-23",
        "2026-11-23 ",
        "2026-11-23T",
        "2026-11-23T10",
        "2026-11-23T10:5Z",
        "2026-11-23T10:56:48",
        "2026-11-23T10:56:48.Z",
        "2026-11-23T10:56:48+02",
        "2026-11-23T10:56:48+2:00",
        "2026-11-23T10:56:48Q",
        "2026-11-23T10:56:48Zjunk",
        "2026-11-23X10:56:48Z",
        "2026-13-01",
        "2026-00-10",
        "2026-02-30",
        "2025-02-29",
        "2026-11-23T24:00:00Z",
        "2026-11-23T10:60:00Z",
        "2026-11-23T10:56:61Z",
        "2026-11-23T-1:56:48Z",
        "now",
    };
    for (const std::string& text : bad) {
        INFO("text: '", text, "'");
        check_invalid_argument([&] { (void)parse_timestamp(text, "run_at"); }, "run_at",
                               {"run_at", "'" + text + "'"});
    }
}

TEST_CASE("parse_timestamp names the field 'time' when none is given") {
    check_invalid_argument([] { (void)parse_timestamp("tomorrow"); }, "time", {"time"});
}

TEST_CASE("an offset beyond 23:59 is rejected") {
    check_invalid_argument([] { (void)parse_timestamp("2026-11-23T10:56:48+24:00"); }, "time");
    check_invalid_argument([] { (void)parse_timestamp("2026-11-23T10:56:48+02:60"); }, "time");
}

TEST_CASE("parse_duration reads every unit") {
    CHECK(parse_duration("7us") == Duration{7us});
    CHECK(parse_duration("500ms") == Duration{500ms});
    CHECK(parse_duration("90s") == Duration{90s});
    CHECK(parse_duration("10m") == Duration{10min});
    CHECK(parse_duration("3h") == Duration{3h});
    CHECK(parse_duration("2d") == Duration{48h});
}

TEST_CASE("parse_duration adds up combined units in any order") {
    CHECK(parse_duration("1h30m") == Duration{90min});
    CHECK(parse_duration("1d2h3m4s5ms6us") == Duration{26h + 3min + 4s + 5ms + 6us});
    CHECK(parse_duration("30m1h") == Duration{90min});
}

TEST_CASE("parse_duration reads zero") {
    CHECK(parse_duration("0s") == Duration::zero());
    CHECK(parse_duration("0ms") == Duration::zero());
}

TEST_CASE("a negative duration is rejected naming the field and quoting the text") {
    check_invalid_argument([] { (void)parse_duration("-5s", "delay"); }, "delay",
                           {"delay", "negative", "'-5s'"});
}

TEST_CASE("a negative part inside a combined duration is rejected") {
    check_invalid_argument([] { (void)parse_duration("1h-30m"); }, "duration");
}

TEST_CASE("an unknown unit, a missing number or a missing unit is rejected") {
    const std::vector<std::string> bad{"",       "5",    "s",   "5x",   "5S",   "5 s",
                                       "1h 30m", "1.5h", "+5s", "5sec", "1h30", "ten s"};
    for (const std::string& text : bad) {
        INFO("text: '", text, "'");
        check_invalid_argument([&] { (void)parse_duration(text, "timeout"); }, "timeout",
                               {"timeout", "'" + text + "'"});
    }
}

TEST_CASE("parse_duration names the field 'duration' when none is given") {
    check_invalid_argument([] { (void)parse_duration("soon"); }, "duration", {"duration"});
}

TEST_CASE("format_duration writes zero as 0s and a negative duration with a minus sign") {
    CHECK(format_duration(Duration::zero()) == "0s");
    CHECK(format_duration(-5s) == "-5s");
}

TEST_CASE("format_duration writes the largest units first and skips empty ones") {
    CHECK(format_duration(90min) == "1h30m");
    CHECK(format_duration(90s) == "1m30s");
    CHECK(format_duration(48h) == "2d");
    CHECK(format_duration(24h + 5s) == "1d5s");
    CHECK(format_duration(1500ms) == "1s500ms");
}

TEST_CASE("format_duration writes durations under a second in ms or us") {
    CHECK(format_duration(250ms) == "250ms");
    CHECK(format_duration(999us) == "999us");
    CHECK(format_duration(1500us) == "1.5ms");
}

TEST_CASE("parse_duration reads back what format_duration writes for whole milliseconds") {
    const std::vector<Duration> durations{1us,    999us, 1ms, 250ms, 1s,
                                          1500ms, 90s,   1h,  90min, 49h + 1s + 1ms};
    for (const Duration d : durations) {
        const std::string text = format_duration(d);
        INFO(text);
        CHECK(parse_duration(text) == d);
    }
}

TEST_CASE("format_duration keeps a sub-millisecond remainder above one second") {
    const Duration d = 1s + 250us;
    INFO(format_duration(d));
    CHECK(parse_duration(format_duration(d)) == d);
}

// Found by tests/fuzz/fuzz_time_format: "{:.3g}" writes 999.5ms and above as "1e+03ms".
TEST_CASE("format_duration rounds a duration just under a second to 1s, not to an exponent") {
    CHECK(format_duration(999'499us) == "999ms");
    CHECK(format_duration(999'500us) == "1s");
    CHECK(format_duration(999'999us) == "1s");
}

// Found by tests/fuzz/fuzz_time_format: these were read as years -1 and 10000, which
// format_timestamp writes as "-001-..." and "10000-...", texts parse_timestamp cannot read back.
TEST_CASE("parse_timestamp rejects an offset or leap second that leaves the years 0000 to 9999") {
    for (const char* text : {"0000-01-01T00:00+01:00", "9999-12-31T23:30-01:00",
                             "9999-12-31T23:59:60Z"}) {
        INFO(text);
        check_invalid_argument([&] { (void)parse_timestamp(text); }, "time", {"out of range"});
    }
    CHECK(parse_timestamp("0000-01-01T01:00+01:00") == utc(0, 1, 1));
    CHECK(parse_timestamp("9999-12-31T23:59:59.999999Z") == utc(9999, 12, 31, 86'399'999'999us));
}

TEST_SUITE_END();

TEST_CASE("a duration too long for microseconds is rejected instead of overflowing") {
    CHECK_THROWS_AS(jobq::parse_duration("9999999999999d"), jobq::Error);
    CHECK_THROWS_AS(jobq::parse_duration("106751990d106751990d"), jobq::Error);
    CHECK(jobq::parse_duration("106751d") == std::chrono::days{106751});
}
