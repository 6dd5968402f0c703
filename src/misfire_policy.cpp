#include "jobq/misfire_policy.hpp"

#include <algorithm>
#include <string>

#include <fmt/format.h>

#include "jobq/error.hpp"
#include "jobq/time_format.hpp"

namespace jobq {

namespace {

// A pass enqueues at most this many missed windows of one schedule in one transaction.
constexpr int max_catch_up_limit = 10000;
// Below this a window a scheduler reaches a few milliseconds late would count as missed.
constexpr Duration min_grace = std::chrono::seconds{1};

[[noreturn]] void bad(std::string_view field, std::string_view why) {
    throw Error(ErrorCode::invalid_argument, fmt::format("{}: {}", field, why), std::string(field));
}

}  // namespace

std::string_view to_string(MisfireMode mode) noexcept {
    switch (mode) {
        case MisfireMode::catch_up:
            return "catch_up";
        case MisfireMode::latest_only:
            return "latest_only";
        case MisfireMode::skip:
            return "skip";
    }
    return "?";
}

MisfireMode parse_misfire_mode(std::string_view text, std::string_view field) {
    for (MisfireMode m : {MisfireMode::catch_up, MisfireMode::latest_only, MisfireMode::skip}) {
        if (text == to_string(m)) return m;
    }
    bad(field, fmt::format("unknown mode '{}' (expected catch_up, latest_only or skip)", text));
}

void MisfirePolicy::validate() const {
    if (max_catch_up < 1 || max_catch_up > max_catch_up_limit) {
        bad("misfire.max_catch_up",
            fmt::format("must be between 1 and {} (got {})", max_catch_up_limit, max_catch_up));
    }
    if (max_age <= Duration::zero()) {
        bad("misfire.max_age", fmt::format("must be positive (got {})",
                                           max_age.count() < 0 ? "-" + format_duration(-max_age)
                                                               : format_duration(max_age)));
    }
    if (max_age > max_duration) {
        bad("misfire.max_age",
            fmt::format("must be at most {} (100 years; got {})", format_duration(max_duration),
                        format_duration(max_age)));
    }
    if (grace > max_duration) {
        bad("misfire.grace", fmt::format("must be at most {} (100 years; got {})",
                                         format_duration(max_duration), format_duration(grace)));
    }
    if (grace < min_grace) {
        bad("misfire.grace", fmt::format("must be at least {} (got {})", format_duration(min_grace),
                                         grace.count() < 0 ? "-" + format_duration(-grace)
                                                           : format_duration(grace)));
    }
}

nlohmann::json MisfirePolicy::to_json() const {
    return {{"mode", std::string(to_string(mode))},
            {"max_catch_up", max_catch_up},
            {"max_age_us", max_age.count()},
            {"grace_us", grace.count()}};
}

MisfirePolicy MisfirePolicy::from_json(const nlohmann::json& j) {
    if (!j.is_object())
        bad("misfire", fmt::format("must be a JSON object (got {})", j.type_name()));
    MisfirePolicy p;
    for (const auto& [key, value] : j.items()) {
        const std::string field = "misfire." + key;
        if (key == "mode") {
            if (!value.is_string()) bad(field, "must be a string");
            p.mode = parse_misfire_mode(value.get<std::string>(), field);
        } else if (key == "max_catch_up") {
            if (!value.is_number_integer() || value.get<std::int64_t>() < 0 ||
                value.get<std::int64_t>() > max_catch_up_limit) {
                bad(field, fmt::format("must be a whole number between 1 and {} (got {})",
                                       max_catch_up_limit, value.dump()));
            }
            p.max_catch_up = value.get<int>();
        } else if (key == "max_age_us" || key == "grace_us") {
            if (!value.is_number_integer()) {
                bad(field,
                    fmt::format("must be a whole number of microseconds (got {})", value.dump()));
            }
            (key == "grace_us" ? p.grace : p.max_age) = Duration{value.get<Duration::rep>()};
        } else {
            bad(field, "is not a field of a misfire policy");
        }
    }
    p.validate();
    return p;
}

}  // namespace jobq
