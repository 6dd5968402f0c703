#pragma once
// CronExpression: a parsed cron expression and its next-fire maths. Pure: no I/O and no clock;
// the time to search from is always a parameter.
//
// Syntax (fields separated by blanks):
//   5 fields: minute hour day-of-month month day-of-week
//   6 fields: second minute hour day-of-month month day-of-week
//   each field: a list of items separated by ',', each item one of
//     *            every value
//     N            one value (months also JAN..DEC, weekdays SUN..SAT, case-insensitive)
//     N-M          a range (MON-FRI)
//     */S  N-M/S  N/S   every S-th value from the start of the range (N/S runs to the field's max)
//   day-of-month also: L (the last day of the month); '?' means the same as '*'
//   day-of-week also:  N#K (the K-th weekday N of the month, K 1..5); 0 and 7 are both Sunday;
//                      '?' means the same as '*'
//   macros: @yearly @annually @monthly @weekly @daily @midnight @hourly
// When both day-of-month and day-of-week are restricted (neither starts with '*' or '?'), a
// day matches if either field matches, as in classic cron.

#include <bitset>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "jobq/clock.hpp"
#include "jobq/time_zone.hpp"

namespace jobq {

/// A validated cron expression. A value type.
class CronExpression {
  public:
    /// Parses `text`. Throws Error(invalid_argument, field "expression") with a message naming
    /// the cron field, the 1-based character position in `text` and the reason, e.g.
    ///   minute: 61 is out of range 0-59 (position 3 in "0 61 * * * *")
    /// An expression that can never fire (day-of-month 30 in FEB only) is rejected too.
    static CronExpression parse(std::string_view text);

    /// The text it was parsed from.
    const std::string& text() const noexcept { return text_; }

    /// Whether a wall-clock time matches every field.
    bool matches(LocalSeconds local) const;

    /// The first matching wall-clock time strictly after `local`. Always found for a parsed
    /// expression (the calendar repeats every 400 years, and parse() checked one exists).
    LocalSeconds next_local(LocalSeconds local) const;

    /// The first fire instant strictly after `after` in `zone`, by TimeZone::to_instant's DST
    /// rules: a wall-clock time in a spring-forward gap fires once, at the first instant after
    /// the gap; one in a repeated fall-back hour fires once, at its first occurrence.
    Timestamp next_after(Timestamp after, const TimeZone& zone) const;

    /// The newest fire instant in (not_before, at], or nullopt when there is none.
    std::optional<Timestamp> latest_in(Timestamp not_before, Timestamp at,
                                       const TimeZone& zone) const;

    /// How many fire instants lie in (after, until], counting at most `cap` (returns cap when
    /// there are at least that many).
    std::int64_t count_in(Timestamp after, Timestamp until, const TimeZone& zone,
                          std::int64_t cap) const;

    friend bool operator==(const CronExpression& a, const CronExpression& b) noexcept {
        return a.text_ == b.text_;
    }

  private:
    CronExpression() = default;

    std::string text_;
    std::bitset<60> seconds_;
    std::bitset<60> minutes_;
    std::bitset<24> hours_;
    std::bitset<32> days_;              ///< day-of-month 1..31
    bool last_day_ = false;             ///< L: the last day of the month
    std::bitset<13> months_;            ///< 1..12
    std::bitset<7> weekdays_;           ///< 0 (Sunday) .. 6
    std::bitset<40> nth_weekdays_;      ///< N#K at bit (K-1)*7 + N, K 1..5
    bool days_restricted_ = false;      ///< day-of-month did not start with '*' or '?'
    bool weekdays_restricted_ = false;  ///< day-of-week did not start with '*' or '?'
};

}  // namespace jobq
