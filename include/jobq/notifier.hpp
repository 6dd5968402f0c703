#pragma once
// Notifier: wake-ups that tell idle workers a queue has new work, kept apart from storage.

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

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

/// Delivers "queue X has work" to subscribers. Callbacks run on the notifying thread and
/// must be quick (post to an executor); they may be invoked concurrently.
class Notifier {
public:
    using Callback = std::function<void(std::string_view queue)>;
    virtual ~Notifier() = default;
    /// Registers a callback for every queue's wake-ups.
    virtual Subscription subscribe(Callback cb) = 0;
    /// Wakes subscribers of `queue`; an empty name wakes every queue.
    virtual void notify(std::string_view queue) = 0;
};

/// In-process notifier: notify() calls every subscriber directly. Thread-safe.
class LocalNotifier final : public Notifier {
public:
    Subscription subscribe(Callback cb) override;
    void notify(std::string_view queue) override;

private:
    // Shared with the subscriptions (weakly), so one that outlives the notifier is harmless.
    struct State {
        std::mutex mutex;
        std::uint64_t next_id = 0;
        std::unordered_map<std::uint64_t, std::shared_ptr<const Callback>> subscribers;
    };
    std::shared_ptr<State> state_ = std::make_shared<State>();
};

}  // namespace jobq
