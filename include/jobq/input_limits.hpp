#pragma once
// InputLimits: the sizes jobq accepts from outside, so a caller's garbage is refused at the API
// boundary instead of filling the database or a worker's stack.

#include <cstddef>
#include <map>
#include <string>
#include <string_view>

namespace jobq {

/// Deepest JSON nesting InputLimits accepts as a setting. Documents are serialised, stored and
/// parsed again by recursive code (PostgreSQL's jsonb among it), so the limit itself is bounded.
inline constexpr int max_json_depth_setting = 1000;

/// Limits on what enqueue (and a handler's result) may carry. Defaults suit most services;
/// raise them per Queue client, or per job queue for one that carries large documents.
struct InputLimits {
    /// Largest payload, in bytes of its compact JSON text (default 1 MiB).
    std::size_t max_payload_bytes = std::size_t{1} << 20;
    /// Overrides of max_payload_bytes for named job queues ({"bulk", 8 << 20}).
    std::map<std::string, std::size_t, std::less<>> max_payload_bytes_per_queue;
    /// Deepest nesting of arrays and objects in a payload or result (default 128; at most
    /// max_json_depth_setting). The payload object itself is level 1.
    int max_json_depth = 128;

    /// The payload limit that applies to jobs on `queue`.
    std::size_t payload_limit(std::string_view queue) const;
    /// Throws Error(invalid_argument, field "limits.<name>") when a setting is out of range.
    void validate() const;
};

}  // namespace jobq
