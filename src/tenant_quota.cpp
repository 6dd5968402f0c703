#include "jobq/backend/tenant_quota.hpp"

#include <algorithm>

#include "jobq/quota_exceeded.hpp"

namespace jobq {

void TenantQuotas::add(std::string tenant, std::optional<std::int64_t> max_queued,
                       std::int64_t queued) {
    tenants_[std::move(tenant)] = Entry{max_queued, max_queued ? queued : 0};
}

bool TenantQuotas::knows(std::string_view tenant) const {
    return tenants_.find(tenant) != tenants_.end();
}

bool TenantQuotas::any() const noexcept {
    return std::any_of(tenants_.begin(), tenants_.end(),
                       [](const auto& t) { return t.second.max_queued.has_value(); });
}

void TenantQuotas::admit(std::string_view tenant) {
    if (tenant.empty()) return;
    const auto it = tenants_.find(tenant);
    if (it == tenants_.end() || !it->second.max_queued) return;
    Entry& e = it->second;
    if (e.queued >= *e.max_queued) throw QuotaExceeded(it->first, *e.max_queued, e.queued);
    ++e.queued;
}

}  // namespace jobq
