#pragma once
// The rules for names (kinds, queues, tenants, tags, limit scopes) in one place, so a limit can
// be set on exactly the names a job can carry.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "jobq/error.hpp"

namespace jobq::detail {

inline constexpr std::size_t max_name_length = 255;

/// What is wrong with `value` as a name, phrased to follow the field ("must not be empty"), or
/// nullopt when it is a valid name. Names are identifiers in logs, metrics and the CLI:
/// printable, no spaces, bounded length.
inline std::optional<std::string> name_problem(std::string_view value) {
    if (value.empty()) return std::string("must not be empty");
    if (value.size() > max_name_length) {
        return fmt::format("must be at most {} characters (got {})", max_name_length, value.size());
    }
    for (unsigned char c : value) {
        if (c <= 0x20 || c == 0x7f) {
            return fmt::format("must not contain spaces or control characters (got '{}')", value);
        }
    }
    return std::nullopt;
}

/// Throws Error(invalid_argument, "field: ...", field) when `value` is not a valid name.
inline void check_name(std::string_view field, std::string_view value) {
    if (auto why = name_problem(value)) {
        throw Error(ErrorCode::invalid_argument, fmt::format("{}: {}", field, *why),
                    std::string(field));
    }
}

}  // namespace jobq::detail
