#pragma once
// WorkerRecord: a running Worker as the store knows it, so an operator (and explain) can tell
// whether anything serves a queue.

#include <string>
#include <vector>

#include "jobq/clock.hpp"

namespace jobq {

struct WorkerRecord {
    std::string id;
    std::vector<std::string> queues;  ///< the queues it claims from
    Timestamp started_at{};
    Timestamp seen_at{};     ///< its latest heartbeat
    Timestamp expires_at{};  ///< presumed gone after this unless seen again

    friend bool operator==(const WorkerRecord&, const WorkerRecord&) = default;
};

}  // namespace jobq
