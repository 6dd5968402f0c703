#pragma once
// The rules for names (kinds, queues, tenants, tags, limit scopes, schedule names) and other
// short strings in one place, so a limit can be set on exactly the names a job can carry and
// every backend receives the same text.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "jobq/error.hpp"
#include "utf8.hpp"

namespace jobq::detail {

inline constexpr std::size_t max_name_length = 255;
/// A cron schedule's name leaves room for the "cron:" prefix of the tag its jobs carry.
inline constexpr std::size_t max_schedule_name_length = max_name_length - 5;

/// What is wrong with `value` as text a person reads in logs and the CLI: not UTF-8, or holding
/// a control character; nullopt when it is fine. Phrased to follow the field.
inline std::optional<std::string> text_problem(std::string_view value) {
    if (const auto at = invalid_utf8_at(value)) {
        return fmt::format("must be valid UTF-8 (byte {} is not)", *at);
    }
    if (const auto c = first_control_character(value)) {
        return fmt::format("must not contain control characters (found {} in '{}')", *c,
                           printable(value));
    }
    return std::nullopt;
}

/// What is wrong with `value` as a name, phrased to follow the field ("must not be empty"), or
/// nullopt when it is a valid name. Names are identifiers in logs, metrics and the CLI:
/// printable UTF-8, no spaces, at most `max_length` characters (code points).
inline std::optional<std::string> name_problem(std::string_view value,
                                               std::size_t max_length = max_name_length) {
    if (value.empty()) return std::string("must not be empty");
    if (auto why = text_problem(value)) return why;
    if (const std::size_t n = utf8_length(value); n > max_length) {
        return fmt::format("must be at most {} characters (got {})", max_length, n);
    }
    if (value.find(' ') != std::string_view::npos) {
        return fmt::format("must not contain spaces (got '{}')", printable(value));
    }
    // A no-break space or a right-to-left override would make two names look alike, or one
    // look like another, in a table.
    if (const auto c = first_space_or_invisible(value)) {
        return fmt::format(
            "must not contain spaces or invisible formatting characters (found {} "
            "in '{}')",
            *c, printable(value));
    }
    // A joiner joins two characters; in front it joins nothing (and alone it shows nothing).
    if (value.starts_with("\u200c") || value.starts_with("\u200d")) {
        return fmt::format("must not start with a zero-width joiner (got '{}')", printable(value));
    }
    return std::nullopt;
}

/// Throws Error(invalid_argument, "field: ...", field) when `value` is not a valid name.
inline void check_name(std::string_view field, std::string_view value,
                       std::size_t max_length = max_name_length) {
    if (auto why = name_problem(value, max_length)) {
        throw Error(ErrorCode::invalid_argument, fmt::format("{}: {}", field, *why),
                    std::string(field));
    }
}

}  // namespace jobq::detail
