#include "jobq/time_zone.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>

#include <date/tz.h>
#include <fmt/format.h>

#include "jobq/error.hpp"

namespace jobq {

namespace {

using std::chrono::days;
using std::chrono::floor;
using std::chrono::hh_mm_ss;
using std::chrono::hours;
using std::chrono::local_days;
using std::chrono::minutes;
using std::chrono::seconds;
using std::chrono::sys_days;
using std::chrono::sys_seconds;
using std::chrono::year;
using std::chrono::year_month_day;
using std::chrono::years;

// date::local_time has its own clock tag, distinct from std::chrono::local_t, so local times
// cross between the two by their count.
date::local_seconds to_date(LocalSeconds local) {
    return date::local_seconds{local.time_since_epoch()};
}

// --- POSIX TZ rules ------------------------------------------------------------------------
//
// With the OS tz database, date/tz reads only the transitions a TZif file lists, which end in
// 2037 (or earlier, in "slim" files), and ignores the POSIX TZ string in the file's footer
// (RFC 8536, section 3.3) that continues them: "CET-1CEST,M3.5.0,M10.5.0/3". Without it every
// zone would keep its last listed offset forever (HowardHinnant/date#794). date's own ptz.h
// (3.0.1) does not compile as C++20 (its hh_mm_ss is ambiguous with std::chrono's) and rejects
// negative change times (America/Nuuk: "M3.5.0/-1"), so the footer is evaluated here.

// The day and wall-clock time of one daylight-saving change in a year: "Jn" (1-365, never
// counting February 29), "n" (0-365) or "Mm.w.d" (weekday d of week w of month m; week 5 is
// the last), and "/time" in the offset in effect before the change, which RFC 8536 lets be
// negative or beyond 24 hours.
struct ChangeDay {
    enum class Kind { julian, zero_based, month_week_day };
    Kind kind = Kind::month_week_day;
    unsigned day = 0;
    unsigned month = 1;
    unsigned week = 1;
    unsigned weekday = 0;
    seconds time = hours{2};

    LocalSeconds in(year y) const {
        using std::chrono::January;
        local_days d;
        switch (kind) {
            case Kind::julian:
                d = local_days{y / January / 1} + days{day - 1};
                if (y.is_leap() && day >= 60) d += days{1};
                break;
            case Kind::zero_based:
                d = local_days{y / January / 1} + days{day};
                break;
            case Kind::month_week_day: {
                const std::chrono::weekday wd{weekday};
                const std::chrono::month m{month};
                d = week == 5 ? local_days{y / m / wd[std::chrono::last]}
                              : local_days{y / m / wd[week]};
                break;
            }
        }
        return LocalSeconds{d.time_since_epoch() + time};
    }
};

// A change of offset at an instant.
struct Change {
    sys_seconds at;
    seconds before;
    seconds after;
};

// The Gregorian calendar, weekdays included, repeats every 400 years (146097 days, 20871
// weeks), so a rule answers for any instant as for the same instant in 2000-2399. This keeps
// years in the range of std::chrono::year for any Timestamp.
days cycle_shift(days since_epoch) {
    constexpr std::int64_t cycle = 146097;
    constexpr days y2000 = sys_days{year{2000} / 1 / 1}.time_since_epoch();
    const std::int64_t from_2000 = (since_epoch - y2000).count();
    std::int64_t n = from_2000 / cycle;
    if (from_2000 % cycle < 0) --n;
    return days{n * cycle};
}

// A POSIX TZ string with daylight-saving time.
struct PosixTz {
    seconds std_offset{0};  ///< east of UTC, unlike in the string
    seconds dst_offset{0};
    ChangeDay start;  ///< into daylight-saving time, in standard time
    ChangeDay end;    ///< out of it, in daylight-saving time

    // The changes of the years around `y`, in order.
    std::array<Change, 6> changes_around(year y) const {
        std::array<Change, 6> out;
        std::size_t n = 0;
        for (year each = y - years{1}; each <= y + years{1}; ++each) {
            out[n++] = {sys_seconds{end.in(each).time_since_epoch() - dst_offset}, dst_offset,
                        std_offset};
            out[n++] = {sys_seconds{start.in(each).time_since_epoch() - std_offset}, std_offset,
                        dst_offset};
        }
        std::stable_sort(out.begin(), out.end(),
                         [](const Change& a, const Change& b) { return a.at < b.at; });
        return out;
    }

    seconds offset_at(sys_seconds t) const {
        const sys_seconds u = t - cycle_shift(floor<days>(t.time_since_epoch()));
        const auto changes = changes_around(year_month_day{floor<days>(u)}.year());
        seconds offset = changes.front().before;
        for (const Change& c : changes) {
            if (c.at <= u) offset = c.after;
        }
        return offset;
    }

