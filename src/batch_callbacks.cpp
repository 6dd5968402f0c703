#include "jobq/backend/batch_callbacks.hpp"

#include <algorithm>

namespace jobq {

std::vector<BatchCallback> batch_callbacks_due(const BatchCounts& counts,
                                               const std::vector<BatchCallback>& fired) {
    std::vector<BatchCallback> due;
    auto consider = [&](BatchCallback cb, bool now) {
        if (now && std::find(fired.begin(), fired.end(), cb) == fired.end()) due.push_back(cb);
    };
    consider(BatchCallback::all_completed, counts.completed == counts.total);
    consider(BatchCallback::any_discarded, counts.discarded > 0);
    consider(BatchCallback::all_finished,
             counts.completed + counts.discarded + counts.cancelled == counts.total);
    return due;
}

}  // namespace jobq
