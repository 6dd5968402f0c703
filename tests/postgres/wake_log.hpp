#pragma once
// WakeLog: a subscriber that counts the wake-ups a Notifier delivers, per queue, so a test can
// wait (bounded) for one or count how many came. prime() proves the subscription is live on
// the server before a test relies on it: a NOTIFY sent before the LISTEN is in place is lost by
// design, so the test keeps inserting into a queue of its own until a wake-up for it arrives.

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include <doctest/doctest.h>

#include "jobq/backend/notifier.hpp"
#include "jobq/backend/store.hpp"
#include "jobq/job_spec.hpp"
#include "pg_fixture.hpp"

namespace jobq::pgtest {

class WakeLog {
  public:
    explicit WakeLog(Notifier& notifier)
        // The callback holds the counts, not `this`: a delivery racing the end of the
        // subscription must not touch a destroyed object.
        : subscription_(notifier.subscribe([state = state_](std::string_view queue) {
              std::lock_guard lock(state->mutex);
              ++state->counts[std::string(queue)];
              ++state->total;
          })) {}

    /// Wake-ups that named `queue`.
    int count(const std::string& queue) const {
        std::lock_guard lock(state_->mutex);
        const auto it = state_->counts.find(queue);
        return it == state_->counts.end() ? 0 : it->second;
    }
    /// Wake-ups that concern `queue`: those naming it and those naming every queue ("").
    int count_for(const std::string& queue) const { return count(queue) + count(""); }
    /// Every wake-up so far.
    int total() const {
        std::lock_guard lock(state_->mutex);
        return state_->total;
    }
    /// A readable list of what arrived, for failure messages.
    std::string describe() const {
        std::lock_guard lock(state_->mutex);
        std::string s = "wake-ups:";
        for (const auto& [queue, n] : state_->counts) s += " '" + queue + "'x" + std::to_string(n);
        return s;
    }
    /// Ends the subscription.
    void reset() { subscription_.reset(); }

    /// Waits (bounded) until a wake-up naming `queue` (or every queue) has arrived.
    void wait_for(const std::string& queue,
                  SteadyClock::duration deadline = std::chrono::seconds{30}) const {
        wait_until([&] { return count(queue) > 0; }, "a wake-up for queue '" + queue + "'",
                   [this] { return describe(); }, deadline);
    }

  private:
    struct State {
        mutable std::mutex mutex;
        std::map<std::string, int> counts;
        int total = 0;
    };
    std::shared_ptr<State> state_ = std::make_shared<State>();
    Subscription subscription_;
};

/// Inserts into `queue` through `writer` until every log has seen a wake-up for it: from then
/// on the logs' subscriptions are listening on the server. `writer` may be a store (insert) or
/// anything else that sends one wake-up per call.
template <class Write>
void prime_with(const std::vector<const WakeLog*>& logs, const std::string& queue, Write write,
                SteadyClock::duration deadline = std::chrono::seconds{60}) {
    const auto until = SteadyClock::now() + deadline;
    auto all_woken = [&] {
        for (const WakeLog* log : logs) {
            if (log->count(queue) == 0) return false;
        }
        return true;
    };
    while (!all_woken()) {
        if (SteadyClock::now() > until) {
            std::string seen;
            for (const WakeLog* log : logs) seen += "\n" + log->describe();
            FAIL("no wake-up for the priming queue '" << queue << "' arrived" << seen);
        }
        write();
        // One wake-up normally arrives within milliseconds; look again for up to a second
        // before sending another, in case this one went out before the LISTEN was in place.
        const auto retry_at = SteadyClock::now() + std::chrono::seconds{1};
        while (!all_woken() && SteadyClock::now() < retry_at) {
            std::this_thread::sleep_for(poll_period);
        }
    }
}

/// prime_with by inserting one job into `queue` through `writer`.
inline void prime(const std::vector<const WakeLog*>& logs, Store& writer,
                  const std::string& queue = "prime") {
    prime_with(logs, queue, [&] { insert_one(writer, JobSpec{"pg.prime"}.queue(queue)); });
}

}  // namespace jobq::pgtest
