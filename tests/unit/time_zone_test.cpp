// TimeZone: locating IANA zones, wall-clock time both ways across DST changes, ISO 8601 text.

#include <chrono>
#include <optional>
#include <string>

#include <doctest/doctest.h>

#include "jobq/time_format.hpp"
#include "jobq/time_zone.hpp"
#include "support.hpp"

using namespace std::chrono_literals;
using jobq::LocalSeconds;
using jobq::Timestamp;
using jobq::TimeZone;
using jobq::test::check_invalid_argument;
using jobq::test::reference_time;
using jobq::test::rejection_of;

namespace {

Timestamp at(std::string_view iso) {
    return jobq::parse_timestamp(iso);
}

LocalSeconds local(int y, unsigned mo, unsigned d, int h = 0, int mi = 0, int s = 0) {
    using namespace std::chrono;
    return local_days{year{y} / month{mo} / day{d}} + hours{h} + minutes{mi} + seconds{s};
}

const TimeZone& berlin() {
    static const TimeZone zone = TimeZone::locate("Europe/Berlin");
    return zone;
}

const TimeZone& new_york() {
    static const TimeZone zone = TimeZone::locate("America/New_York");
    return zone;
}

}  // namespace

TEST_SUITE_BEGIN("TimeZone");

TEST_CASE("a default TimeZone is UTC") {
    const TimeZone utc;
    CHECK(utc.name() == "UTC");
    CHECK(utc == TimeZone::locate("UTC"));
    CHECK(utc.to_local(at("2026-11-23T10:56:48Z")) == local(2026, 11, 23, 10, 56, 48));
    CHECK(utc.to_instant(local(2026, 11, 23, 10, 56, 48)) == at("2026-11-23T10:56:48Z"));
}

TEST_CASE("locate keeps the name it was given") {
    CHECK(berlin().name() == "Europe/Berlin");
    CHECK(TimeZone::locate("UTC").name() == "UTC");
}

TEST_CASE("zones with different names compare unequal") {
    CHECK(berlin() != TimeZone{});
    CHECK(berlin() != new_york());
    CHECK(berlin() == TimeZone::locate("Europe/Berlin"));
}

TEST_CASE("locate rejects an unknown zone, naming the field and quoting the name") {
    const auto r = rejection_of([] { (void)TimeZone::locate("Mars/Olympus"); });
    REQUIRE(r.has_value());
    CHECK(r->code == jobq::ErrorCode::invalid_argument);
    CHECK(r->field == "zone");
    CHECK(r->message == "zone: unknown time zone \"Mars/Olympus\"");
}

TEST_CASE("locate rejects an empty name") {
    check_invalid_argument([] { (void)TimeZone::locate(""); }, "zone", {"zone:", "time zone"});
}

TEST_CASE("locate names the field it is told to in its rejection") {
    check_invalid_argument([] { (void)TimeZone::locate("utc", "schedule.zone"); }, "schedule.zone",
                           {"schedule.zone: unknown time zone \"utc\""});
}

TEST_CASE("to_local applies the zone's offset at the instant") {
    CHECK(berlin().to_local(at("2026-01-15T12:00:00Z")) == local(2026, 1, 15, 13));
    CHECK(berlin().to_local(at("2026-07-15T12:00:00Z")) == local(2026, 7, 15, 14));
    CHECK(new_york().to_local(at("2026-01-15T12:00:00Z")) == local(2026, 1, 15, 7));
    CHECK(new_york().to_local(at("2026-07-15T12:00:00Z")) == local(2026, 7, 15, 8));
}

