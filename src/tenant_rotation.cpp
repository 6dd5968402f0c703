#include "jobq/backend/tenant_rotation.hpp"

#include <algorithm>

namespace jobq {

TenantVisit plan_tenant_visit(const TenantFacts& facts, const std::string& cursor, int max_named) {
    std::vector<std::string> names;
    names.reserve(facts.named.size());
    for (const std::string& name : facts.named) {
        if (!name.empty()) names.push_back(name);  // "" is the plain turn, never a name
    }
    std::sort(names.begin(), names.end());
    names.erase(std::unique(names.begin(), names.end()), names.end());
    // Rotation order: the names after the cursor, then from the first name up to the cursor.
    std::stable_partition(names.begin(), names.end(),
                          [&cursor](const std::string& name) { return name > cursor; });

    TenantVisit visit;
    visit.cursor = cursor;
    const auto max = static_cast<std::size_t>(std::max(max_named, 1));
    if (names.size() > max) {
        names.resize(max);
        visit.more = true;
        visit.cursor = names.back();
    }
    if (facts.plain) visit.tenants.emplace_back();
    visit.tenants.insert(visit.tenants.end(), std::make_move_iterator(names.begin()),
                         std::make_move_iterator(names.end()));
    return visit;
}

}  // namespace jobq
