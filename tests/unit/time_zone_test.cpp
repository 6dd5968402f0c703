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

// --- after 2037 ---
// The tz files list changes only until 2037; later ones come from the POSIX TZ rule at the end
// of each file ("CET-1CEST,M3.5.0,M10.5.0/3"). Years are chosen just past the list (2038), well
// past it (2040) and in another century (2100).

TEST_CASE("to_local follows the zone's summer and winter offsets after 2037") {
    CHECK(berlin().to_local(at("2038-01-15T12:00:00Z")) == local(2038, 1, 15, 13));
    CHECK(berlin().to_local(at("2038-07-15T12:00:00Z")) == local(2038, 7, 15, 14));
    CHECK(berlin().to_local(at("2040-01-15T12:00:00Z")) == local(2040, 1, 15, 13));
    CHECK(berlin().to_local(at("2040-07-15T12:00:00Z")) == local(2040, 7, 15, 14));
    CHECK(berlin().to_local(at("2100-01-15T12:00:00Z")) == local(2100, 1, 15, 13));
    CHECK(berlin().to_local(at("2100-07-15T12:00:00Z")) == local(2100, 7, 15, 14));
    CHECK(new_york().to_local(at("2038-01-15T12:00:00Z")) == local(2038, 1, 15, 7));
    CHECK(new_york().to_local(at("2038-07-15T12:00:00Z")) == local(2038, 7, 15, 8));
    CHECK(new_york().to_local(at("2040-01-15T12:00:00Z")) == local(2040, 1, 15, 7));
    CHECK(new_york().to_local(at("2040-07-15T12:00:00Z")) == local(2040, 7, 15, 8));
    CHECK(new_york().to_local(at("2100-01-15T12:00:00Z")) == local(2100, 1, 15, 7));
    CHECK(new_york().to_local(at("2100-07-15T12:00:00Z")) == local(2100, 7, 15, 8));
}

TEST_CASE("format writes the zone's summer and winter offsets after 2037") {
    CHECK(berlin().format(at("2038-01-15T12:00:00Z")) == "2038-01-15T13:00:00+01:00");
    CHECK(berlin().format(at("2038-07-15T12:00:00Z")) == "2038-07-15T14:00:00+02:00");
    CHECK(berlin().format(at("2040-07-15T12:00:00Z")) == "2040-07-15T14:00:00+02:00");
    CHECK(berlin().format(at("2100-07-15T12:00:00Z")) == "2100-07-15T14:00:00+02:00");
    CHECK(new_york().format(at("2038-07-15T12:00:00Z")) == "2038-07-15T08:00:00-04:00");
    CHECK(new_york().format(at("2040-01-15T12:00:00Z")) == "2040-01-15T07:00:00-05:00");
    CHECK(new_york().format(at("2100-07-15T12:00:00Z")) == "2100-07-15T08:00:00-04:00");
}

TEST_CASE("to_local changes offset at the rule's instants after 2037") {
    // 2040: the last Sundays of March and October are the 25th and the 28th; the second Sunday
    // of March and the first of November are the 11th and the 4th.
    CHECK(berlin().to_local(at("2040-03-25T00:59:59Z")) == local(2040, 3, 25, 1, 59, 59));
    CHECK(berlin().to_local(at("2040-03-25T01:00:00Z")) == local(2040, 3, 25, 3));
    CHECK(berlin().to_local(at("2040-10-28T00:59:59Z")) == local(2040, 10, 28, 2, 59, 59));
    CHECK(berlin().to_local(at("2040-10-28T01:00:00Z")) == local(2040, 10, 28, 2));
    CHECK(new_york().to_local(at("2040-03-11T06:59:59Z")) == local(2040, 3, 11, 1, 59, 59));
    CHECK(new_york().to_local(at("2040-03-11T07:00:00Z")) == local(2040, 3, 11, 3));
    CHECK(new_york().to_local(at("2040-11-04T05:59:59Z")) == local(2040, 11, 4, 1, 59, 59));
    CHECK(new_york().to_local(at("2040-11-04T06:00:00Z")) == local(2040, 11, 4, 1));
}

TEST_CASE("to_instant of an ordinary wall-clock time after 2037 subtracts the zone's offset") {
    CHECK(berlin().to_instant(local(2038, 7, 1, 12)) == at("2038-07-01T10:00:00Z"));
    CHECK(berlin().to_instant(local(2040, 1, 15, 13)) == at("2040-01-15T12:00:00Z"));
    CHECK(berlin().to_instant(local(2100, 7, 15, 14)) == at("2100-07-15T12:00:00Z"));
    CHECK(new_york().to_instant(local(2040, 7, 15, 8)) == at("2040-07-15T12:00:00Z"));
    CHECK(new_york().to_instant(local(2100, 1, 15, 7)) == at("2100-01-15T12:00:00Z"));
}

