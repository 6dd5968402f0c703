#pragma once
// For backend authors. Tenant quotas (FlowLimits::max_queued) as one insert uses them up: the
// backend reads each tenant's quota and queued count once per insert, inside the insert's
// transaction, and asks admit() before writing each new job. One rule for every backend:
// coalesced duplicates (unique keys) and jobs without a tenant never count, the check is
// queued + 1 <= max_queued, and a refusal throws QuotaExceeded so nothing of the insert stays.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "jobq/quota_exceeded.hpp"

namespace jobq {

class TenantQuotas {
  public:
    /// Records what the store holds for `tenant`: its max_queued (nullopt: no quota) and how
    /// many of its jobs are queued (ignored without a quota).
    void add(std::string tenant, std::optional<std::int64_t> max_queued, std::int64_t queued);
    /// Whether add() was called for `tenant`.
    bool knows(std::string_view tenant) const;
    /// Whether any recorded tenant has a quota.
    bool any() const noexcept;
    /// Counts one new job of `tenant` (not a coalesced duplicate) against its quota; throws
    /// QuotaExceeded when the tenant already has max_queued jobs queued. A tenant that is ""
    /// or was never recorded is not limited.
    void admit(std::string_view tenant);

  private:
    struct Entry {
        std::optional<std::int64_t> max_queued;
        std::int64_t queued = 0;
    };
    std::map<std::string, Entry, std::less<>> tenants_;
};

}  // namespace jobq
