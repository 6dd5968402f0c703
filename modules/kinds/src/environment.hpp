#pragma once
// Reading the kinds' settings from JOBQ_* environment variables: one way to parse a number and
// a list, and one message when a value is bad.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace jobq::kinds {

/// `text` (the value of variable `name`) as an integer lo..hi. Throws
/// Error(invalid_argument, "<name> must be an integer lo..hi, not '<text>'", name).
std::int64_t env_integer(const char* name, std::string_view text, std::int64_t lo, std::int64_t hi);

/// The comma-separated entries of `text`, trimmed of spaces; empty entries dropped.
std::vector<std::string> env_list(std::string_view text);

}  // namespace jobq::kinds