TEST_CASE(
    "to_instant maps a time in a spring-forward gap after 2037 to the first instant after it") {
    CHECK(berlin().to_instant(local(2040, 3, 25, 1, 59, 59)) == at("2040-03-25T00:59:59Z"));
    CHECK(berlin().to_instant(local(2040, 3, 25, 2)) == at("2040-03-25T01:00:00Z"));
    CHECK(berlin().to_instant(local(2040, 3, 25, 2, 30)) == at("2040-03-25T01:00:00Z"));
    CHECK(berlin().to_instant(local(2040, 3, 25, 2, 59, 59)) == at("2040-03-25T01:00:00Z"));
    CHECK(berlin().to_instant(local(2040, 3, 25, 3)) == at("2040-03-25T01:00:00Z"));
    CHECK(berlin().to_instant(local(2040, 3, 25, 3, 0, 1)) == at("2040-03-25T01:00:01Z"));
    CHECK(new_york().to_instant(local(2040, 3, 11, 2, 30)) == at("2040-03-11T07:00:00Z"));
}

TEST_CASE(
    "to_instant maps a time in a repeated fall-back hour after 2037 to its first occurrence") {
    CHECK(berlin().to_instant(local(2040, 10, 28, 1, 59, 59)) == at("2040-10-27T23:59:59Z"));
    CHECK(berlin().to_instant(local(2040, 10, 28, 2)) == at("2040-10-28T00:00:00Z"));
    CHECK(berlin().to_instant(local(2040, 10, 28, 2, 30)) == at("2040-10-28T00:30:00Z"));
    CHECK(berlin().to_instant(local(2040, 10, 28, 2, 59, 59)) == at("2040-10-28T00:59:59Z"));
    CHECK(berlin().to_instant(local(2040, 10, 28, 3)) == at("2040-10-28T02:00:00Z"));
    CHECK(new_york().to_instant(local(2040, 11, 4, 1, 30)) == at("2040-11-04T05:30:00Z"));
    CHECK(new_york().to_instant(local(2040, 11, 4, 2)) == at("2040-11-04T07:00:00Z"));
}

TEST_CASE("the last change the tz file lists, in October 2037, still follows the DST rules") {
    CHECK(berlin().format(at("2037-10-25T00:59:59Z")) == "2037-10-25T02:59:59+02:00");
    CHECK(berlin().format(at("2037-10-25T01:00:00Z")) == "2037-10-25T02:00:00+01:00");
    CHECK(berlin().to_instant(local(2037, 10, 25, 2, 30)) == at("2037-10-25T00:30:00Z"));
    CHECK(berlin().to_instant(local(2037, 10, 25, 3)) == at("2037-10-25T02:00:00Z"));
    // The first change after it, on the last Sunday of March 2038, is the rule's.
    CHECK(berlin().format(at("2038-03-28T00:59:59Z")) == "2038-03-28T01:59:59+01:00");
    CHECK(berlin().format(at("2038-03-28T01:00:00Z")) == "2038-03-28T03:00:00+02:00");
    CHECK(berlin().to_instant(local(2038, 3, 28, 2, 30)) == at("2038-03-28T01:00:00Z"));
}

TEST_CASE("a southern-hemisphere zone keeps summer time across the new year after 2037") {
    const TimeZone sydney = TimeZone::locate("Australia/Sydney");
    CHECK(sydney.format(at("2039-12-31T12:00:00Z")) == "2039-12-31T23:00:00+11:00");
    CHECK(sydney.format(at("2040-01-01T12:00:00Z")) == "2040-01-01T23:00:00+11:00");
    CHECK(sydney.format(at("2040-07-15T12:00:00Z")) == "2040-07-15T22:00:00+10:00");
    CHECK(sydney.to_instant(local(2040, 1, 15, 23)) == at("2040-01-15T12:00:00Z"));
}

TEST_CASE("a zone whose winter offset is its daylight-saving one keeps it after 2037") {
    // Europe/Dublin's rule "IST-1GMT0,M10.5.0,M3.5.0/1": standard time is the summer's +01:00.
    const TimeZone dublin = TimeZone::locate("Europe/Dublin");
    CHECK(dublin.format(at("2040-01-15T12:00:00Z")) == "2040-01-15T12:00:00+00:00");
    CHECK(dublin.format(at("2040-07-15T12:00:00Z")) == "2040-07-15T13:00:00+01:00");
    CHECK(dublin.to_instant(local(2040, 10, 28, 1, 30)) == at("2040-10-28T00:30:00Z"));
}

TEST_CASE("a zone without daylight-saving time keeps its offset after 2037") {
    const TimeZone tokyo = TimeZone::locate("Asia/Tokyo");
    CHECK(tokyo.format(at("2040-01-15T12:00:00Z")) == "2040-01-15T21:00:00+09:00");
    CHECK(tokyo.format(at("2040-07-15T12:00:00Z")) == "2040-07-15T21:00:00+09:00");
    CHECK(tokyo.to_instant(local(2040, 7, 15, 21)) == at("2040-07-15T12:00:00Z"));
}

TEST_CASE("UTC stays UTC after 2037") {
    CHECK(TimeZone{}.format(at("2040-07-15T12:00:00Z")) == "2040-07-15T12:00:00+00:00");
    CHECK(TimeZone{}.to_instant(local(2100, 7, 15, 12)) == at("2100-07-15T12:00:00Z"));
    const TimeZone etc_utc = TimeZone::locate("Etc/UTC");
    CHECK(etc_utc.format(at("2040-07-15T12:00:00Z")) == "2040-07-15T12:00:00+00:00");
    CHECK(etc_utc.to_instant(local(2100, 7, 15, 12)) == at("2100-07-15T12:00:00Z"));
}

TEST_SUITE_END();
