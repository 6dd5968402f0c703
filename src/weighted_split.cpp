#include "detail/weighted_split.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <numeric>

namespace jobq {

std::vector<int> split_by_weight(int free, std::span<const SlotDemand> demands) {
    const std::size_t n = demands.size();
    std::vector<int> out(n, 0);
    std::vector<std::int64_t> need(n);
    std::vector<std::int64_t> weight(n);
    std::vector<std::size_t> open;  // demands that still want more
    for (std::size_t i = 0; i < n; ++i) {
        need[i] = std::max(demands[i].want, 0);
        weight[i] = std::max(demands[i].weight, 1);
        if (need[i] > 0) open.push_back(i);
    }
    std::int64_t left = std::max(free, 0);

    // Water-filling: a demand whose proportional share covers what it still wants takes just
    // that, and the share it leaves is split again among the rest.
    while (left > 0 && !open.empty()) {
        std::int64_t total = 0;
        for (std::size_t i : open) total += weight[i];
        const std::int64_t before = left;
        std::erase_if(open, [&](std::size_t i) {
            if (before * weight[i] / total < need[i]) return false;
            out[i] += static_cast<int>(need[i]);
            left -= need[i];
            need[i] = 0;
            return true;
        });
        if (left != before) continue;

        // Nobody is satisfied by a share: each takes its share, and the few slots the rounding
        // left over go one each to the heaviest, then the earliest. None can overshoot, since
        // every share is below the want.
        std::int64_t given = 0;
        for (std::size_t i : open) {
            const std::int64_t share = left * weight[i] / total;
            out[i] += static_cast<int>(share);
            need[i] -= share;
            given += share;
        }
        std::int64_t rest = left - given;
        std::stable_sort(open.begin(), open.end(),
                         [&](std::size_t a, std::size_t b) { return weight[a] > weight[b]; });
        for (std::size_t i : open) {
            if (rest == 0) break;
            ++out[i];
            --rest;
        }
        break;
    }
    return out;
}

}  // namespace jobq
