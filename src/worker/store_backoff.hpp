#pragma once
// StoreBackoff: how long the worker waits after a failed store call before trying again. The
// store may be busy, restarting, or out of disk; the worker keeps everything in memory and
// tries again, 50 ms after the first failure, doubling up to 2 s, until a call succeeds.

#include <algorithm>
#include <chrono>

#include "jobq/clock.hpp"

namespace jobq::worker_detail {

class StoreBackoff {
  public:
    /// The wait after one more failure.
    Duration next() {
        delay_ = std::min(
            delay_ == Duration::zero() ? Duration{std::chrono::milliseconds{50}} : delay_ * 2,
            Duration{std::chrono::seconds{2}});
        return delay_;
    }
    /// A call succeeded: the next failure waits the shortest time again.
    void reset() { delay_ = Duration::zero(); }

  private:
    Duration delay_{};
};

}  // namespace jobq::worker_detail
