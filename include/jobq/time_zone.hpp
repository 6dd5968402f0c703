#pragma once
// TimeZone: an IANA time zone ("Europe/Berlin") from the system's tz database, through
// Howard Hinnant's date/tz. Cron schedules read wall-clock time in one of these.

#include <string>
#include <string_view>

#include "jobq/clock.hpp"

namespace date {
class time_zone;
}

namespace jobq {

/// A wall-clock time without a zone, at second precision: what a cron field matches against.
using LocalSeconds = std::chrono::local_time<std::chrono::seconds>;

/// A handle to an IANA time zone. Cheap to copy; the zone data lives for the whole process.
class TimeZone {
  public:
    /// UTC.
    TimeZone();

    /// The zone named `name` ("UTC", "Europe/Berlin", "America/New_York"). Throws
    /// Error(invalid_argument) naming `field` when the name is empty or not a known zone.
    static TimeZone locate(std::string_view name, std::string_view field = "zone");

    /// The IANA name, as given to locate().
    const std::string& name() const noexcept { return name_; }

    /// The wall-clock time at instant `t`, truncated to the second.
    LocalSeconds to_local(Timestamp t) const;

    /// The instant a wall-clock time names, by jobq's cron rules: a time that does not exist
    /// (in a spring-forward gap) maps to the first instant after the gap; a time that exists
    /// twice (in a repeated fall-back hour) maps to its first occurrence.
    Timestamp to_instant(LocalSeconds local) const;

    /// ISO 8601 with this zone's offset at `t`, at second precision when `t` has no fraction:
    /// "2026-03-29T03:00:00+02:00"; UTC is written with "+00:00".
    std::string format(Timestamp t) const;

    friend bool operator==(const TimeZone& a, const TimeZone& b) noexcept {
        return a.zone_ == b.zone_;
    }

  private:
    /// The zone's POSIX TZ rule (the footer of its TZif file), which date/tz ignores: it answers
    /// from the zone's last listed transition on, where date/tz would keep the last offset
    /// forever. Defined in time_zone.cpp.
    struct Rule;

    /// The rule for `zone`, read once per zone and kept for the process; nullptr when none.
    static const Rule* rule_for(const date::time_zone& zone);

    /// The zone's UTC offset at `t`.
    std::chrono::seconds offset_at(Timestamp t) const;

    std::string name_;
    const date::time_zone* zone_ = nullptr;  ///< nullptr: UTC without touching the tz database
    const Rule* rule_ = nullptr;  ///< nullptr: no daylight-saving rule after the last transition
};

}  // namespace jobq
