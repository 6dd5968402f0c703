// Fuzzes the text forms of durations and timestamps. Only jobq::Error may come out of the
// parsers, and what they accept must survive a round trip through the formatters:
//   parse_timestamp(format_timestamp(parse_timestamp(x))) == parse_timestamp(x)
//   parse_duration(format_duration(parse_duration(x))) == parse_duration(x)
// except that format_duration writes a sub-second duration that is not a whole number of
// milliseconds to three significant digits ("1.5ms", by design neither exact nor parseable);
// that form must still be a plain number of milliseconds, within rounding of the duration.
// The first 8 bytes, read as a count of microseconds, also go through format_duration, which
// must take any Duration.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include "jobq/error.hpp"
#include "jobq/time_format.hpp"

namespace {

using namespace std::chrono;

[[noreturn]] void fail(const char* property, std::string_view input, std::string_view formatted) {
    std::fprintf(stderr, "fuzz_time_format: %s\n  input: \"%.*s\"\n  formatted: \"%.*s\"\n",
                 property, static_cast<int>(input.size()), input.data(),
                 static_cast<int>(formatted.size()), formatted.data());
    __builtin_trap();
}

// What format_duration's short form for [1ms, 1s) says, in microseconds: a decimal number of
// milliseconds ("1.5ms"), or a duration parse_duration reads ("1s"); nullopt for anything else.
std::optional<double> short_form_us(std::string_view s) {
    if (s.ends_with("ms") && s.size() > 2) {
        const std::string_view number = s.substr(0, s.size() - 2);
        bool dot = false;
        for (const char c : number) {
            if (c == '.' && !dot) {
                dot = true;
            } else if (c < '0' || c > '9') {
                return std::nullopt;
            }
        }
        if (number.front() == '.' || number.back() == '.') return std::nullopt;
        return std::strtod(std::string(number).c_str(), nullptr) * 1000.0;
    }
    try {
        return static_cast<double>(jobq::parse_duration(s).count());
    } catch (const jobq::Error&) {
        return std::nullopt;
    }
}

void round_trip_duration(jobq::Duration d, std::string_view input) {
    const std::string text = jobq::format_duration(d);
    if (d < jobq::Duration::zero()) return;  // parse_duration refuses negatives by design
    const bool exact = d < 1ms || d >= 1s || d % 1ms == jobq::Duration::zero();
    if (!exact) {
        // Three significant digits: off by at most half a unit in the third digit.
        const std::optional<double> us = short_form_us(text);
        if (!us) fail("format_duration's short form is not a number of ms", input, text);
        const double wanted = static_cast<double>(d.count());
        if (std::abs(*us - wanted) > 0.005 * wanted) {
            fail("format_duration's short form is off by more than rounding", input, text);
        }
        return;
    }
    try {
        if (jobq::parse_duration(text) != d) fail("duration round trip changed the value", input, text);
    } catch (const jobq::Error&) {
        fail("parse_duration refused what format_duration wrote", input, text);
    }
}

void round_trip_timestamp(jobq::Timestamp t, std::string_view input) {
    const std::string text = jobq::format_timestamp(t);
    try {
        if (jobq::parse_timestamp(text) != t) fail("timestamp round trip changed the value", input, text);
    } catch (const jobq::Error&) {
        fail("parse_timestamp refused what format_timestamp wrote", input, text);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    try {
        round_trip_duration(jobq::parse_duration(input), input);
    } catch (const jobq::Error&) {
    }
    try {
        round_trip_timestamp(jobq::parse_timestamp(input), input);
    } catch (const jobq::Error&) {
    }
    if (size >= sizeof(std::int64_t)) {
        std::int64_t us = 0;
        std::memcpy(&us, data, sizeof us);
        round_trip_duration(jobq::Duration{us}, "(first 8 bytes as microseconds)");
    }
    return 0;
}
