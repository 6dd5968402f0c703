// When a batch's callbacks are due: each once, all_completed only when every job completed,
// any_discarded at the first discard, all_finished when every job ended however it ended.

#include <vector>

#include <doctest/doctest.h>

#include "jobq/backend/batch_callbacks.hpp"

using jobq::batch_callbacks_due;
using jobq::BatchCallback;
using jobq::BatchCounts;
using Due = std::vector<BatchCallback>;

TEST_SUITE_BEGIN("batch_callbacks");

TEST_CASE("nothing is due while jobs are still open and none was discarded") {
    CHECK(batch_callbacks_due({3, 2, 0, 0}, {}).empty());
}

TEST_CASE("every job completed: all_completed and all_finished, each once") {
    CHECK(batch_callbacks_due({3, 3, 0, 0}, {}) ==
          Due{BatchCallback::all_completed, BatchCallback::all_finished});
    CHECK(batch_callbacks_due({3, 3, 0, 0},
                              {BatchCallback::all_completed, BatchCallback::all_finished})
              .empty());
}

TEST_CASE("the first discard fires any_discarded at once; the end fires all_finished only") {
    const BatchCounts first{4, 1, 1, 0};
    CHECK(batch_callbacks_due(first, {}) == Due{BatchCallback::any_discarded});
    const BatchCounts end{4, 2, 1, 1};
    CHECK(batch_callbacks_due(end, {BatchCallback::any_discarded}) ==
          Due{BatchCallback::all_finished});
    // A discarded job replayed to completion later does not fire all_completed twice or
    // any_discarded again.
    CHECK(batch_callbacks_due({4, 4, 0, 0},
                              {BatchCallback::any_discarded, BatchCallback::all_finished}) ==
          Due{BatchCallback::all_completed});
}

TEST_CASE("an empty batch has completed and finished as soon as it exists") {
    CHECK(batch_callbacks_due({0, 0, 0, 0}, {}) ==
          Due{BatchCallback::all_completed, BatchCallback::all_finished});
}

TEST_SUITE_END();
