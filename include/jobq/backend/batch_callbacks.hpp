#pragma once
// For backend authors. When a batch's callback jobs are due: one rule every backend applies in
// the transaction that brings one of the batch's jobs to a terminal state (and in the one that
// inserts the batch, for an empty one). The backend counts the batch's jobs by state, passes
// the callbacks already enqueued, and enqueues each one due, once, recording it as fired in
// the same transaction.

#include <vector>

#include "jobq/batch_spec.hpp"

namespace jobq {

/// The batch's jobs as the store counts them now.
struct BatchCounts {
    int total = 0;
    int completed = 0;
    int discarded = 0;
    int cancelled = 0;
};

/// The callbacks due now among those not fired yet, in the order above. An empty batch has
/// completed and finished at once: its all_completed and all_finished are due on insert, so a
/// fan-out that produced nothing still reaches whatever waits for it.
std::vector<BatchCallback> batch_callbacks_due(const BatchCounts& counts,
                                               const std::vector<BatchCallback>& fired);

}  // namespace jobq