TEST_CASE("to_local truncates to the second, also before 1970") {
    CHECK(TimeZone{}.to_local(reference_time(999'999us)) == local(2026, 11, 23, 10, 56, 48));
    CHECK(TimeZone{}.to_local(Timestamp{} - 1us) == local(1969, 12, 31, 23, 59, 59));
}

TEST_CASE("to_local runs through the spring-forward gap without a wall-clock hour") {
    CHECK(berlin().to_local(at("2026-03-29T00:59:59Z")) == local(2026, 3, 29, 1, 59, 59));
    CHECK(berlin().to_local(at("2026-03-29T01:00:00Z")) == local(2026, 3, 29, 3));
}

TEST_CASE("to_local shows the repeated fall-back hour twice") {
    CHECK(berlin().to_local(at("2026-10-25T00:30:00Z")) == local(2026, 10, 25, 2, 30));
    CHECK(berlin().to_local(at("2026-10-25T01:30:00Z")) == local(2026, 10, 25, 2, 30));
}

TEST_CASE("to_instant of an ordinary wall-clock time subtracts the zone's offset") {
    CHECK(berlin().to_instant(local(2026, 1, 15, 13)) == at("2026-01-15T12:00:00Z"));
    CHECK(berlin().to_instant(local(2026, 7, 15, 14)) == at("2026-07-15T12:00:00Z"));
    CHECK(new_york().to_instant(local(2026, 7, 15, 8)) == at("2026-07-15T12:00:00Z"));
}

TEST_CASE("to_instant maps a time in the spring-forward gap to the first instant after it") {
    CHECK(berlin().to_instant(local(2026, 3, 29, 2)) == at("2026-03-29T01:00:00Z"));
    CHECK(berlin().to_instant(local(2026, 3, 29, 2, 30)) == at("2026-03-29T01:00:00Z"));
    CHECK(berlin().to_instant(local(2026, 3, 29, 2, 59, 59)) == at("2026-03-29T01:00:00Z"));
    CHECK(berlin().to_instant(local(2026, 3, 29, 3)) == at("2026-03-29T01:00:00Z"));
    CHECK(new_york().to_instant(local(2026, 3, 8, 2, 30)) == at("2026-03-08T07:00:00Z"));
}

TEST_CASE("to_instant maps a time in the repeated fall-back hour to its first occurrence") {
    CHECK(berlin().to_instant(local(2026, 10, 25, 2)) == at("2026-10-25T00:00:00Z"));
    CHECK(berlin().to_instant(local(2026, 10, 25, 2, 30)) == at("2026-10-25T00:30:00Z"));
    CHECK(berlin().to_instant(local(2026, 10, 25, 3)) == at("2026-10-25T02:00:00Z"));
    CHECK(new_york().to_instant(local(2026, 11, 1, 1, 30)) == at("2026-11-01T05:30:00Z"));
    CHECK(new_york().to_instant(local(2026, 11, 1, 2)) == at("2026-11-01T07:00:00Z"));
}

TEST_CASE("format writes ISO 8601 with the zone's offset at the instant") {
    CHECK(berlin().format(at("2026-03-29T00:59:59Z")) == "2026-03-29T01:59:59+01:00");
    CHECK(berlin().format(at("2026-03-29T01:00:00Z")) == "2026-03-29T03:00:00+02:00");
    CHECK(berlin().format(at("2026-10-25T00:30:00Z")) == "2026-10-25T02:30:00+02:00");
    CHECK(berlin().format(at("2026-10-25T01:30:00Z")) == "2026-10-25T02:30:00+01:00");
    CHECK(new_york().format(at("2026-03-08T07:00:00Z")) == "2026-03-08T03:00:00-04:00");
    CHECK(new_york().format(at("2026-11-01T05:30:00Z")) == "2026-11-01T01:30:00-04:00");
    CHECK(new_york().format(at("2026-11-01T06:30:00Z")) == "2026-11-01T01:30:00-05:00");
}

TEST_CASE("format writes UTC with +00:00") {
    CHECK(TimeZone{}.format(reference_time()) == "2026-11-23T10:56:48+00:00");
}

TEST_CASE("format writes a fraction of a second as six digits, and only when there is one") {
    CHECK(TimeZone{}.format(reference_time(250ms)) == "2026-11-23T10:56:48.250000+00:00");
    CHECK(berlin().format(reference_time(1us)) == "2026-11-23T11:56:48.000001+01:00");
    CHECK(TimeZone{}.format(Timestamp{} - 1us) == "1969-12-31T23:59:59.999999+00:00");
}

TEST_CASE("format writes offsets that are not whole hours as +-HH:MM") {
    CHECK(TimeZone::locate("Asia/Kolkata").format(at("2026-01-15T12:00:00Z")) ==
          "2026-01-15T17:30:00+05:30");
    CHECK(TimeZone::locate("America/St_Johns").format(at("2026-01-15T12:00:00Z")) ==
          "2026-01-15T08:30:00-03:30");
}

TEST_SUITE_END();
