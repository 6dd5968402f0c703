#pragma once
// Alarm: a timer on the worker's strand that one coroutine sleeps on and other code ends early,
// or that calls a function when it goes off. A steady_timer behind a plain interface, so that
// the worker's parts need no Asio timer headers; its members are defined in
// worker_runtime.cpp, with the rest of the worker's Asio plumbing (one translation unit
// instantiates Asio's timer and coroutine templates).

#include <chrono>
#include <functional>
#include <memory>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "jobq/clock.hpp"

namespace jobq::worker_detail {

class Alarm {
  public:
    /// An alarm whose sleeps and calls run on `strand`.
    explicit Alarm(const boost::asio::any_io_executor& strand);
    /// Ends a sleep or drops a call still pending (as cancel()).
    ~Alarm();
    Alarm(const Alarm&) = delete;
    Alarm& operator=(const Alarm&) = delete;

    /// Sleeps until `at`, or until cancel(). True when the time came, false when cancelled.
    boost::asio::awaitable<bool> sleep_until(std::chrono::steady_clock::time_point at);
    /// Sleeps for `d`, or until cancel(). True when the time came, false when cancelled.
    boost::asio::awaitable<bool> sleep_for(Duration d);
    /// Calls `fn` on the strand once `d` has passed, unless cancel() comes first.
    void call_after(Duration d, std::function<void()> fn);
    /// Ends the sleep or drops the call pending now, if any; the next one is not affected.
    void cancel();

  private:
    struct Timer;
    std::unique_ptr<Timer> timer_;
};

}  // namespace jobq::worker_detail
