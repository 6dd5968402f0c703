// split_by_weight: sharing a worker's free slots among its queues.

#include <numeric>
#include <random>
#include <vector>

#include <doctest/doctest.h>

#include "detail/weighted_split.hpp"

using jobq::SlotDemand;
using jobq::split_by_weight;

namespace {
std::vector<int> split(int free, std::vector<SlotDemand> demands) {
    return split_by_weight(free, demands);
}
}  // namespace

TEST_SUITE_BEGIN("split_by_weight");

TEST_CASE("no demands get nothing") {
    CHECK(split(10, {}).empty());
}

TEST_CASE("enough slots for everyone gives everyone what they want") {
    CHECK(split(100, {{3, 1}, {5, 7}, {0, 2}}) == std::vector<int>{3, 5, 0});
}

TEST_CASE("no free slots give nothing, and negative inputs count as none") {
    CHECK(split(0, {{3, 1}, {5, 1}}) == std::vector<int>{0, 0});
    CHECK(split(-4, {{3, 1}, {5, 1}}) == std::vector<int>{0, 0});
    CHECK(split(5, {{-3, 1}, {5, 1}}) == std::vector<int>{0, 5});
}

TEST_CASE("scarce slots are shared in proportion to weight") {
    CHECK(split(10, {{100, 1}, {100, 1}}) == std::vector<int>{5, 5});
    CHECK(split(12, {{100, 1}, {100, 3}}) == std::vector<int>{3, 9});
    CHECK(split(60, {{100, 1}, {100, 2}, {100, 3}}) == std::vector<int>{10, 20, 30});
}

TEST_CASE("what a demand cannot use goes to the others") {
    CHECK(split(10, {{2, 1}, {100, 1}}) == std::vector<int>{2, 8});
    // Shares 4:12:4 cover the first and the last; the heavy one gets all 15 they leave.
    CHECK(split(20, {{1, 1}, {100, 3}, {4, 1}}) == std::vector<int>{1, 15, 4});
}

TEST_CASE("remainders go to the heaviest demands first, then to the earliest") {
    CHECK(split(1, {{5, 1}, {5, 1}}) == std::vector<int>{1, 0});
    CHECK(split(1, {{5, 1}, {5, 2}}) == std::vector<int>{0, 1});
    CHECK(split(2, {{5, 1}, {5, 2}, {5, 2}}) == std::vector<int>{0, 1, 1});
    CHECK(split(10, {{100, 1}, {100, 1}, {100, 1}}) == std::vector<int>{4, 3, 3});
    CHECK(split(5, {{100, 1}, {100, 2}, {100, 1}, {100, 2}}) == std::vector<int>{1, 2, 0, 2});
}

TEST_CASE("a weight below 1 counts as 1") {
    CHECK(split(10, {{100, 0}, {100, -5}}) == std::vector<int>{5, 5});
}

TEST_CASE("large numbers do not overflow") {
    CHECK(split(2'000'000'000, {{2'000'000'000, 1'000'000}, {2'000'000'000, 1'000'000}}) ==
          std::vector<int>{1'000'000'000, 1'000'000'000});
}

TEST_CASE("the sum is min(free, sum of wants) and no demand gets more than it wants") {
    std::mt19937 rng(12345);
    for (int round = 0; round < 2000; ++round) {
        std::vector<SlotDemand> d(rng() % 6);
        for (auto& x : d)
            x = SlotDemand{static_cast<int>(rng() % 20), static_cast<int>(rng() % 5 + 1)};
        const int free = static_cast<int>(rng() % 40);
        const std::vector<int> got = split_by_weight(free, d);
        REQUIRE(got.size() == d.size());
        int wants = 0;
        for (std::size_t i = 0; i < d.size(); ++i) {
            CHECK(got[i] >= 0);
            CHECK(got[i] <= d[i].want);
            wants += d[i].want;
        }
        CHECK(std::accumulate(got.begin(), got.end(), 0) == std::min(free, wants));
    }
}

TEST_SUITE_END();
