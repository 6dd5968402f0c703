#pragma once
// Fixed instants for tests that hand the store its "now" themselves: nothing here reads a clock,
// so a test gives the same answer whenever it runs.

#include <chrono>

#include "jobq/clock.hpp"

namespace jobq::test {

/// 2023-11-14T22:13:20Z: far from any epoch edge, a whole minute (cron windows line up).
inline const Timestamp t0{std::chrono::seconds{1'700'000'000}};

/// `s` seconds after t0.
inline Timestamp at(int s) {
    return t0 + std::chrono::seconds{s};
}

}  // namespace jobq::test
