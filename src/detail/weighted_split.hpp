#pragma once
// Splitting a worker's free slots across its queues by weight: a pure function.

#include <span>
#include <vector>

namespace jobq {

/// One queue's claim on the free slots.
struct SlotDemand {
    int want = 0;    ///< free slots of the queue itself (its concurrency minus its running)
    int weight = 1;  ///< its share (>= 1)
};

/// Shares `free` slots among the demands in proportion to weight, no demand getting more than
/// it wants; what one cannot use goes to the others. Remainders go to the heaviest demands
/// first, then to the earliest. Sum of the result = min(free, sum of wants).
std::vector<int> split_by_weight(int free, std::span<const SlotDemand> demands);

}  // namespace jobq
