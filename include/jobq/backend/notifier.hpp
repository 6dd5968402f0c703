#pragma once
// For backend authors. Notifier: wake-ups that tell idle workers a queue has new work, kept apart
// from storage.

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "jobq/job.hpp"

namespace jobq {

/// Keeps a subscription alive; unsubscribes when destroyed.
class Subscription {
  public:
    Subscription() = default;
    explicit Subscription(std::function<void()> cancel) : cancel_(std::move(cancel)) {}
    Subscription(Subscription&& o) noexcept : cancel_(std::exchange(o.cancel_, nullptr)) {}
    Subscription& operator=(Subscription&& o) noexcept {
        reset();
        cancel_ = std::exchange(o.cancel_, nullptr);
        return *this;
    }
    ~Subscription() { reset(); }
    /// Unsubscribes now.
    void reset() {
        if (cancel_) std::exchange(cancel_, nullptr)();
    }

  private:
    std::function<void()> cancel_;
};

/// Delivers "queue X has work" and "job N was cancelled" to subscribers. Callbacks run on the
/// notifying thread and must be quick (post to an executor); they may be invoked concurrently.
class Notifier {
  public:
    using Callback = std::function<void(std::string_view queue)>;
    using CancelCallback = std::function<void(JobId id)>;
    virtual ~Notifier() = default;
    /// Registers a callback for every queue's wake-ups.
    virtual Subscription subscribe(Callback cb) = 0;
    /// Wakes subscribers of `queue`; an empty name wakes every queue.
    virtual void notify(std::string_view queue) = 0;
    /// Registers a callback for cancellations of jobs (whichever process cancelled them, where
    /// the notifier reaches other processes).
    virtual Subscription subscribe_cancelled(CancelCallback cb) = 0;
    /// Tells subscribers that job `id` was cancelled.
    virtual void notify_cancelled(JobId id) = 0;
    /// Whether notifications reach other processes. When they do not (SQLite), a worker
    /// checks its running jobs every poll interval instead, to notice cancellations.
    virtual bool reaches_other_processes() const noexcept = 0;
};

/// In-process notifier: notify() calls every subscriber directly. Thread-safe.
class LocalNotifier final : public Notifier {
  public:
    Subscription subscribe(Callback cb) override;
    void notify(std::string_view queue) override;
    Subscription subscribe_cancelled(CancelCallback cb) override;
    void notify_cancelled(JobId id) override;
    bool reaches_other_processes() const noexcept override { return false; }

  private:
    // Shared with the subscriptions (weakly), so one that outlives the notifier is harmless.
    struct State {
        std::mutex mutex;
        std::uint64_t next_id = 0;
        std::unordered_map<std::uint64_t, std::shared_ptr<const Callback>> subscribers;
        std::unordered_map<std::uint64_t, std::shared_ptr<const CancelCallback>> cancel_subscribers;
    };
    std::shared_ptr<State> state_ = std::make_shared<State>();
};

}  // namespace jobq
