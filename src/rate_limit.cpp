#include "jobq/rate_limit.hpp"

#include <charconv>
#include <cstdint>
#include <limits>
#include <string>
#include <system_error>

#include <fmt/format.h>

#include "jobq/error.hpp"
#include "jobq/time_format.hpp"

namespace jobq {

namespace {

[[noreturn]] void bad(std::string_view field, std::string_view why) {
    throw Error(ErrorCode::invalid_argument, fmt::format("{}: {}", field, why), std::string(field));
}

struct Unit {
    std::string_view name;
    Duration::rep us;
};

// Largest first, so to_string picks the coarsest unit that divides the period. "us" is read
// and written only so that a period set in code (not parsed) still round-trips.
constexpr Unit units[] = {
    {"d", 86'400'000'000}, {"h", 3'600'000'000}, {"m", 60'000'000},
    {"s", 1'000'000},      {"ms", 1'000},        {"us", 1},
};

std::string signed_duration(Duration d) {
    return d < Duration::zero() ? "-" + format_duration(-d) : format_duration(d);
}

}  // namespace

void RateLimit::validate() const {
    if (limit < 1) bad("rate.limit", fmt::format("must be at least 1 (got {})", limit));
    if (period <= Duration::zero()) {
        bad("rate.period", fmt::format("must be positive (got {})", signed_duration(period)));
    }
    if (period > max_duration) {
        bad("rate.period", fmt::format("must be at most {} (100 years; got {})",
                                       format_duration(max_duration), format_duration(period)));
    }
    if (burst < 0) bad("rate.burst", fmt::format("must not be negative (got {})", burst));
}

RateLimit RateLimit::parse(std::string_view text) {
    constexpr std::string_view field = "rate";
    constexpr std::string_view expected = "a count per period like 50/s, 100/10s or 20/500ms";
    if (text.empty()) bad(field, fmt::format("must not be empty (expected {})", expected));
    const std::size_t slash = text.find('/');
    if (slash == std::string_view::npos) {
        bad(field, fmt::format("expected {} (got \"{}\")", expected, text));
    }

    const std::string_view count = text.substr(0, slash);
    long long n = 0;
    {
        const auto [end, ec] = std::from_chars(count.data(), count.data() + count.size(), n);
        if (ec == std::errc::result_out_of_range ||
            (ec == std::errc{} && end == count.data() + count.size() &&
             n > std::numeric_limits<int>::max())) {
            bad(field, fmt::format("count is too large in \"{}\" (at most {})", text,
                                   std::numeric_limits<int>::max()));
        }
        if (ec != std::errc{} || end != count.data() + count.size()) {
            bad(field, fmt::format("count must be a whole number in \"{}\" (expected {})", text,
                                   expected));
        }
        if (n < 1) bad(field, fmt::format("count must be at least 1 in \"{}\"", text));
    }

    const std::string_view period = text.substr(slash + 1);
    long long multiple = 1;
    std::string_view unit_name = period;
    if (!period.empty() &&
        (period.front() == '-' || (period.front() >= '0' && period.front() <= '9'))) {
        const auto [end, ec] =
            std::from_chars(period.data(), period.data() + period.size(), multiple);
        if (ec == std::errc::result_out_of_range) {
            bad(field, fmt::format("period is too long in \"{}\"", text));
        }
        if (ec != std::errc{}) {
            bad(field, fmt::format("period must be a whole number and a unit in \"{}\" "
                                   "(use ms, s, m, h or d)",
                                   text));
        }
        unit_name = period.substr(static_cast<std::size_t>(end - period.data()));
    }
    if (unit_name.empty()) {
        bad(field, fmt::format("missing unit in \"{}\" (use ms, s, m, h or d)", text));
    }
    const Unit* unit = nullptr;
    for (const Unit& u : units) {
        if (u.name == unit_name) unit = &u;
    }
    if (unit == nullptr) {
        bad(field,
            fmt::format("unknown unit '{}' in \"{}\" (use ms, s, m, h or d)", unit_name, text));
    }
    if (multiple <= 0) bad(field, fmt::format("period must be positive in \"{}\"", text));
    if (multiple > std::numeric_limits<Duration::rep>::max() / unit->us) {
        bad(field, fmt::format("period is too long in \"{}\"", text));
    }

    RateLimit rate;
    rate.limit = static_cast<int>(n);
    rate.period = Duration{multiple * unit->us};
    return rate;
}

std::string RateLimit::to_string() const {
    const Duration::rep us = period.count();
    if (us > 0) {
        for (const Unit& u : units) {
            if (us % u.us != 0) continue;
            const Duration::rep multiple = us / u.us;
            return multiple == 1 ? fmt::format("{}/{}", limit, u.name)
                                 : fmt::format("{}/{}{}", limit, multiple, u.name);
        }
    }
    // Not a valid period: show it as it is rather than invent one.
    return fmt::format("{}/{}us", limit, us);
}

}  // namespace jobq
