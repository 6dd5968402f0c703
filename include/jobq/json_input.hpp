#pragma once
// JSON that arrives from outside (a payload on the command line or over HTTP, a handler's
// result): parsed and checked in one place, so every entry point refuses the same documents
// with the same message, and nothing nlohmann throws escapes as anything but jobq::Error.

#include <string_view>

#include <nlohmann/json.hpp>

#include "jobq/input_limits.hpp"

namespace jobq {

/// Parses `text` as one JSON document. Throws Error(invalid_argument, field = `field`) when it
/// is not valid JSON, nests deeper than `max_depth`, holds a number that overflows a double, or
/// holds a string (or key) with a NUL character; the message names the field and where
/// ("payload: number overflow at /amount (1e999)"). Never recurses per level, so no input,
/// however deep, can exhaust the stack.
nlohmann::json parse_json_input(std::string_view text, std::string_view field,
                                int max_depth = InputLimits{}.max_json_depth);

/// Checks a document built in C++ against the same rules as parse_json_input, and also that
/// every string and key is valid UTF-8 and every number finite (JSON has no NaN or infinity).
/// Throws Error(invalid_argument, field = `field`) naming where the first problem is.
void check_json_input(const nlohmann::json& value, std::string_view field,
                      int max_depth = InputLimits{}.max_json_depth);

}  // namespace jobq
