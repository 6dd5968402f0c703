// Fuzzes CronExpression::parse and the next-fire maths behind it. The input is
// "EXPRESSION[\nZONE]": the first line is the cron expression, the rest (if any) an IANA zone
// name for TimeZone::locate. Only jobq::Error may come out; a parsed expression must also agree
// with itself (the next fire is after the start, matches the expression, and is what count_in
// and latest_in find).

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "jobq/cron_expression.hpp"
#include "jobq/error.hpp"
#include "jobq/time_zone.hpp"

namespace {

using namespace std::chrono;

[[noreturn]] void fail(const char* property, std::string_view expression, std::string_view zone) {
    std::fprintf(stderr, "fuzz_cron_expression: %s\n  expression: \"%.*s\"\n  zone: \"%.*s\"\n",
                 property, static_cast<int>(expression.size()), expression.data(),
                 static_cast<int>(zone.size()), zone.data());
    __builtin_trap();
}

// Starts for the search: an ordinary instant with a fraction, one just before the EU's
// spring-forward change, one near the end of the years cron searches (where it must throw
// jobq::Error rather than overflow), and one before the epoch.
const jobq::Timestamp starts[] = {
    jobq::Timestamp{sys_days{2026y / November / 23} + 10h + 56min + 48s + 500ms},
    jobq::Timestamp{sys_days{2026y / March / 29} + 0h + 59min + 59s},
    jobq::Timestamp{sys_days{year{29999} / December / 31} + 23h},
    jobq::Timestamp{sys_days{1969y / December / 31} + 23h + 59min + 59s + 999999us},
};

void check_fires(const jobq::CronExpression& e, const jobq::TimeZone& zone,
                 std::string_view text, std::string_view zone_name) {
    for (const jobq::Timestamp after : starts) {
        try {
            const jobq::Timestamp next = e.next_after(after, zone);
            if (next <= after) fail("next_after is not after its start", text, zone_name);
            if (zone == jobq::TimeZone{} && !e.matches(zone.to_local(next))) {
                fail("next_after in UTC does not match the expression", text, zone_name);
            }
            if (e.count_in(after, next, zone, 3) != 1) {
                fail("count_in(after, next_after(after)) is not 1", text, zone_name);
            }
            if (e.latest_in(after, next, zone) != next) {
                fail("latest_in(after, next_after(after)) is not next_after(after)", text,
                     zone_name);
            }
        } catch (const jobq::Error&) {
            // The far start may leave the years cron searches; that is refused, not a crash.
        }
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    const std::size_t newline = input.find('\n');
    const std::string_view text = input.substr(0, newline);
    const std::string_view zone_name =
        newline == std::string_view::npos ? std::string_view{} : input.substr(newline + 1);

    jobq::TimeZone zone;
    if (newline != std::string_view::npos) {
        try {
            zone = jobq::TimeZone::locate(zone_name);
        } catch (const jobq::Error&) {
            // Not a zone: the expression is still worth trying, in UTC.
        }
    }
    try {
        const jobq::CronExpression e = jobq::CronExpression::parse(text);
        if (e.text() != text) fail("text() is not the parsed text", text, zone_name);
        check_fires(e, zone, text, zone_name);
        if (!(zone == jobq::TimeZone{})) check_fires(e, jobq::TimeZone{}, text, zone_name);
    } catch (const jobq::Error&) {
    }
    return 0;
}
