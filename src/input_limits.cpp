#include "jobq/input_limits.hpp"

#include <fmt/format.h>

#include "jobq/error.hpp"

namespace jobq {

std::size_t InputLimits::payload_limit(std::string_view queue) const {
    const auto it = max_payload_bytes_per_queue.find(queue);
    return it == max_payload_bytes_per_queue.end() ? max_payload_bytes : it->second;
}

void InputLimits::validate() const {
    auto bad = [](std::string field, std::string why) {
        throw Error(ErrorCode::invalid_argument, fmt::format("{}: {}", field, why), field);
    };
    if (max_payload_bytes == 0) bad("limits.max_payload_bytes", "must be at least 1");
    for (const auto& [queue, bytes] : max_payload_bytes_per_queue) {
        if (bytes == 0) {
            bad("limits.max_payload_bytes_per_queue",
                fmt::format("the limit of queue '{}' must be at least 1", queue));
        }
    }
    if (max_json_depth < 1 || max_json_depth > max_json_depth_setting) {
        bad("limits.max_json_depth", fmt::format("must be between 1 and {} (got {})",
                                                 max_json_depth_setting, max_json_depth));
    }
}

}  // namespace jobq
