#include "jobq/cron_expression.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "jobq/error.hpp"

namespace jobq {

namespace {

using namespace std::chrono;

// The Gregorian calendar, weekdays included, repeats every 400 years (146097 days, a whole
// number of weeks): an expression that fires at all fires within any 400 years.
constexpr int cycle_years = 400;

// Searches stay well inside std::chrono::year's range (+-32767), leaving room for a cycle.
constexpr int earliest_year = -30000;
constexpr int latest_year = 30000;
constexpr local_days search_begin{year{earliest_year} / January / 1};
constexpr local_days search_end{year{latest_year + 1} / January / 1};

constexpr std::array<std::string_view, 12> month_names{"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                                       "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
constexpr std::array<std::string_view, 7> weekday_names{"SUN", "MON", "TUE", "WED",
                                                        "THU", "FRI", "SAT"};

enum class Kind { second, minute, hour, day_of_month, month, day_of_week };

struct FieldSpec {
    Kind kind;
    std::string_view name;
    int min;
    int max;
    std::span<const std::string_view> names;  ///< names[i] stands for min + i
};

constexpr FieldSpec second_field{Kind::second, "second", 0, 59, {}};
constexpr FieldSpec minute_field{Kind::minute, "minute", 0, 59, {}};
constexpr FieldSpec hour_field{Kind::hour, "hour", 0, 23, {}};
constexpr FieldSpec day_of_month_field{Kind::day_of_month, "day-of-month", 1, 31, {}};
constexpr FieldSpec month_field{Kind::month, "month", 1, 12, month_names};
// 7 is Sunday too; the names cover 0..6.
constexpr FieldSpec day_of_week_field{Kind::day_of_week, "day-of-week", 0, 7, weekday_names};

constexpr std::array<std::pair<std::string_view, std::string_view>, 7> macros{{
    {"@yearly", "0 0 1 1 *"},
    {"@annually", "0 0 1 1 *"},
    {"@monthly", "0 0 1 * *"},
    {"@weekly", "0 0 * * 0"},
    {"@daily", "0 0 * * *"},
    {"@midnight", "0 0 * * *"},
    {"@hourly", "0 * * * *"},
}};

bool is_blank(char c) {
    return std::isspace(static_cast<unsigned char>(c)) != 0;
}
bool is_digit(char c) {
    return std::isdigit(static_cast<unsigned char>(c)) != 0;
}
bool is_letter(char c) {
    return std::isalpha(static_cast<unsigned char>(c)) != 0;
}

std::string upper(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return out;
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

// [begin, end) of one piece of the text, as offsets, so errors can point into the original.
struct Span {
    std::size_t begin;
    std::size_t end;
};

std::vector<Span> split_fields(std::string_view text) {
    std::vector<Span> fields;
    std::size_t i = 0;
    while (i < text.size()) {
        while (i < text.size() && is_blank(text[i])) ++i;
        if (i == text.size()) break;
        const std::size_t begin = i;
        while (i < text.size() && !is_blank(text[i])) ++i;
        fields.push_back({begin, i});
    }
    return fields;
}

// Rejects `text`, blaming cron field `field` at offset `pos`.
[[noreturn]] void reject_at(std::string_view text, std::string_view field, std::size_t pos,
                            std::string_view why) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("{}: {} (position {} in \"{}\")", field, why, pos + 1, printable(text)),
                "expression");
}

// One field's values as bits (bit v for value v), before they are stored in the sized bitsets.
struct FieldValues {
    std::uint64_t values = 0;
    std::uint64_t nth_weekdays = 0;
    bool last_day = false;
};

// Reads the text of one field; every rejection names the field and points at the culprit.
class FieldParser {
  public:
    FieldParser(std::string_view text, const FieldSpec& spec) : text_(text), spec_(spec) {}

    FieldValues parse(Span field) {
        std::size_t begin = field.begin;
        for (std::size_t i = field.begin; i <= field.end; ++i) {
            if (i == field.end || text_[i] == ',') {
                item({begin, i});
                begin = i + 1;
            }
        }
        return out_;
    }

  private:
    [[noreturn]] void reject(std::size_t pos, std::string_view why) const {
        reject_at(text_, spec_.name, pos, why);
    }

    bool days_field() const {
        return spec_.kind == Kind::day_of_month || spec_.kind == Kind::day_of_week;
    }

    std::string unexpected(std::size_t pos) const {
        return fmt::format("unexpected \"{}\"", printable(text_.substr(pos, 1)));
    }

