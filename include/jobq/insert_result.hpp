#pragma once
// InsertResult: what storing one job did (Queue::enqueue returns it as EnqueueResult).

#include "jobq/job.hpp"

namespace jobq {

/// What an insert did: the new job's id, or the id of the existing job it coalesced into.
struct InsertResult {
    JobId id = 0;
    bool duplicate = false;
};

}  // namespace jobq
