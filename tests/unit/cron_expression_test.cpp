// CronExpression: the syntax, the next-fire search in wall-clock time, and fire instants in a
// zone across DST changes.

#include <chrono>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <doctest/doctest.h>

#include "jobq/cron_expression.hpp"
#include "jobq/time_format.hpp"
#include "jobq/time_zone.hpp"
#include "support.hpp"

using namespace std::chrono_literals;
using jobq::CronExpression;
using jobq::LocalSeconds;
using jobq::Timestamp;
using jobq::TimeZone;
using jobq::test::rejection_of;

namespace {

using Strings = std::vector<std::string>;

Timestamp at(std::string_view iso) {
    return jobq::parse_timestamp(iso);
}

// "2026-03-29 02:30:00" both ways, so expectations and failures read as calendar times.
LocalSeconds local(const std::string& text) {
    using namespace std::chrono;
    int y = 0;
    unsigned mo = 0, d = 0;
    int h = 0, mi = 0, s = 0;
    REQUIRE(std::sscanf(text.c_str(), "%d-%u-%u %d:%d:%d", &y, &mo, &d, &h, &mi, &s) == 6);
    return local_days{year{y} / month{mo} / day{d}} + hours{h} + minutes{mi} + seconds{s};
}

std::string show(LocalSeconds t) {
    using namespace std::chrono;
    const local_days date = floor<days>(t);
    const year_month_day ymd{date};
    const hh_mm_ss<seconds> time{t - date};
    char out[32];
    std::snprintf(out, sizeof out, "%04d-%02u-%02u %02d:%02d:%02d", static_cast<int>(ymd.year()),
                  static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                  static_cast<int>(time.hours().count()), static_cast<int>(time.minutes().count()),
                  static_cast<int>(time.seconds().count()));
    return out;
}

CronExpression cron(std::string_view text) {
    return CronExpression::parse(text);
}

// The next `n` matching wall-clock times after `from`.
Strings next_locals(std::string_view text, const std::string& from, int n) {
    const CronExpression e = cron(text);
    Strings out;
    LocalSeconds t = local(from);
    for (int i = 0; i < n; ++i) out.push_back(show(t = e.next_local(t)));
    return out;
}

// The next `n` fire instants after `from` in `zone`, written in that zone.
Strings fires(std::string_view text, const TimeZone& zone, std::string_view from, int n) {
    const CronExpression e = cron(text);
    Strings out;
    Timestamp t = at(from);
    for (int i = 0; i < n; ++i) out.push_back(zone.format(t = e.next_after(t, zone)));
    return out;
}

// The whole message, so the wording and the position are part of the specification.
void check_rejected(std::string_view text, std::string_view message) {
    const auto r = rejection_of([&] { (void)CronExpression::parse(text); });
    INFO("expression: \"", std::string(text), "\"");
    REQUIRE(r.has_value());
    CHECK(r->code == jobq::ErrorCode::invalid_argument);
    CHECK(r->field == "expression");
    CHECK(r->message == message);
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

TEST_SUITE_BEGIN("CronExpression");

// --- syntax ---

TEST_CASE("five fields are minute, hour, day-of-month, month and day-of-week") {
    CHECK(next_locals("30 9 24 12 *", "2026-11-23 10:56:48", 2) ==
          Strings{"2026-12-24 09:30:00", "2027-12-24 09:30:00"});
}

TEST_CASE("a sixth field in front is the second") {
    CHECK(next_locals("*/15 * * * * *", "2026-11-23 10:56:48", 4) ==
          Strings{"2026-11-23 10:57:00", "2026-11-23 10:57:15", "2026-11-23 10:57:30",
                  "2026-11-23 10:57:45"});
    CHECK(next_locals("5 30 9 * * *", "2026-11-23 10:56:48", 1) == Strings{"2026-11-24 09:30:05"});
}

TEST_CASE("five fields fire at second 0") {
    CHECK(next_locals("* * * * *", "2026-11-23 10:56:48", 2) ==
          Strings{"2026-11-23 10:57:00", "2026-11-23 10:58:00"});
}

TEST_CASE("next_local is strictly after the time it is given") {
    CHECK(next_locals("0 12 * * *", "2026-11-23 12:00:00", 1) == Strings{"2026-11-24 12:00:00"});
    CHECK(next_locals("0 12 * * *", "2026-11-23 11:59:59", 1) == Strings{"2026-11-23 12:00:00"});
}

TEST_CASE("a list fires at each of its values") {
    CHECK(next_locals("0 8,12,18 * * *", "2026-11-23 10:56:48", 3) ==
          Strings{"2026-11-23 12:00:00", "2026-11-23 18:00:00", "2026-11-24 08:00:00"});
}

TEST_CASE("a range fires at every value from its start to its end") {
    CHECK(next_locals("0 9-11 * * *", "2026-11-23 10:56:48", 3) ==
          Strings{"2026-11-23 11:00:00", "2026-11-24 09:00:00", "2026-11-24 10:00:00"});
}

TEST_CASE("a step on * counts from the field's first value") {
    CHECK(next_locals("*/20 * * * *", "2026-11-23 10:56:48", 3) ==
          Strings{"2026-11-23 11:00:00", "2026-11-23 11:20:00", "2026-11-23 11:40:00"});
    CHECK(next_locals("0 0 */10 * *", "2026-11-23 10:56:48", 3) ==
          Strings{"2026-12-01 00:00:00", "2026-12-11 00:00:00", "2026-12-21 00:00:00"});
}

TEST_CASE("a step on a range counts from the range's start and stops at its end") {
    CHECK(next_locals("0 0 1-30/7 * *", "2026-11-30 00:00:00", 5) ==
          Strings{"2026-12-01 00:00:00", "2026-12-08 00:00:00", "2026-12-15 00:00:00",
                  "2026-12-22 00:00:00", "2026-12-29 00:00:00"});
}

TEST_CASE("N/S counts from N to the field's last value") {
    CHECK(next_locals("5/20 * * * *", "2026-11-23 10:56:48", 4) ==
          Strings{"2026-11-23 11:05:00", "2026-11-23 11:25:00", "2026-11-23 11:45:00",
                  "2026-11-23 12:05:00"});
}

TEST_CASE("a step larger than the field fires at the start only") {
    CHECK(next_locals("*/100 * * * *", "2026-11-23 10:56:48", 2) ==
          Strings{"2026-11-23 11:00:00", "2026-11-23 12:00:00"});
}

TEST_CASE("months and weekdays may be named, in any case, also in ranges and lists") {
    CHECK(next_locals("0 0 1 jan,Jul *", "2026-11-23 10:56:48", 2) ==
          Strings{"2027-01-01 00:00:00", "2027-07-01 00:00:00"});
    CHECK(next_locals("0 9 * * mon-FRI", "2026-11-27 10:00:00", 2) ==
          Strings{"2026-11-30 09:00:00", "2026-12-01 09:00:00"});
    CHECK(next_locals("0 0 1 Nov-dec/1 *", "2026-11-23 10:56:48", 2) ==
          Strings{"2026-12-01 00:00:00", "2027-11-01 00:00:00"});
}

TEST_CASE("day-of-week 0 and 7 are both Sunday") {
    const Strings sundays{"2026-11-29 00:00:00", "2026-12-06 00:00:00"};
    CHECK(next_locals("0 0 * * 0", "2026-11-23 10:56:48", 2) == sundays);
    CHECK(next_locals("0 0 * * 7", "2026-11-23 10:56:48", 2) == sundays);
    CHECK(next_locals("0 0 * * SUN", "2026-11-23 10:56:48", 2) == sundays);
}

TEST_CASE("a weekday range may end at 7 for Sunday") {
    CHECK(next_locals("0 0 * * 5-7", "2026-11-23 10:56:48", 4) ==
          Strings{"2026-11-27 00:00:00", "2026-11-28 00:00:00", "2026-11-29 00:00:00",
                  "2026-12-04 00:00:00"});
}

TEST_CASE("a weekday range may end at SUN") {
    CHECK(next_locals("0 0 * * SAT-SUN", "2026-11-23 10:56:48", 3) ==
          Strings{"2026-11-28 00:00:00", "2026-11-29 00:00:00", "2026-12-05 00:00:00"});
}

TEST_CASE("? means the same as * in day-of-month and day-of-week") {
    CHECK(next_locals("0 0 ? * MON", "2026-11-23 10:56:48", 2) ==
          Strings{"2026-11-30 00:00:00", "2026-12-07 00:00:00"});
    CHECK(next_locals("0 0 1 * ?", "2026-11-23 10:56:48", 2) ==
          Strings{"2026-12-01 00:00:00", "2027-01-01 00:00:00"});
}

TEST_CASE("fields may be separated by several blanks, with blanks around the expression") {
    const CronExpression e = cron(" \t0  9\t* *   *  ");
    CHECK(e.text() == " \t0  9\t* *   *  ");
    CHECK(show(e.next_local(local("2026-11-23 10:56:48"))) == "2026-11-24 09:00:00");
}

TEST_CASE("each macro fires like the expression it stands for") {
    const LocalSeconds from = local("2026-11-23 10:56:48");
    const std::pair<std::string_view, std::string_view> macros[] = {
        {"@yearly", "0 0 1 1 *"}, {"@annually", "0 0 1 1 *"}, {"@monthly", "0 0 1 * *"},
        {"@weekly", "0 0 * * 0"}, {"@daily", "0 0 * * *"},    {"@midnight", "0 0 * * *"},
        {"@hourly", "0 * * * *"},
    };
    for (const auto& [macro, expansion] : macros) {
        INFO(std::string(macro));
        LocalSeconds a = from;
        LocalSeconds b = from;
        for (int i = 0; i < 3; ++i) {
            a = cron(macro).next_local(a);
            b = cron(expansion).next_local(b);
            CHECK(show(a) == show(b));
        }
    }
}

TEST_CASE("macros are case-insensitive and keep their text") {
    const CronExpression e = cron("@DAILY");
    CHECK(e.text() == "@DAILY");
    CHECK(show(e.next_local(local("2026-11-23 10:56:48"))) == "2026-11-24 00:00:00");
}

TEST_CASE("expressions compare equal when their text is equal") {
    CHECK(cron("0 0 * * *") == cron("0 0 * * *"));
    CHECK(cron("0 0 * * *") != cron("@daily"));
}

// --- days of the month ---

TEST_CASE("L is the last day of each month") {
    CHECK(next_locals("0 0 L * *", "2026-01-01 00:00:00", 4) ==
          Strings{"2026-01-31 00:00:00", "2026-02-28 00:00:00", "2026-03-31 00:00:00",
                  "2026-04-30 00:00:00"});
}

TEST_CASE("L may be an item of a day-of-month list") {
    CHECK(next_locals("0 0 1,15,L * *", "2026-04-01 00:00:00", 4) ==
          Strings{"2026-04-15 00:00:00", "2026-04-30 00:00:00", "2026-05-01 00:00:00",
                  "2026-05-15 00:00:00"});
}

TEST_CASE("L in February is the 28th, or the 29th in a leap year") {
    CHECK(next_locals("0 0 L 2 *", "2026-11-23 10:56:48", 3) ==
          Strings{"2027-02-28 00:00:00", "2028-02-29 00:00:00", "2029-02-28 00:00:00"});
}

TEST_CASE("day 31 skips the months that do not have one") {
    CHECK(next_locals("0 0 31 * *", "2026-01-31 00:00:00", 4) ==
          Strings{"2026-03-31 00:00:00", "2026-05-31 00:00:00", "2026-07-31 00:00:00",
                  "2026-08-31 00:00:00"});
}

TEST_CASE("February 29 fires in leap years only") {
    CHECK(next_locals("0 0 29 2 *", "2025-01-01 00:00:00", 2) ==
          Strings{"2028-02-29 00:00:00", "2032-02-29 00:00:00"});
}

TEST_CASE("February 29 skips 2100, which is not a leap year, but not 2000") {
    CHECK(next_locals("0 0 29 2 *", "2096-03-01 00:00:00", 1) == Strings{"2104-02-29 00:00:00"});
    CHECK(next_locals("0 0 29 2 *", "1996-03-01 00:00:00", 1) == Strings{"2000-02-29 00:00:00"});
}

TEST_CASE("the last minute of the year fires once a year") {
    CHECK(next_locals("59 23 31 12 *", "2026-12-31 23:59:00", 2) ==
          Strings{"2027-12-31 23:59:00", "2028-12-31 23:59:00"});
}

TEST_CASE("a yearly schedule crosses the year boundary") {
    CHECK(next_locals("@yearly", "2026-12-31 23:59:59", 1) == Strings{"2027-01-01 00:00:00"});
}

TEST_CASE("when day-of-month and day-of-week are both restricted, either may match") {
    CHECK(next_locals("0 0 13 * FRI", "2026-04-01 00:00:00", 6) ==
          Strings{"2026-04-03 00:00:00", "2026-04-10 00:00:00", "2026-04-13 00:00:00",
                  "2026-04-17 00:00:00", "2026-04-24 00:00:00", "2026-05-01 00:00:00"});
}

TEST_CASE("when day-of-month starts with *, both day fields must match") {
    // */2 is every odd day, so: the Mondays that fall on an odd day.
    CHECK(next_locals("0 0 */2 * MON", "2026-01-01 00:00:00", 5) ==
          Strings{"2026-01-05 00:00:00", "2026-01-19 00:00:00", "2026-02-09 00:00:00",
                  "2026-02-23 00:00:00", "2026-03-09 00:00:00"});
}

TEST_CASE("when day-of-week is *, only day-of-month decides") {
    CHECK(next_locals("0 0 13 * *", "2026-04-01 00:00:00", 2) ==
          Strings{"2026-04-13 00:00:00", "2026-05-13 00:00:00"});
}

TEST_CASE("N#K is the K-th weekday N of the month") {
    CHECK(next_locals("0 0 * * 1#1", "2026-01-01 00:00:00", 4) ==
          Strings{"2026-01-05 00:00:00", "2026-02-02 00:00:00", "2026-03-02 00:00:00",
                  "2026-04-06 00:00:00"});
}

TEST_CASE("a fifth weekday fires only in the months that have one") {
    CHECK(next_locals("0 0 * * 5#5", "2026-01-01 00:00:00", 5) ==
          Strings{"2026-01-30 00:00:00", "2026-05-29 00:00:00", "2026-07-31 00:00:00",
                  "2026-10-30 00:00:00", "2027-01-29 00:00:00"});
}

TEST_CASE("N#K takes a weekday name or 7, and may be a list item") {
    CHECK(next_locals("0 0 * * FRI#3,7#1", "2026-01-01 00:00:00", 4) ==
          Strings{"2026-01-04 00:00:00", "2026-01-16 00:00:00", "2026-02-01 00:00:00",
                  "2026-02-20 00:00:00"});
}

// --- matches ---

TEST_CASE("matches checks every field against a wall-clock time") {
    const CronExpression e = cron("30 9 * * MON-FRI");
    CHECK(e.matches(local("2026-11-23 09:30:00")));
    CHECK_FALSE(e.matches(local("2026-11-23 09:30:01")));
    CHECK_FALSE(e.matches(local("2026-11-23 09:31:00")));
    CHECK_FALSE(e.matches(local("2026-11-28 09:30:00")));
}

TEST_CASE("matches applies L, N#K and the either-day rule") {
    CHECK(cron("0 0 L * *").matches(local("2028-02-29 00:00:00")));
    CHECK_FALSE(cron("0 0 L * *").matches(local("2028-02-28 00:00:00")));
    CHECK(cron("0 0 * * 1#1").matches(local("2026-02-02 00:00:00")));
    CHECK_FALSE(cron("0 0 * * 1#1").matches(local("2026-02-09 00:00:00")));
    CHECK(cron("0 0 13 * FRI").matches(local("2026-04-13 00:00:00")));
    CHECK(cron("0 0 13 * FRI").matches(local("2026-04-17 00:00:00")));
    CHECK_FALSE(cron("0 0 13 * FRI").matches(local("2026-04-14 00:00:00")));
}

// --- the search ---

TEST_CASE("the search jumps to the next matching field instead of scanning seconds") {
    // Scanning second by second would take a year of steps per call.
    const CronExpression e = cron("59 59 23 31 12 *");
    const auto start = std::chrono::steady_clock::now();
    LocalSeconds t = local("2026-01-01 00:00:00");
    for (int i = 0; i < 1000; ++i) t = e.next_local(t);
    CHECK(show(t) == "3025-12-31 23:59:59");
    CHECK(std::chrono::steady_clock::now() - start < 2s);
}

TEST_CASE("a schedule that fires in few years is still found") {
    // The fifth Friday of February needs a leap year whose February starts on a Friday.
    CHECK(next_locals("0 0 ? 2 5#5", "2026-01-01 00:00:00", 2) ==
          Strings{"2036-02-29 00:00:00", "2064-02-29 00:00:00"});
}

TEST_CASE("an impossible day-of-month still fires on its weekdays when both are restricted") {
    CHECK(next_locals("0 0 30 2 MON", "2026-01-01 00:00:00", 2) ==
          Strings{"2026-02-02 00:00:00", "2026-02-09 00:00:00"});
}

// --- errors ---

TEST_CASE("an empty expression is rejected") {
    check_rejected("", "expression: must not be empty (position 1 in \"\")");
    check_rejected(" \t ", "expression: must not be empty (position 1 in \" \\u0009 \")");
}

TEST_CASE("an expression without 5 or 6 fields is rejected") {
    check_rejected("* * * *",
                   "expression: expected 5 or 6 fields, got 4 (position 8 in \"* * * *\")");
    check_rejected("* * * * * * *",
                   "expression: expected 5 or 6 fields, got 7 (position 13 in \"* * * * * * *\")");
}

TEST_CASE("an unknown macro is rejected") {
    check_rejected("@fortnightly",
                   "expression: unknown macro \"@fortnightly\" (expected @yearly, @annually, "
                   "@monthly, @weekly, @daily, @midnight or @hourly) (position 1 in "
                   "\"@fortnightly\")");
}

TEST_CASE("a macro followed by more text is rejected") {
    check_rejected("@daily 5",
                   "expression: unexpected \"5\" after the macro \"@daily\" (position 8 in "
                   "\"@daily 5\")");
}

TEST_CASE("a value out of its field's range is rejected") {
    check_rejected("0 61 * * * *",
                   "minute: 61 is out of range 0-59 (position 3 in \"0 61 * * * *\")");
    check_rejected("60 * * * * *",
                   "second: 60 is out of range 0-59 (position 1 in \"60 * * * * *\")");
    check_rejected("0 24 * * *", "hour: 24 is out of range 0-23 (position 3 in \"0 24 * * *\")");
    check_rejected("0 0 0 * *",
                   "day-of-month: 0 is out of range 1-31 (position 5 in \"0 0 0 * *\")");
    check_rejected("0 0 * 13 *", "month: 13 is out of range 1-12 (position 7 in \"0 0 * 13 *\")");
    check_rejected("0 0 * * 8", "day-of-week: 8 is out of range 0-7 (position 9 in \"0 0 * * 8\")");
    check_rejected("0 1-99 * * *",
                   "hour: 99 is out of range 0-23 (position 5 in \"0 1-99 * * *\")");
}

TEST_CASE("a value too large for any integer is reported as written") {
    check_rejected("99999999999999999999 * * * *",
                   "minute: 99999999999999999999 is out of range 0-59 (position 1 in "
                   "\"99999999999999999999 * * * *\")");
}

TEST_CASE("a word where a number belongs is rejected") {
    check_rejected("x * * * *",
                   "minute: expected a number, got \"x\" (position 1 in \"x * * * *\")");
    check_rejected("0 -5 * * *",
                   "hour: expected a number, got \"-\" (position 3 in \"0 -5 * * *\")");
    check_rejected("0 5- * * *", "hour: expected a number (position 5 in \"0 5- * * *\")");
}

TEST_CASE("an unknown month or weekday name is rejected") {
    check_rejected(
        "0 0 * FOO *",
        "month: unknown name \"FOO\" (expected JAN-DEC) (position 7 in \"0 0 * FOO *\")");
    check_rejected("0 0 * * MONDAY",
                   "day-of-week: unknown name \"MONDAY\" (expected SUN-SAT) (position 9 in \"0 0 * "
                   "* MONDAY\")");
}

TEST_CASE("stray characters after an item are rejected") {
    check_rejected("*5 * * * *", "minute: unexpected \"5\" (position 2 in \"*5 * * * *\")");
    check_rejected("0 0 * * *\x01",
                   "day-of-week: unexpected \"\\u0001\" (position 10 in \"0 0 * * *\\u0001\")");
}

TEST_CASE("a reversed range is rejected") {
    check_rejected("0 5-2 * * *", "hour: range 5-2 is reversed (position 3 in \"0 5-2 * * *\")");
    check_rejected("0 0 * * FRI-MON",
                   "day-of-week: range FRI-MON is reversed (position 9 in \"0 0 * * FRI-MON\")");
}

TEST_CASE("a step of 0, a missing step or a step that is not a number is rejected") {
    check_rejected("*/0 * * * *",
                   "minute: step 0 never advances; use 1 or more (position 3 in \"*/0 * * * *\")");
    check_rejected("*/ * * * *", "minute: expected a step after / (position 3 in \"*/ * * * *\")");
    check_rejected("*/x * * * *",
                   "minute: expected a step after /, got \"x\" (position 3 in \"*/x * * * *\")");
    check_rejected("1-5/2/3 * * * *",
                   "minute: unexpected \"/\" (position 6 in \"1-5/2/3 * * * *\")");
}

TEST_CASE("L outside day-of-month is rejected") {
    check_rejected("0 L * * *",
                   "hour: L is only allowed in day-of-month (position 3 in \"0 L * * *\")");
    check_rejected(
        "0 0 * * 5L",
        "day-of-week: L is only allowed in day-of-month (position 10 in \"0 0 * * 5L\")");
}

TEST_CASE("L with a range or a step is rejected") {
    check_rejected("0 0 L-5 * *",
                   "day-of-month: unexpected \"-\" after L (position 6 in \"0 0 L-5 * *\")");
    check_rejected("0 0 1-L * *",
                   "day-of-month: L cannot be part of a range (position 7 in \"0 0 1-L * *\")");
    check_rejected("0 0 L/2 * *",
                   "day-of-month: unexpected \"/\" after L (position 6 in \"0 0 L/2 * *\")");
}

TEST_CASE("# outside day-of-week is rejected") {
    check_rejected(
        "0 0 1#2 * *",
        "day-of-month: # is only allowed in day-of-week (position 6 in \"0 0 1#2 * *\")");
}

TEST_CASE("a week after # outside 1-5, or none, is rejected") {
    check_rejected("0 0 * * 5#6",
                   "day-of-week: week 6 is out of range 1-5 (position 11 in \"0 0 * * 5#6\")");
    check_rejected("0 0 * * 5#0",
                   "day-of-week: week 0 is out of range 1-5 (position 11 in \"0 0 * * 5#0\")");
    check_rejected("0 0 * * 5#",
                   "day-of-week: expected the week 1-5 after # (position 11 in \"0 0 * * 5#\")");
}

TEST_CASE("an empty list item is rejected") {
    check_rejected("1,,2 * * * *", "minute: empty list item (position 3 in \"1,,2 * * * *\")");
    check_rejected("0 1, * * *", "hour: empty list item (position 5 in \"0 1, * * *\")");
    check_rejected("0 ,1 * * *", "hour: empty list item (position 3 in \"0 ,1 * * *\")");
}

TEST_CASE("? outside the day fields is rejected") {
    check_rejected("? * * * *",
                   "minute: ? is only allowed in day-of-month and day-of-week (position 1 in \"? * "
                   "* * *\")");
}

TEST_CASE("an expression that never fires is rejected") {
    check_rejected(
        "0 0 30 2 *",
        "day-of-month: no day ever matches (30 never occurs in FEB) (position 5 in \"0 0 "
        "30 2 *\")");
    check_rejected("0 0 31 4,6 *",
                   "day-of-month: no day ever matches (31 never occurs in APR,JUN) (position 5 in "
                   "\"0 0 31 4,6 *\")");
    check_rejected(
        "0 0 30,31 2 *",
        "day-of-month: no day ever matches (30,31 never occur in FEB) (position 5 in \"0 "
        "0 30,31 2 *\")");
}

TEST_CASE("day fields that can never match together are rejected") {
    // Days 1, 15 and 29 are never the second Monday (days 8 to 14).
    check_rejected("0 0 */14 * 1#2",
                   "day-of-month: no day ever matches both \"*/14\" and day-of-week \"1#2\" "
                   "(position 5 in \"0 0 */14 * 1#2\")");
}

// --- fire instants ---

TEST_CASE("next_after in UTC is the next matching time as an instant") {
    CHECK(cron("0 12 * * *").next_after(at("2026-11-23T10:56:48Z"), TimeZone{}) ==
          at("2026-11-23T12:00:00Z"));
}

TEST_CASE("next_after is strictly after an instant that is itself a fire") {
    CHECK(cron("0 12 * * *").next_after(at("2026-11-23T12:00:00Z"), TimeZone{}) ==
          at("2026-11-24T12:00:00Z"));
}

TEST_CASE("next_after does not return the fire in the same second as a fractional start") {
    CHECK(cron("* * * * * *").next_after(at("2026-11-23T10:00:00.5Z"), TimeZone{}) ==
          at("2026-11-23T10:00:01Z"));
    CHECK(cron("0 * * * *").next_after(at("2026-11-23T10:00:00.5Z"), TimeZone{}) ==
          at("2026-11-23T11:00:00Z"));
    CHECK(cron("0 * * * *").next_after(at("2026-11-23T09:59:59.999999Z"), TimeZone{}) ==
          at("2026-11-23T10:00:00Z"));
}

TEST_CASE("next_after reads the expression in the zone's wall-clock time") {
    CHECK(cron("0 9 * * *").next_after(at("2026-11-23T10:56:48Z"), berlin()) ==
          at("2026-11-24T08:00:00Z"));
    CHECK(cron("0 9 * * *").next_after(at("2026-07-01T00:00:00Z"), new_york()) ==
          at("2026-07-01T13:00:00Z"));
}

TEST_CASE("Berlin spring forward: a daily time in the gap fires once, when the gap ends") {
    CHECK(fires("30 2 * * *", berlin(), "2026-03-27T12:00:00Z", 3) ==
          Strings{"2026-03-28T02:30:00+01:00", "2026-03-29T03:00:00+02:00",
                  "2026-03-30T02:30:00+02:00"});
    CHECK(cron("30 2 * * *").next_after(at("2026-03-28T12:00:00Z"), berlin()) ==
          at("2026-03-29T01:00:00Z"));
}

TEST_CASE("Berlin spring forward: the times in the gap and the hour after it fire once") {
    CHECK(fires("*/15 * * * *", berlin(), "2026-03-29T00:30:00Z", 3) ==
          Strings{"2026-03-29T01:45:00+01:00", "2026-03-29T03:00:00+02:00",
                  "2026-03-29T03:15:00+02:00"});
}

TEST_CASE(
    "Berlin fall back: a daily time in the repeated hour fires at its first occurrence only") {
    CHECK(fires("30 2 * * *", berlin(), "2026-10-24T12:00:00Z", 2) ==
          Strings{"2026-10-25T02:30:00+02:00", "2026-10-26T02:30:00+01:00"});
    CHECK(cron("30 2 * * *").next_after(at("2026-10-24T12:00:00Z"), berlin()) ==
          at("2026-10-25T00:30:00Z"));
}

TEST_CASE("Berlin fall back: the repeated hour's second occurrence is skipped") {
    CHECK(fires("0 * * * *", berlin(), "2026-10-24T23:30:00Z", 3) ==
          Strings{"2026-10-25T02:00:00+02:00", "2026-10-25T03:00:00+01:00",
                  "2026-10-25T04:00:00+01:00"});
}

TEST_CASE("Berlin fall back: a start inside the second occurrence does not fire the first again") {
    CHECK(fires("30 2 * * *", berlin(), "2026-10-25T01:15:00Z", 1) ==
          Strings{"2026-10-26T02:30:00+01:00"});
    CHECK(fires("*/15 * * * *", berlin(), "2026-10-25T01:15:00Z", 2) ==
          Strings{"2026-10-25T03:00:00+01:00", "2026-10-25T03:15:00+01:00"});
}

TEST_CASE("New York spring forward: a daily time in the gap fires once, when the gap ends") {
    CHECK(fires("30 2 * * *", new_york(), "2026-03-06T12:00:00Z", 3) ==
          Strings{"2026-03-07T02:30:00-05:00", "2026-03-08T03:00:00-04:00",
                  "2026-03-09T02:30:00-04:00"});
    CHECK(cron("30 2 * * *").next_after(at("2026-03-07T12:00:00Z"), new_york()) ==
          at("2026-03-08T07:00:00Z"));
}

TEST_CASE("New York fall back: a daily time in the repeated hour fires at its first occurrence") {
    CHECK(fires("30 1 * * *", new_york(), "2026-10-31T12:00:00Z", 2) ==
          Strings{"2026-11-01T01:30:00-04:00", "2026-11-02T01:30:00-05:00"});
    CHECK(cron("30 1 * * *").next_after(at("2026-10-31T12:00:00Z"), new_york()) ==
          at("2026-11-01T05:30:00Z"));
}

TEST_CASE("New York fall back: hourly fires skip the repeated hour's second occurrence") {
    CHECK(fires("0 * * * *", new_york(), "2026-11-01T04:30:00Z", 3) ==
          Strings{"2026-11-01T01:00:00-04:00", "2026-11-01T02:00:00-05:00",
                  "2026-11-01T03:00:00-05:00"});
}

TEST_CASE("fires after 2037 follow the zone's daylight-saving rule") {
    CHECK(fires("0 12 1 7 *", berlin(), "2036-01-01T00:00:00Z", 4) ==
          Strings{"2036-07-01T12:00:00+02:00", "2037-07-01T12:00:00+02:00",
                  "2038-07-01T12:00:00+02:00", "2039-07-01T12:00:00+02:00"});
    CHECK(fires("30 2 * * *", berlin(), "2040-03-23T12:00:00Z", 3) ==
          Strings{"2040-03-24T02:30:00+01:00", "2040-03-25T03:00:00+02:00",
                  "2040-03-26T02:30:00+02:00"});
    CHECK(fires("0 * * * *", new_york(), "2040-11-04T04:30:00Z", 3) ==
          Strings{"2040-11-04T01:00:00-04:00", "2040-11-04T02:00:00-05:00",
                  "2040-11-04T03:00:00-05:00"});
}

// --- latest_in ---

TEST_CASE("latest_in is the newest fire in the window, its end included") {
    const CronExpression e = cron("0 * * * *");
    CHECK(e.latest_in(at("2026-11-23T00:00:00Z"), at("2026-11-23T10:56:48Z"), TimeZone{}) ==
          at("2026-11-23T10:00:00Z"));
    CHECK(e.latest_in(at("2026-11-23T00:00:00Z"), at("2026-11-23T10:00:00Z"), TimeZone{}) ==
          at("2026-11-23T10:00:00Z"));
}

TEST_CASE("latest_in excludes the window's start") {
    const CronExpression e = cron("0 * * * *");
    CHECK(e.latest_in(at("2026-11-23T10:00:00Z"), at("2026-11-23T10:56:48Z"), TimeZone{}) ==
          std::nullopt);
    CHECK(e.latest_in(at("2026-11-23T09:59:59.999999Z"), at("2026-11-23T10:56:48Z"), TimeZone{}) ==
          at("2026-11-23T10:00:00Z"));
}

TEST_CASE("latest_in of an empty or backwards window is nothing") {
    const CronExpression e = cron("* * * * * *");
    CHECK(e.latest_in(at("2026-11-23T10:00:00Z"), at("2026-11-23T10:00:00Z"), TimeZone{}) ==
          std::nullopt);
    CHECK(e.latest_in(at("2026-11-23T11:00:00Z"), at("2026-11-23T10:00:00Z"), TimeZone{}) ==
          std::nullopt);
}

TEST_CASE("latest_in finds a fire years back") {
    CHECK(cron("0 0 29 2 *").latest_in(Timestamp{}, at("2026-11-23T10:56:48Z"), TimeZone{}) ==
          at("2024-02-29T00:00:00Z"));
    CHECK(cron("0 0 1 1 *").latest_in(Timestamp::min(), at("2026-11-23T10:56:48Z"), TimeZone{}) ==
          at("2026-01-01T00:00:00Z"));
}

TEST_CASE("latest_in finds the newest of a dense run of fires far back without walking it") {
    // Every second of January: 2.7 million fires in the window that holds the newest.
    CHECK(cron("* * * * 1 *").latest_in(Timestamp{}, at("2026-11-23T10:56:48Z"), berlin()) ==
          at("2026-01-31T22:59:59Z"));
}

TEST_CASE("latest_in follows the DST rules: the repeated hour fires at its first occurrence") {
    CHECK(cron("30 2 * * *")
              .latest_in(at("2026-10-24T12:00:00Z"), at("2026-10-25T02:00:00Z"), berlin()) ==
          at("2026-10-25T00:30:00Z"));
    CHECK(cron("30 2 * * *")
              .latest_in(at("2026-03-28T12:00:00Z"), at("2026-03-29T02:00:00Z"), berlin()) ==
          at("2026-03-29T01:00:00Z"));
}

// --- count_in ---

TEST_CASE("count_in counts the fires after the start up to and including the end") {
    CHECK(cron("0 * * * *")
              .count_in(at("2026-11-23T00:00:00Z"), at("2026-11-23T10:00:00Z"), TimeZone{}, 100) ==
          10);
}

TEST_CASE("count_in stops at its cap") {
    CHECK(cron("* * * * * *")
              .count_in(at("2026-11-23T00:00:00Z"), at("2026-11-24T00:00:00Z"), TimeZone{}, 1000) ==
          1000);
}

TEST_CASE("count_in of an empty window or a cap of zero is zero") {
    const CronExpression e = cron("* * * * * *");
    CHECK(e.count_in(at("2026-11-23T00:00:00Z"), at("2026-11-23T00:00:00Z"), TimeZone{}, 10) == 0);
    CHECK(e.count_in(at("2026-11-23T00:00:01Z"), at("2026-11-23T00:00:00Z"), TimeZone{}, 10) == 0);
    CHECK(e.count_in(at("2026-11-23T00:00:00Z"), at("2026-11-24T00:00:00Z"), TimeZone{}, 0) == 0);
}

TEST_CASE("count_in counts a daily time once on both DST change days") {
    const CronExpression e = cron("30 2 * * *");
    CHECK(e.count_in(at("2026-03-01T00:00:00Z"), at("2026-04-01T00:00:00Z"), berlin(), 100) == 31);
    CHECK(e.count_in(at("2026-10-01T00:00:00Z"), at("2026-11-01T00:00:00Z"), berlin(), 100) == 31);
}

TEST_CASE("count_in counts an hourly schedule 23 times on the short day and 24 on the long one") {
    const CronExpression e = cron("0 * * * *");
    // Midnight to midnight local time, the first midnight excluded.
    CHECK(e.count_in(at("2026-03-28T23:00:00Z"), at("2026-03-29T22:00:00Z"), berlin(), 100) == 23);
    CHECK(e.count_in(at("2026-10-24T22:00:00Z"), at("2026-10-25T23:00:00Z"), berlin(), 100) == 24);
}

TEST_SUITE_END();

TEST_CASE("an expression longer than 4096 bytes is refused by its length, not quoted whole") {
    const std::string huge = "0 0 * * " + std::string(5000, '1');
    const auto r = rejection_of([&] { CronExpression::parse(huge); });
    REQUIRE(r);
    CHECK(r->field == "expression");
    CHECK(r->message == "expression: must be at most 4096 bytes (got 5008)");
    // Every second, minute and hour listed one by one still fits.
    std::string all;
    for (int i = 0; i < 60; ++i) all += (i ? "," : "") + std::to_string(i);
    std::string hours;
    for (int i = 0; i < 24; ++i) hours += (i ? "," : "") + std::to_string(i);
    CHECK_NOTHROW(CronExpression::parse(all + " " + all + " " + hours + " * * *"));
}
