// Why a lease was lost (lease_loss): the one rule both backends apply to a heartbeat's misses.

#include <optional>

#include <doctest/doctest.h>

#include "jobq/backend/lost_lease.hpp"

using jobq::JobState;
using jobq::lease_loss;
using jobq::LeaseLoss;

TEST_CASE("a job the store no longer holds is missing") {
    CHECK(lease_loss(std::nullopt, 0, 1) == LeaseLoss::missing);
}

TEST_CASE("a job cancelled at the attempt the worker holds was lost to the cancellation") {
    CHECK(lease_loss(JobState::cancelled, 3, 3) == LeaseLoss::cancelled);
}

TEST_CASE("a job cancelled at a later attempt was superseded for the earlier one") {
    CHECK(lease_loss(JobState::cancelled, 4, 3) == LeaseLoss::superseded);
}

TEST_CASE("a job in any other state was superseded") {
    for (JobState s : jobq::all_job_states) {
        if (s == JobState::cancelled) continue;
        CAPTURE(jobq::to_string(s));
        CHECK(lease_loss(s, 3, 3) == LeaseLoss::superseded);
        CHECK(lease_loss(s, 4, 3) == LeaseLoss::superseded);
    }
}

static_assert(lease_loss(std::nullopt, 0, 1) == LeaseLoss::missing, "usable at compile time");
