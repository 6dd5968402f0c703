#include "jobq/clock.hpp"

namespace jobq {

Timestamp SystemClock::now() const {
    return std::chrono::floor<Duration>(std::chrono::system_clock::now());
}

const Clock& system_clock() noexcept {
    static const SystemClock clock;
    return clock;
}

ManualClock::ManualClock(Timestamp start) : us_(start.time_since_epoch().count()) {}

}  // namespace jobq
