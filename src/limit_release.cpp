#include "jobq/backend/limit_release.hpp"

#include <algorithm>
#include <map>

namespace jobq {

std::vector<LimitScope> held_scopes(std::string_view queue, std::string_view kind,
                                    std::string_view tenant) {
    std::vector<LimitScope> scopes{LimitScope::queue(std::string(queue)),
                                   LimitScope::kind(std::string(kind))};
    if (!tenant.empty()) scopes.push_back(LimitScope::tenant(std::string(tenant)));
    return scopes;
}

void LimitRelease::add(std::string_view queue, std::string_view kind, std::string_view tenant) {
    ended_.push_back({std::string(queue), std::string(kind), std::string(tenant)});
}

std::vector<std::pair<LimitScope, std::int64_t>> LimitRelease::per_scope() const {
    std::map<LimitScope, std::int64_t> counts;
    for (const Ended& e : ended_) {
        for (LimitScope& scope : held_scopes(e.queue, e.kind, e.tenant)) {
            ++counts[std::move(scope)];
        }
    }
    return {counts.begin(), counts.end()};
}

std::vector<std::string> LimitRelease::queues_to_wake(const std::set<LimitScope>& changed) const {
    std::vector<std::string> queues;
    if (changed.empty()) return queues;
    for (const Ended& e : ended_) {
        if (std::find(queues.begin(), queues.end(), e.queue) != queues.end()) continue;
        for (const LimitScope& scope : held_scopes(e.queue, e.kind, e.tenant)) {
            if (changed.count(scope) != 0) {
                queues.push_back(e.queue);
                break;
            }
        }
    }
    return queues;
}

}  // namespace jobq