    // By TimeZone::to_instant's rules.
    sys_seconds to_instant(LocalSeconds local) const {
        const days shift = cycle_shift(floor<days>(local.time_since_epoch()));
        const seconds l = (local - shift).time_since_epoch();
        // The wall-clock time names each instant `l - offset` that has that offset; of two, the
        // one with the larger offset is the first occurrence.
        for (const seconds offset :
             {std::max(std_offset, dst_offset), std::min(std_offset, dst_offset)}) {
            const sys_seconds s{l - offset};
            if (offset_at(s) == offset) return s + shift;
        }
        // None: the time is in a spring-forward gap, and the first instant after it is the change.
        for (const Change& c : changes_around(year_month_day{sys_days{floor<days>(l)}}.year())) {
            const seconds at = c.at.time_since_epoch();
            if (at + c.before <= l && l < at + c.after) return c.at + shift;
        }
        return sys_seconds{l - std_offset} + shift;  // not reached with a consistent rule
    }
};

bool eat(std::string_view& s, char c) {
    if (s.empty() || s.front() != c) return false;
    s.remove_prefix(1);
    return true;
}

// An abbreviation: "<+03>" or three or more letters.
bool skip_abbreviation(std::string_view& s) {
    if (eat(s, '<')) {
        const auto close = s.find('>');
        if (close == std::string_view::npos || close == 0) return false;
        s.remove_prefix(close + 1);
        return true;
    }
    std::size_t n = 0;
    while (n < s.size() && std::isalpha(static_cast<unsigned char>(s[n])) != 0) ++n;
    if (n < 3) return false;
    s.remove_prefix(n);
    return true;
}

std::optional<unsigned> number(std::string_view& s, std::size_t max_digits) {
    std::size_t n = 0;
    unsigned value = 0;
    while (n < s.size() && n < max_digits && std::isdigit(static_cast<unsigned char>(s[n])) != 0) {
        value = value * 10 + static_cast<unsigned>(s[n] - '0');
        ++n;
    }
    if (n == 0) return std::nullopt;
    s.remove_prefix(n);
    return value;
}

// [+|-]h[h[h]][:mm[:ss]], at most `max_hours` hours.
std::optional<seconds> signed_time(std::string_view& s, unsigned max_hours) {
    const bool negative = eat(s, '-');
    if (!negative) eat(s, '+');
    const auto h = number(s, 3);
    if (!h || *h > max_hours) return std::nullopt;
    seconds t = hours{*h};
    if (eat(s, ':')) {
        const auto m = number(s, 2);
        if (!m || *m > 59) return std::nullopt;
        t += minutes{*m};
        if (eat(s, ':')) {
            const auto sec = number(s, 2);
            if (!sec || *sec > 59) return std::nullopt;
            t += seconds{*sec};
        }
    }
    return negative ? -t : t;
}

std::optional<ChangeDay> change_day(std::string_view& s) {
    ChangeDay d;
    if (eat(s, 'J')) {
        const auto n = number(s, 3);
        if (!n || *n < 1 || *n > 365) return std::nullopt;
        d.kind = ChangeDay::Kind::julian;
        d.day = *n;
    } else if (eat(s, 'M')) {
        const auto m = number(s, 2);
        if (!m || *m < 1 || *m > 12 || !eat(s, '.')) return std::nullopt;
        const auto w = number(s, 1);
        if (!w || *w < 1 || *w > 5 || !eat(s, '.')) return std::nullopt;
        const auto wd = number(s, 1);
        if (!wd || *wd > 6) return std::nullopt;
        d.kind = ChangeDay::Kind::month_week_day;
        d.month = *m;
        d.week = *w;
        d.weekday = *wd;
    } else {
        const auto n = number(s, 3);
        if (!n || *n > 365) return std::nullopt;
        d.kind = ChangeDay::Kind::zero_based;
        d.day = *n;
    }
    if (eat(s, '/')) {
        const auto t = signed_time(s, 167);
        if (!t) return std::nullopt;
        d.time = *t;
    }
    return d;
}

// The daylight-saving rule of a POSIX TZ string, or nullopt when it has none ("JST-9") or does
// not parse.
std::optional<PosixTz> parse_posix_tz(std::string_view s) {
    PosixTz tz;
    if (!skip_abbreviation(s)) return std::nullopt;
    const auto std_west = signed_time(s, 24);
    if (!std_west) return std::nullopt;
    tz.std_offset = -*std_west;
    if (s.empty() || !skip_abbreviation(s)) return std::nullopt;
    tz.dst_offset = tz.std_offset + hours{1};
    if (!s.empty() && s.front() != ',') {
        const auto dst_west = signed_time(s, 24);
        if (!dst_west) return std::nullopt;
        tz.dst_offset = -*dst_west;
    }
    // Without dates POSIX leaves the changes to the implementation; TZif footers always give them.
    if (!eat(s, ',')) return std::nullopt;
    const auto start = change_day(s);
    if (!start || !eat(s, ',')) return std::nullopt;
    const auto end = change_day(s);
    if (!end || !s.empty()) return std::nullopt;
    tz.start = *start;
    tz.end = *end;
    return tz;
}

// Where date/tz reads zones from with USE_OS_TZDB (its discover_tz_dir(), which does not look
// at TZDIR): buildroot's uclibc directory when there is one, else /usr/share/zoneinfo.
const std::string& zoneinfo_dir() {
    static const std::string dir = [] {
        std::error_code ec;
        return std::string(std::filesystem::is_directory("/usr/share/zoneinfo/uclibc", ec)
                               ? "/usr/share/zoneinfo/uclibc"
                               : "/usr/share/zoneinfo");
    }();
    return dir;
}

// The TZ string in the footer of a TZif file of version 2 or later: the text between the last
// two newlines, which end the file. Empty when there is none or the file cannot be read.
std::string tzif_footer(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return {};
    const std::string data{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    if (data.size() < 6 || data.compare(0, 4, "TZif") != 0 || data[4] < '2' ||
        data.back() != '\n') {
        return {};
    }
    const auto open = data.rfind('\n', data.size() - 2);
    if (open == std::string::npos) return {};
    return data.substr(open + 1, data.size() - open - 2);
}

}  // namespace

struct TimeZone::Rule {
    PosixTz posix;
    /// The start of the zone's last listed period, which date/tz makes last forever: from here
    /// on the rule answers.
    sys_seconds since;
    /// The first wall-clock time from which on every wall-clock time names instants after
    /// `since` only (before it, date/tz also sees the change at `since`).
    LocalSeconds local_since;
};

const TimeZone::Rule* TimeZone::rule_for(const date::time_zone& zone) {
    static std::mutex mutex;
    // Zones live for the process, and so do their rules; std::map keeps them in place.
    static std::map<const date::time_zone*, std::optional<Rule>> rules;
    const std::lock_guard lock(mutex);
    const auto [it, added] = rules.try_emplace(&zone);
    if (added) {
        const auto posix = parse_posix_tz(tzif_footer(zoneinfo_dir() + '/' + zone.name()));
        const date::sys_info last = zone.get_info(sys_days{year::max() / 1 / 1});
        // A footer that disagrees with the last listed period is not trusted.
        if (posix && posix->offset_at(last.begin) == last.offset) {
            const seconds before = zone.get_info(last.begin - seconds{1}).offset;
            it->second =
                Rule{*posix, last.begin,
                     LocalSeconds{last.begin.time_since_epoch() + std::max(before, last.offset)}};
        }
    }
    return it->second ? &*it->second : nullptr;
}

TimeZone::TimeZone() : name_("UTC") {}

TimeZone TimeZone::locate(std::string_view name, std::string_view field) {
    if (name.empty()) {
        throw Error(ErrorCode::invalid_argument,
                    fmt::format("{}: must name a time zone, like \"Europe/Berlin\"", field),
                    std::string(field));
    }
    TimeZone zone;
    // UTC stays the null zone so that it compares equal to a default TimeZone and never loads
    // the tz database.
    if (name == "UTC") return zone;
    try {
        zone.zone_ = date::locate_zone(name);
    } catch (const std::runtime_error&) {
        throw Error(ErrorCode::invalid_argument,
                    fmt::format("{}: unknown time zone \"{}\"", field, name), std::string(field));
    }
    zone.rule_ = rule_for(*zone.zone_);
    zone.name_ = std::string(name);
    return zone;
}

seconds TimeZone::offset_at(Timestamp t) const {
    if (zone_ == nullptr) return seconds{0};
    const auto s = floor<seconds>(t);
    if (rule_ != nullptr && s >= rule_->since) return rule_->posix.offset_at(s);
    return zone_->get_info(s).offset;
}

LocalSeconds TimeZone::to_local(Timestamp t) const {
    const auto s = floor<seconds>(t);
    return LocalSeconds{(s + offset_at(t)).time_since_epoch()};
}

Timestamp TimeZone::to_instant(LocalSeconds local) const {
    if (zone_ == nullptr) return Timestamp{local.time_since_epoch()};
    if (rule_ != nullptr && local >= rule_->local_since) return rule_->posix.to_instant(local);
    const date::local_info info = zone_->get_info(to_date(local));
    if (info.result == date::local_info::nonexistent) return info.second.begin;
    // For a repeated time, `first` is the period before the fall-back: its first occurrence.
    return Timestamp{local.time_since_epoch() - info.first.offset};
}

std::string TimeZone::format(Timestamp t) const {
    const seconds offset = offset_at(t);
    const auto local = t.time_since_epoch() + offset;
    const auto day = floor<days>(local);
    const std::chrono::year_month_day ymd{std::chrono::sys_days{day}};
    const hh_mm_ss<Duration> hms{local - day};
    std::string out =
        fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", static_cast<int>(ymd.year()),
                    static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                    hms.hours().count(), hms.minutes().count(), hms.seconds().count());
    if (hms.subseconds().count() != 0) out += fmt::format(".{:06}", hms.subseconds().count());
    // ISO 8601 has no seconds in an offset; the few historical offsets with seconds (local mean
    // time before 1900) are written rounded toward zero to the minute.
    const auto offset_minutes = std::chrono::duration_cast<minutes>(offset).count();
    const auto magnitude = offset_minutes < 0 ? -offset_minutes : offset_minutes;
    out += fmt::format("{}{:02}:{:02}", offset_minutes < 0 ? '-' : '+', magnitude / 60,
                       magnitude % 60);
    return out;
}

}  // namespace jobq
