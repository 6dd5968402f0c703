#include "jobq/time_format.hpp"

#include <cctype>
#include <charconv>
#include <string>

#include <fmt/format.h>

#include "jobq/error.hpp"

namespace jobq {

namespace {

using namespace std::chrono;

[[noreturn]] void bad(std::string_view field, std::string_view text, std::string_view expected) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("{}: cannot read '{}' ({})", field, text, expected),
                std::string(field));
}

// Reads exactly `n` digits at `pos`; false when they are not there.
bool read_digits(std::string_view s, std::size_t& pos, std::size_t n, int& out) {
    if (pos + n > s.size()) return false;
    out = 0;
    for (std::size_t i = 0; i < n; ++i) {
        const char c = s[pos + i];
        if (!std::isdigit(static_cast<unsigned char>(c))) return false;
        out = out * 10 + (c - '0');
    }
    pos += n;
    return true;
}

}  // namespace

std::string format_timestamp(Timestamp t) {
    const auto day = floor<days>(t);
    const year_month_day ymd{day};
    const hh_mm_ss<Duration> hms{t - day};
    return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z", static_cast<int>(ymd.year()),
                       static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                       hms.hours().count(), hms.minutes().count(), hms.seconds().count(),
                       hms.subseconds().count());
}

Timestamp parse_timestamp(std::string_view text, std::string_view field) {
    constexpr std::string_view expected = "expected ISO 8601 like 2026-11-23T10:56:00Z";
    std::size_t pos = 0;
    int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
    auto expect = [&](char c) {
        if (pos >= text.size() || text[pos] != c) bad(field, text, expected);
        ++pos;
    };
    if (!read_digits(text, pos, 4, y)) bad(field, text, expected);
    expect('-');
    if (!read_digits(text, pos, 2, mo)) bad(field, text, expected);
    expect('-');
    if (!read_digits(text, pos, 2, d)) bad(field, text, expected);
    const year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)},
                             day{static_cast<unsigned>(d)}};
    if (!ymd.ok()) bad(field, text, "no such date");
    Duration time_of_day{0};
    Duration offset{0};
    if (pos < text.size()) {
        if (text[pos] != 'T' && text[pos] != 't' && text[pos] != ' ') bad(field, text, expected);
        ++pos;
        if (!read_digits(text, pos, 2, h)) bad(field, text, expected);
        expect(':');
        if (!read_digits(text, pos, 2, mi)) bad(field, text, expected);
        if (pos < text.size() && text[pos] == ':') {
            ++pos;
            if (!read_digits(text, pos, 2, sec)) bad(field, text, expected);
        }
        if (h > 23 || mi > 59 || sec > 60) bad(field, text, "no such time of day");
        time_of_day = hours{h} + minutes{mi} + seconds{sec};
        if (pos < text.size() && (text[pos] == '.' || text[pos] == ',')) {
            ++pos;
            Duration::rep frac = 0;
            int digits = 0;
            while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos]))) {
                if (digits < 6) frac = frac * 10 + (text[pos] - '0'), ++digits;
                ++pos;
            }
            if (digits == 0) bad(field, text, expected);
            while (digits < 6) frac *= 10, ++digits;
            time_of_day += Duration{frac};
        }
        if (pos >= text.size()) bad(field, text, "a time needs a zone: Z or an offset like +02:00");
        if (text[pos] == 'Z' || text[pos] == 'z') {
            ++pos;
        } else if (text[pos] == '+' || text[pos] == '-') {
            const int sign = text[pos] == '-' ? -1 : 1;
            ++pos;
            int oh = 0, om = 0;
            if (!read_digits(text, pos, 2, oh)) bad(field, text, expected);
            if (pos < text.size() && text[pos] == ':') ++pos;
            if (!read_digits(text, pos, 2, om)) bad(field, text, expected);
            if (oh > 23 || om > 59) bad(field, text, "no such offset");
            offset = sign * (hours{oh} + minutes{om});
        } else {
            bad(field, text, expected);
        }
    }
    if (pos != text.size()) bad(field, text, expected);
    const Timestamp t = Timestamp{sys_days{ymd}.time_since_epoch()} + time_of_day - offset;
    // format_timestamp writes four-digit years in UTC: an offset or a leap second that carries
    // the instant out of them would give a time that cannot be written back.
    constexpr Timestamp earliest{sys_days{year{0} / January / 1}};
    constexpr Timestamp latest{sys_days{year{9999} / December / 31} + days{1} - Duration{1}};
    if (t < earliest || t > latest) bad(field, text, "out of range: years 0000 to 9999 in UTC");
    return t;
}

