#include "jobq/notifier.hpp"

#include <vector>

namespace jobq {

Subscription LocalNotifier::subscribe(Callback cb) {
    std::lock_guard lock(mutex_);
    const std::uint64_t id = next_id_++;
    subscribers_.emplace(id, std::make_shared<const Callback>(std::move(cb)));
    return Subscription([this, id] {
        std::lock_guard lock(mutex_);
        subscribers_.erase(id);
    });
}

void LocalNotifier::notify(std::string_view queue) {
    // Copy out under the lock, call outside it: a callback may subscribe or unsubscribe.
    std::vector<std::shared_ptr<const Callback>> targets;
    {
        std::lock_guard lock(mutex_);
        targets.reserve(subscribers_.size());
        for (const auto& [id, cb] : subscribers_) targets.push_back(cb);
    }
    for (const auto& cb : targets) (*cb)(queue);
}

}  // namespace jobq
