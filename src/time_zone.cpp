#include "jobq/time_zone.hpp"

#include <stdexcept>
#include <string>

#include <date/tz.h>
#include <fmt/format.h>

#include "jobq/error.hpp"

namespace jobq {

namespace {

using std::chrono::days;
using std::chrono::floor;
using std::chrono::hh_mm_ss;
using std::chrono::minutes;
using std::chrono::seconds;

// date::local_time has its own clock tag, distinct from std::chrono::local_t, so local times
// cross between the two by their count.
date::local_seconds to_date(LocalSeconds local) {
    return date::local_seconds{local.time_since_epoch()};
}

}  // namespace

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
    zone.name_ = std::string(name);
    return zone;
}

LocalSeconds TimeZone::to_local(Timestamp t) const {
    const auto s = floor<seconds>(t);
    if (zone_ == nullptr) return LocalSeconds{s.time_since_epoch()};
    return LocalSeconds{(s + zone_->get_info(s).offset).time_since_epoch()};
}

Timestamp TimeZone::to_instant(LocalSeconds local) const {
    if (zone_ == nullptr) return Timestamp{local.time_since_epoch()};
    const date::local_info info = zone_->get_info(to_date(local));
    if (info.result == date::local_info::nonexistent) return info.second.begin;
    // For a repeated time, `first` is the period before the fall-back: its first occurrence.
    return Timestamp{local.time_since_epoch() - info.first.offset};
}

std::string TimeZone::format(Timestamp t) const {
    const seconds offset = zone_ == nullptr ? seconds{0} : zone_->get_info(t).offset;
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
