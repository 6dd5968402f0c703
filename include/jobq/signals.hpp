#pragma once
// Outcome signals: exceptions a handler throws to choose what happens to its job.
// Any other exception is a failed attempt, retried by policy.

#include <stdexcept>
#include <string>

#include "jobq/clock.hpp"

namespace jobq {

/// Base of the outcome signals; catch this to let them pass through your own handlers.
class JobSignal : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

/// Fail this attempt and run again after `delay` (instead of the retry policy's delay).
/// Spends an attempt; when none is left the job is discarded.
class RetryAfter : public JobSignal {
  public:
    explicit RetryAfter(Duration delay, std::string reason = "retry requested")
        : JobSignal(std::move(reason)), delay_(delay) {}
    Duration delay() const noexcept { return delay_; }

  private:
    Duration delay_;
};

/// Run again after `delay` without spending an attempt (max_attempts grows by one).
class Snooze : public JobSignal {
  public:
    explicit Snooze(Duration delay) : JobSignal("snoozed"), delay_(delay) {}
    Duration delay() const noexcept { return delay_; }

  private:
    Duration delay_;
};

/// Send the job straight to the dead-letter queue with `reason`; no further attempts.
class Discard : public JobSignal {
  public:
    explicit Discard(std::string reason) : JobSignal(std::move(reason)) {}
};

/// End the job as cancelled with `reason`; no further attempts.
class Cancel : public JobSignal {
  public:
    explicit Cancel(std::string reason) : JobSignal(std::move(reason)) {}
};

}  // namespace jobq
