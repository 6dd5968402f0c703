#pragma once
// Bounded polling: the one way tests wait for something another thread or process does. The
// deadline is generous (a loaded 2-core CI box); only a failing test ever reaches it.

#include <chrono>
#include <functional>
#include <thread>

namespace jobq::test {

/// How long a test waits for something before it fails.
inline constexpr auto default_deadline = std::chrono::seconds{120};

/// Polls `done` every `period` until it holds (true) or `deadline` passes (false, after one
/// last look).
inline bool poll_until(const std::function<bool()>& done,
                       std::chrono::steady_clock::duration deadline = default_deadline,
                       std::chrono::steady_clock::duration period = std::chrono::milliseconds{5}) {
    const auto until = std::chrono::steady_clock::now() + deadline;
    while (!done()) {
        if (std::chrono::steady_clock::now() > until) return done();
        std::this_thread::sleep_for(period);
    }
    return true;
}

}  // namespace jobq::test
