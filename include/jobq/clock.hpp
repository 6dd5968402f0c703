#pragma once
// Time as jobq sees it: microsecond timestamps and an injectable clock, so that tests move
// time forward instead of sleeping.

#include <atomic>
#include <chrono>

namespace jobq {

/// A point in wall-clock time with the precision jobq stores (microseconds since the epoch).
using Timestamp = std::chrono::sys_time<std::chrono::microseconds>;
/// A span of time with the precision jobq stores.
using Duration = std::chrono::microseconds;
/// The longest duration jobq accepts anywhere (a delay, timeout, unique window, cron grace or
/// max age, a rate's period): 100 years. Far beyond any real use, and far enough from the
/// representable limit that adding it to any valid time cannot overflow.
inline constexpr Duration max_duration = std::chrono::days{36525};

/// Source of the current time. Everything that reads "now" takes one of these.
class Clock {
  public:
    virtual ~Clock() = default;
    /// The current time.
    virtual Timestamp now() const = 0;
};

/// The real wall clock.
class SystemClock final : public Clock {
  public:
    Timestamp now() const override;
};

/// The process-wide real clock, used wherever no clock is injected.
const Clock& system_clock() noexcept;

/// A clock that only moves when told to; for tests. Thread-safe.
class ManualClock final : public Clock {
  public:
    explicit ManualClock(Timestamp start);
    Timestamp now() const override { return Timestamp{Duration{us_.load()}}; }
    /// Moves the clock to `t`.
    void set(Timestamp t) { us_.store(t.time_since_epoch().count()); }
    /// Moves the clock forward by `d`.
    void advance(Duration d) { us_.fetch_add(d.count()); }

  private:
    std::atomic<Duration::rep> us_;
};

}  // namespace jobq