Duration parse_duration(std::string_view text, std::string_view field) {
    constexpr std::string_view expected = "expected a duration like 500ms, 90s, 10m, 1h30m, 2d";
    if (text.empty()) bad(field, text, expected);
    if (text.find('-') != std::string_view::npos) {
        throw Error(ErrorCode::invalid_argument,
                    fmt::format("{}: must not be negative (got '{}')", field, text),
                    std::string(field));
    }
    Duration total{0};
    std::size_t pos = 0;
    while (pos < text.size()) {
        Duration::rep n = 0;
        auto [end, ec] = std::from_chars(text.data() + pos, text.data() + text.size(), n);
        if (ec != std::errc{} || end == text.data() + pos) bad(field, text, expected);
        pos = static_cast<std::size_t>(end - text.data());
        std::size_t unit_end = pos;
        while (unit_end < text.size() && std::isalpha(static_cast<unsigned char>(text[unit_end])))
            ++unit_end;
        const std::string_view unit = text.substr(pos, unit_end - pos);
        pos = unit_end;
        Duration::rep unit_us = 0;
        if (unit == "us")
            unit_us = 1;
        else if (unit == "ms")
            unit_us = 1'000;
        else if (unit == "s")
            unit_us = 1'000'000;
        else if (unit == "m")
            unit_us = 60'000'000;
        else if (unit == "h")
            unit_us = 3'600'000'000;
        else if (unit == "d")
            unit_us = 86'400'000'000;
        else
            bad(field, text,
                unit.empty() ? "every number needs a unit: us, ms, s, m, h or d"
                             : "unknown unit; use us, ms, s, m, h or d");
        // Checked before multiplying: signed overflow would be undefined behaviour.
        const Duration::rep max = Duration::max().count();
        if (n > max / unit_us || total.count() > max - n * unit_us)
            bad(field, text, "too large to represent");
        total += Duration{n * unit_us};
    }
    return total;
}

std::string format_duration(Duration d) {
    // -Duration::min() does not exist: say it in microseconds rather than overflow.
    if (d == Duration::min()) return fmt::format("{}us", d.count());
    if (d < Duration::zero()) return fmt::format("-{}", format_duration(-d));
    if (d == Duration::zero()) return "0s";
    if (d < milliseconds{1}) return fmt::format("{}us", d.count());
    if (d < seconds{1}) {
        const auto ms = duration_cast<milliseconds>(d);
        if (ms == d) return fmt::format("{}ms", ms.count());
        // Three significant digits, but from 999.5ms on "{:.3g}" would write "1e+03": that
        // rounds to a second.
        if (d >= microseconds{999'500}) return "1s";
        return fmt::format("{:.3g}ms", static_cast<double>(d.count()) / 1000.0);
    }
    std::string out;
    auto take = [&](auto unit, const char* suffix) {
        const auto n = duration_cast<decltype(unit)>(d);
        if (n.count() > 0) {
            out += fmt::format("{}{}", n.count(), suffix);
            d -= n;
        }
    };
    take(days{1}, "d");
    take(hours{1}, "h");
    take(minutes{1}, "m");
    take(seconds{1}, "s");
    take(milliseconds{1}, "ms");
    take(microseconds{1}, "us");
    return out;
}

}  // namespace jobq
