#include "jobq/backend/notifier.hpp"

#include <vector>

namespace jobq {

Subscription LocalNotifier::subscribe(Callback cb) {
    std::lock_guard lock(state_->mutex);
    const std::uint64_t id = state_->next_id++;
    state_->subscribers.emplace(id, std::make_shared<const Callback>(std::move(cb)));
    return Subscription([weak = std::weak_ptr<State>(state_), id] {
        if (auto state = weak.lock()) {
            std::lock_guard lock(state->mutex);
            state->subscribers.erase(id);
        }
    });
}

void LocalNotifier::notify(std::string_view queue) {
    // Copy out under the lock, call outside it: a callback may subscribe or unsubscribe.
    std::vector<std::shared_ptr<const Callback>> targets;
    {
        std::lock_guard lock(state_->mutex);
        targets.reserve(state_->subscribers.size());
        for (const auto& [id, cb] : state_->subscribers) targets.push_back(cb);
    }
    for (const auto& cb : targets) (*cb)(queue);
}

Subscription LocalNotifier::subscribe_cancelled(CancelCallback cb) {
    std::lock_guard lock(state_->mutex);
    const std::uint64_t id = state_->next_id++;
    state_->cancel_subscribers.emplace(id, std::make_shared<const CancelCallback>(std::move(cb)));
    return Subscription([weak = std::weak_ptr<State>(state_), id] {
        if (auto state = weak.lock()) {
            std::lock_guard lock(state->mutex);
            state->cancel_subscribers.erase(id);
        }
    });
}

void LocalNotifier::notify_cancelled(JobId job) {
    std::vector<std::shared_ptr<const CancelCallback>> targets;
    {
        std::lock_guard lock(state_->mutex);
        targets.reserve(state_->cancel_subscribers.size());
        for (const auto& [id, cb] : state_->cancel_subscribers) targets.push_back(cb);
    }
    for (const auto& cb : targets) (*cb)(job);
}

}  // namespace jobq
