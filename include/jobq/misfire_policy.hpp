#pragma once
// MisfirePolicy: what a schedule does with windows that passed while no scheduler ran.

#include <chrono>
#include <string_view>

#include <nlohmann/json.hpp>

#include "jobq/clock.hpp"

namespace jobq {

/// How missed windows are handled.
enum class MisfireMode {
    catch_up,     ///< enqueue every missed window, within max_catch_up and max_age
    latest_only,  ///< enqueue only the newest missed window, and only if none is on time
    skip,         ///< enqueue none
};

/// "catch_up", "latest_only", "skip".
std::string_view to_string(MisfireMode mode) noexcept;
/// Parses a mode name; throws Error(invalid_argument) naming `field`.
MisfireMode parse_misfire_mode(std::string_view text, std::string_view field = "misfire.mode");

/// A window is on time while it is at most `grace` old: it is enqueued under every mode. Older
/// windows are missed, and the mode decides. Whatever is not enqueued is recorded as skipped,
/// with the reason, in the schedule's history.
struct MisfirePolicy {
    MisfireMode mode = MisfireMode::catch_up;
    int max_catch_up = 100;                     ///< catch_up: newest N missed windows
    Duration max_age = std::chrono::hours{24};  ///< catch_up: missed windows younger
    Duration grace = std::chrono::minutes{1};   ///< on-time tolerance

    /// Throws Error(invalid_argument) naming the bad field ("misfire.max_catch_up", ...).
    void validate() const;

    /// {"mode":"catch_up","max_catch_up":100,"max_age_us":...,"grace_us":...}
    nlohmann::json to_json() const;
    /// Parses to_json()'s form; missing keys keep their defaults. Throws Error(invalid_argument)
    /// naming the bad field.
    static MisfirePolicy from_json(const nlohmann::json& j);

    friend bool operator==(const MisfirePolicy&, const MisfirePolicy&) = default;
};

}  // namespace jobq