    // Digits at `i` (moved past them), saturating: the caller reports the text as written.
    std::optional<int> number(std::size_t& i, std::size_t end) const {
        if (i == end || !is_digit(text_[i])) return std::nullopt;
        int n = 0;
        for (; i < end && is_digit(text_[i]); ++i)
            n = std::min(n * 10 + (text_[i] - '0'), 1'000'000);
        return n;
    }

    // A number or a name at `i`, checked against the field's range; `i` moves past it.
    int value(std::size_t& i, std::size_t end) const {
        const std::size_t start = i;
        if (const std::optional<int> n = number(i, end)) {
            if (*n < spec_.min || *n > spec_.max) {
                reject(start, fmt::format("{} is out of range {}-{}",
                                          text_.substr(start, i - start), spec_.min, spec_.max));
            }
            return *n;
        }
        const char* expected = spec_.names.empty() ? "a number" : "a number or a name";
        if (i == end) reject(i, fmt::format("expected {}", expected));
        if (!is_letter(text_[i])) {
            reject(i,
                   fmt::format("expected {}, got \"{}\"", expected, printable(text_.substr(i, 1))));
        }
        while (i < end && is_letter(text_[i])) ++i;
        const std::string_view word = text_.substr(start, i - start);
        const std::string name = upper(word);
        if (name == "L") {
            reject(start, spec_.kind == Kind::day_of_month ? "L cannot be part of a range"
                                                           : "L is only allowed in day-of-month");
        }
        const auto found = std::find(spec_.names.begin(), spec_.names.end(), name);
        if (found != spec_.names.end()) {
            return spec_.min + static_cast<int>(found - spec_.names.begin());
        }
        if (spec_.names.empty()) {
            reject(start, fmt::format("expected a number, got \"{}\"", printable(word)));
        }
        reject(start, fmt::format("unknown name \"{}\" (expected {}-{})", printable(word),
                                  spec_.names.front(), spec_.names.back()));
    }

    void item(Span s) {
        if (s.begin == s.end) reject(s.begin, "empty list item");
        std::size_t i = s.begin;
        int first = spec_.min;
        int last = spec_.max;
        bool ranged = true;
        if (text_[i] == '*' || text_[i] == '?') {
            if (text_[i] == '?' && !days_field()) {
                reject(i, "? is only allowed in day-of-month and day-of-week");
            }
            ++i;
        } else if (spec_.kind == Kind::day_of_month && (text_[i] == 'L' || text_[i] == 'l') &&
                   (i + 1 == s.end || !is_letter(text_[i + 1]))) {
            if (i + 1 != s.end) reject(i + 1, unexpected(i + 1) + " after L");
            out_.last_day = true;
            return;
        } else {
            first = last = value(i, s.end);
            ranged = false;
            if (i < s.end && text_[i] == '-') {
                ++i;
                last = value(i, s.end);
                ranged = true;
                // SAT-SUN reads as 6-0; Sunday is also 7, which makes it a forward range.
                if (spec_.kind == Kind::day_of_week && last == 0 && first > 0) last = 7;
                if (last < first) {
                    reject(s.begin, fmt::format("range {} is reversed",
                                                printable(text_.substr(s.begin, i - s.begin))));
                }
            } else if (i < s.end && text_[i] == '#') {
                nth_weekday(first, i, s.end);
                return;
            }
        }
        int step = 1;
        if (i < s.end && text_[i] == '/') {
            ++i;
            const std::size_t step_start = i;
            const std::optional<int> n = number(i, s.end);
            if (!n) {
                reject(step_start, i == s.end ? std::string("expected a step after /")
                                              : fmt::format("expected a step after /, got \"{}\"",
                                                            printable(text_.substr(i, 1))));
            }
            if (*n == 0) reject(step_start, "step 0 never advances; use 1 or more");
            step = *n;
            // N/S runs from N to the field's end.
            if (!ranged) last = spec_.max;
        }
        if (i != s.end) {
            if (text_[i] == '#') reject(i, "# is only allowed in day-of-week");
            if ((text_[i] == 'L' || text_[i] == 'l') && spec_.kind != Kind::day_of_month) {
                reject(i, "L is only allowed in day-of-month");
            }
            reject(i, unexpected(i));
        }
        for (int v = first; v <= last; v += step) out_.values |= std::uint64_t{1} << v;
    }

