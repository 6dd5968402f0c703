#pragma once
// FlowControl: the limits, pauses and weights in a store, managed from code or at run time —
// concurrency caps and rate limits per queue, kind and tenant, tenant quotas and weights,
// pause and resume of a queue. Every worker process obeys a change at its next claim.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "jobq/clock.hpp"
#include "jobq/flow_limits.hpp"
#include "jobq/limit_record.hpp"
#include "jobq/limit_scope.hpp"
#include "jobq/queue_stats.hpp"
#include "jobq/worker_record.hpp"

namespace jobq {

class Store;

/// A queue as `jobq queue list` shows it.
struct QueueInfo {
    std::string name;
    bool paused = false;
    std::optional<LimitRecord> limits;  ///< the queue's row, when it has one
    QueueStats stats;                   ///< counts per state
    std::vector<std::string> workers;   ///< ids of live workers claiming from it
};

/// Client of a Store's flow limits. Cheap to create; the store must outlive it. Blocking.
class FlowControl {
  public:
    explicit FlowControl(Store& store, const Clock& clock = system_clock());

    /// Sets a scope's limits, replacing the ones it had. Throws Error(invalid_argument) naming
    /// the bad field, writing nothing. Returns the stored row.
    LimitRecord set(const LimitScope& scope, const FlowLimits& limits);
    /// Removes a scope's limits (a paused queue stays paused). Returns false when it had none.
    bool remove(const LimitScope& scope);
    /// One scope's row, or nullopt.
    std::optional<LimitRecord> get(const LimitScope& scope);
    /// Every row, by scope.
    std::vector<LimitRecord> list();

    /// Stops new starts from a queue in every worker process (running jobs finish); persisted.
    /// Returns false when it was paused already. Throws invalid_argument for a bad name.
    bool pause(std::string_view queue);
    /// Lets a paused queue's jobs start again. Returns false when it was not paused.
    bool resume(std::string_view queue);
    /// Every queue that has jobs, a row or a live worker, by name.
    std::vector<QueueInfo> queues();

    /// Live workers, by id.
    std::vector<WorkerRecord> workers();

  private:
    Store& store_;
    const Clock& clock_;
};

}  // namespace jobq
