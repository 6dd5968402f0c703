#pragma once
// LimitRecord: one scope's flow-control row as a store keeps it — its limits, the pause flag
// of a queue, and the state the store maintains for them (running count, token bucket).

#include <cstdint>

#include "jobq/clock.hpp"
#include "jobq/flow_limits.hpp"
#include "jobq/limit_scope.hpp"
#include "jobq/token_bucket.hpp"

namespace jobq {

struct LimitRecord {
    LimitScope scope;
    FlowLimits limits;
    /// Queue scope only: no job of the queue starts while set.
    bool paused = false;
    /// Jobs of this scope running now, across every process. The store keeps it exact: it
    /// counts when the row is written and changes it in every claim, completion and cancel.
    std::int64_t running = 0;
    /// The rate limit's bucket as last written (meaningful when limits.rate is set).
    TokenBucket bucket;
    Timestamp updated_at{};

    friend bool operator==(const LimitRecord&, const LimitRecord&) = default;
};

}  // namespace jobq
