#include "notifier_registry.hpp"

#include <map>
#include <mutex>

namespace jobq::sqlite_detail {

namespace {

struct Registry {
    std::mutex mutex;
    std::map<std::string, std::weak_ptr<LocalNotifier>, std::less<>> notifiers;
};

Registry& registry() {
    // Never destroyed: a store destroyed during static destruction may still reach it.
    static Registry* r = new Registry;
    return *r;
}

}  // namespace

std::shared_ptr<LocalNotifier> shared_notifier(const std::string& canonical_path) {
    Registry& r = registry();
    std::lock_guard lock(r.mutex);
    // Forget files no store has open any more, so the map does not grow with every file a
    // long-lived process ever opened.
    std::erase_if(r.notifiers, [](const auto& entry) { return entry.second.expired(); });
    std::weak_ptr<LocalNotifier>& slot = r.notifiers[canonical_path];
    if (auto existing = slot.lock()) return existing;
    auto created = std::make_shared<LocalNotifier>();
    slot = created;
    return created;
}

}  // namespace jobq::sqlite_detail
