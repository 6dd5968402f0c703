#pragma once
// Text forms of times and durations, as the CLI and JSON output use them.

#include <string>
#include <string_view>

#include "jobq/clock.hpp"

namespace jobq {

/// ISO 8601 UTC with microseconds, e.g. "2026-11-23T10:56:48.123456Z".
std::string format_timestamp(Timestamp t);
/// Parses ISO 8601: "2026-11-23T10:56:48Z", with optional fraction and a Z or ±HH:MM offset;
/// a date alone means midnight UTC. Throws Error(invalid_argument) naming `field`.
Timestamp parse_timestamp(std::string_view text, std::string_view field = "time");
/// Parses a duration like "500ms", "90s", "10m", "1h30m", "2d" (units us, ms, s, m, h, d).
/// Throws Error(invalid_argument) naming `field` on bad text or a negative value.
Duration parse_duration(std::string_view text, std::string_view field = "duration");
/// Short human form, e.g. "1h30m", "250ms", "0s".
std::string format_duration(Duration d);

}  // namespace jobq