    // `N#K`, with N already read and `i` at '#'.
    void nth_weekday(int weekday, std::size_t& i, std::size_t end) {
        if (spec_.kind != Kind::day_of_week) reject(i, "# is only allowed in day-of-week");
        ++i;
        const std::size_t week_start = i;
        const std::optional<int> week = number(i, end);
        if (!week) reject(week_start, "expected the week 1-5 after #");
        if (*week < 1 || *week > 5) {
            reject(week_start, fmt::format("week {} is out of range 1-5",
                                           text_.substr(week_start, i - week_start)));
        }
        if (i != end) reject(i, unexpected(i));
        out_.nth_weekdays |= std::uint64_t{1} << ((*week - 1) * 7 + weekday % 7);
    }

    std::string_view text_;
    const FieldSpec& spec_;
    FieldValues out_;
};

// Why no day ever matches, for the rejection of an expression that never fires.
std::string no_day_reason(const FieldValues& dom, const FieldValues& months,
                          std::string_view dom_text, std::string_view dow_text) {
    constexpr std::array<int, 13> longest_month{0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    std::vector<std::string> month_list;
    int longest = 0;
    for (int m = 1; m <= 12; ++m) {
        if ((months.values >> m & 1) == 0) continue;
        month_list.emplace_back(month_names[static_cast<std::size_t>(m - 1)]);
        longest = std::max(longest, longest_month[static_cast<std::size_t>(m)]);
    }
    std::vector<int> day_list;
    for (int d = 1; d <= 31; ++d) {
        if ((dom.values >> d & 1) != 0) day_list.push_back(d);
    }
    if (!dom.last_day && !day_list.empty() && day_list.front() > longest) {
        return fmt::format("no day ever matches ({} never {} in {})", fmt::join(day_list, ","),
                           day_list.size() == 1 ? "occurs" : "occur", fmt::join(month_list, ","));
    }
    const std::string in_months =
        month_list.size() == 12 ? "" : fmt::format(" in {}", fmt::join(month_list, ","));
    return fmt::format("no day ever matches both \"{}\" and day-of-week \"{}\"{}",
                       printable(dom_text), printable(dow_text), in_months);
}

// The day-of-month and day-of-week fields as one test of a calendar day.
struct DayRule {
    const std::bitset<32>& days;
    bool last_day;
    const std::bitset<7>& weekdays;
    const std::bitset<40>& nth_weekdays;
    bool either;  ///< both fields restricted: classic cron accepts a day matching either

    // `day` of a month whose last day is `last`, falling on `weekday` (0 = Sunday).
    bool matches(int day, int last, int weekday) const {
        const auto d = static_cast<std::size_t>(day);
        const auto w = static_cast<std::size_t>(weekday);
        const bool by_month = days[d] || (last_day && day == last);
        const bool by_week = weekdays[w] || nth_weekdays[(d - 1) / 7 * 7 + w];
        return either ? by_month || by_week : by_month && by_week;
    }
};

// The first set bit at or after `from`, or -1.
template <std::size_t N>
int next_set(const std::bitset<N>& bits, int from) {
    for (int i = std::max(from, 0); i < static_cast<int>(N); ++i) {
        if (bits[static_cast<std::size_t>(i)]) return i;
    }
    return -1;
}

// The fire instants after a start, in order. Under TimeZone::to_instant's rules the mapping
// from wall-clock time to instant never goes backwards, so the fires are the distinct, rising
// instants of successive matching wall-clock times: a time in a repeated hour may map to an
// instant already passed (skipped), and all times in a gap map to its end (one fire).
class Fires {
  public:
    Fires(const CronExpression& expression, const TimeZone& zone, Timestamp after)
        : expression_(expression), zone_(zone), local_(zone.to_local(after)), last_(after) {}

    Timestamp next() {
        for (;;) {
            local_ = expression_.next_local(local_);
            const Timestamp t = zone_.to_instant(local_);
            if (t > last_) return last_ = t;
        }
    }

  private:
    const CronExpression& expression_;
    const TimeZone& zone_;
    // Truncated to the second, so a fire within the second of a fractional start is not after it.
    LocalSeconds local_;
    Timestamp last_;
};

Timestamp saturating_minus(Timestamp t, Duration d) {
    return t < Timestamp::min() + d ? Timestamp::min() : t - d;
}

}  // namespace

CronExpression CronExpression::parse(std::string_view text) {
    // Generous for a list of every second, minute and hour, small enough that a message
    // quoting the expression stays readable and a stored one stays small.
    constexpr std::size_t max_length = 4096;
    if (text.size() > max_length) {
        throw Error(
            ErrorCode::invalid_argument,
            fmt::format("expression: must be at most {} bytes (got {})", max_length, text.size()),
            "expression");
    }
    const std::vector<Span> fields = split_fields(text);
    if (fields.empty()) reject_at(text, "expression", 0, "must not be empty");
    if (text[fields.front().begin] == '@') {
        const std::string_view word = text.substr(fields[0].begin, fields[0].end - fields[0].begin);
        const std::string name = lower(word);
        const auto macro = std::find_if(macros.begin(), macros.end(),
                                        [&](const auto& m) { return m.first == name; });
        if (macro == macros.end()) {
            reject_at(text, "expression", fields[0].begin,
                      fmt::format("unknown macro \"{}\" (expected @yearly, @annually, @monthly, "
                                  "@weekly, @daily, @midnight or @hourly)",
                                  printable(word)));
        }
        if (fields.size() > 1) {
            const Span extra = fields[1];
            reject_at(text, "expression", extra.begin,
                      fmt::format("unexpected \"{}\" after the macro \"{}\"",
                                  printable(text.substr(extra.begin, extra.end - extra.begin)),
                                  printable(word)));
        }
        CronExpression e = parse(macro->second);
        e.text_ = std::string(text);
        return e;
    }
    if (fields.size() != 5 && fields.size() != 6) {
        reject_at(text, "expression", fields.size() > 6 ? fields[6].begin : fields.back().end,
                  fmt::format("expected 5 or 6 fields, got {}", fields.size()));
    }

    // Without a seconds field, fires fall on the minute.
    const std::size_t first = fields.size() - 5;
    const FieldValues second_values =
        first == 1 ? FieldParser(text, second_field).parse(fields[0]) : FieldValues{.values = 1};
    const FieldValues minute_values = FieldParser(text, minute_field).parse(fields[first]);
    const FieldValues hour_values = FieldParser(text, hour_field).parse(fields[first + 1]);
    const Span dom_span = fields[first + 2];
    const Span dow_span = fields[first + 4];
    const FieldValues dom = FieldParser(text, day_of_month_field).parse(dom_span);
    const FieldValues month_values = FieldParser(text, month_field).parse(fields[first + 3]);
    const FieldValues dow = FieldParser(text, day_of_week_field).parse(dow_span);

    CronExpression e;
    e.text_ = std::string(text);
    e.seconds_ = std::bitset<60>(second_values.values);
    e.minutes_ = std::bitset<60>(minute_values.values);
    e.hours_ = std::bitset<24>(hour_values.values);
    e.days_ = std::bitset<32>(dom.values);
    e.last_day_ = dom.last_day;
    e.months_ = std::bitset<13>(month_values.values);
    // Sunday is 0 and 7; keep it at 0.
    e.weekdays_ = std::bitset<7>((dow.values | dow.values >> 7) & 0x7f);
    e.nth_weekdays_ = std::bitset<40>(dow.nth_weekdays);
    auto restricted = [&](Span s) {
        return text[s.begin] != '*' && text[s.begin] != '?';
    };
    e.days_restricted_ = restricted(dom_span);
    e.weekdays_restricted_ = restricted(dow_span);

    // Any fixed origin will do: a match, if there is one, recurs within every 400 years.
    const LocalSeconds origin{local_days{year{2000} / January / 1}};
    try {
        (void)e.next_local(origin);
    } catch (const Error&) {
        const auto view = [&](Span s) {
            return text.substr(s.begin, s.end - s.begin);
        };
        reject_at(text, day_of_month_field.name, dom_span.begin,
                  no_day_reason(dom, month_values, view(dom_span), view(dow_span)));
    }
    return e;
}

bool CronExpression::matches(LocalSeconds local) const {
    const local_days date = floor<days>(local);
    const year_month_day ymd{date};
    const hh_mm_ss<seconds> time{local - date};
    const year_month_day_last month_end{ymd.year(), month_day_last{ymd.month()}};
    const DayRule rule{days_, last_day_, weekdays_, nth_weekdays_,
                       days_restricted_ && weekdays_restricted_};
    return seconds_[static_cast<std::size_t>(time.seconds().count())] &&
           minutes_[static_cast<std::size_t>(time.minutes().count())] &&
           hours_[static_cast<std::size_t>(time.hours().count())] &&
           months_[static_cast<unsigned>(ymd.month())] &&
           rule.matches(static_cast<int>(static_cast<unsigned>(ymd.day())),
                        static_cast<int>(static_cast<unsigned>(month_end.day())),
                        static_cast<int>(weekday{date}.c_encoding()));
}

LocalSeconds CronExpression::next_local(LocalSeconds local) const {
    if (local < search_begin || local >= search_end - seconds{1}) {
        throw Error(
            ErrorCode::invalid_argument,
            fmt::format("time: cron searches the years {} to {} only", earliest_year, latest_year),
            "time");
    }
    const LocalSeconds from = local + seconds{1};
    const local_days from_day = floor<days>(from);
    const year_month_day ymd{from_day};
    const hh_mm_ss<seconds> time{from - from_day};
    int y = static_cast<int>(ymd.year());
    int mo = static_cast<int>(static_cast<unsigned>(ymd.month()));
    int d = static_cast<int>(static_cast<unsigned>(ymd.day()));
    int h = static_cast<int>(time.hours().count());
    int mi = static_cast<int>(time.minutes().count());
    int s = static_cast<int>(time.seconds().count());
    const DayRule rule{days_, last_day_, weekdays_, nth_weekdays_,
                       days_restricted_ && weekdays_restricted_};

    // Each round moves to the next candidate of the coarsest field that fails and starts the
    // finer ones afresh, so a yearly schedule costs a few rounds rather than a scan.
    const int give_up = y + cycle_years;
    while (y <= give_up) {
        const int m = next_set(months_, mo);
        if (m != mo) {
            if (m < 0) ++y;
            mo = m < 0 ? 1 : m;
            d = 1;
            h = mi = s = 0;
            continue;
        }

        const year_month ym{year{y}, month{static_cast<unsigned>(mo)}};
        const int last = static_cast<int>(static_cast<unsigned>((ym / std::chrono::last).day()));
        const int first_weekday = static_cast<int>(weekday{local_days{ym / 1}}.c_encoding());
        int next_day = d;
        while (next_day <= last &&
               !rule.matches(next_day, last, (first_weekday + next_day - 1) % 7)) {
            ++next_day;
        }
        if (next_day > last) {
            if (++mo > 12) {
                ++y;
                mo = 1;
            }
            d = 1;
            h = mi = s = 0;
            continue;
        }
        if (next_day != d) {
            d = next_day;
            h = mi = s = 0;
        }

        const int hour = next_set(hours_, h);
        if (hour != h) {
            if (hour < 0) ++d;
            h = hour < 0 ? 0 : hour;
            mi = s = 0;
            continue;
        }
        const int minute = next_set(minutes_, mi);
        if (minute != mi) {
            if (minute < 0) ++h;
            mi = minute < 0 ? 0 : minute;
            s = 0;
            continue;
        }
        const int second = next_set(seconds_, s);
        if (second < 0) {
            ++mi;
            s = 0;
            continue;
        }
        return local_days{ym / static_cast<unsigned>(d)} + hours{h} + minutes{mi} + seconds{second};
    }
    throw Error(ErrorCode::invalid_argument,
                fmt::format("expression: \"{}\" does not fire within {} years", printable(text_),
                            cycle_years),
                "expression");
}

Timestamp CronExpression::next_after(Timestamp after, const TimeZone& zone) const {
    return Fires(*this, zone, after).next();
}

std::optional<Timestamp> CronExpression::latest_in(Timestamp not_before, Timestamp at,
                                                   const TimeZone& zone) const {
    if (at <= not_before) return std::nullopt;
    // Windows reaching back from `at`, growing so a frequent schedule is answered from a short
    // one; the last is longer than the calendar's cycle, so it always holds a fire.
    constexpr std::array<Duration, 7> spans{minutes{1},
                                            hours{1},
                                            days{1},
                                            days{32},
                                            days{366},
                                            days{5 * 366},
                                            days{(cycle_years + 1) * 366}};
    for (const Duration span : spans) {
        const Timestamp from = std::max(not_before, saturating_minus(at, span));
        const Timestamp first_fire = next_after(from, zone);
        if (first_fire <= at) {
            // Bisect for the newest fire rather than walk every fire of a dense schedule.
            // Invariant: `newest` is a fire, and no fire lies in (limit, at].
            Timestamp newest = first_fire;
            Timestamp limit = at;
            for (;;) {
                const Timestamp following = next_after(newest, zone);
                if (following > limit) return newest;
                newest = following;
                const Timestamp middle = newest + (limit - newest) / 2;
                const Timestamp probe = next_after(middle, zone);
                if (probe <= limit) {
                    newest = probe;
                } else {
                    limit = middle;
                }
            }
        }
        if (from == not_before) return std::nullopt;
    }
    return std::nullopt;
}

std::int64_t CronExpression::count_in(Timestamp after, Timestamp until, const TimeZone& zone,
                                      std::int64_t cap) const {
    if (cap <= 0 || until <= after) return 0;
    Fires fires(*this, zone, after);
    std::int64_t n = 0;
    while (n < cap && fires.next() <= until) ++n;
    return n;
}

}  // namespace jobq
