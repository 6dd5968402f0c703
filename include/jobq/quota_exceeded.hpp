#pragma once
// QuotaExceeded: an enqueue that would take a tenant over its quota of queued jobs.

#include <cstdint>
#include <string>

#include "jobq/error.hpp"

namespace jobq {

/// Thrown by enqueue (code ErrorCode::quota_exceeded, field "tenant"); nothing was written.
class QuotaExceeded : public Error {
  public:
    QuotaExceeded(std::string tenant, std::int64_t limit, std::int64_t queued);

    const std::string& tenant() const noexcept { return tenant_; }
    /// The tenant's max_queued.
    std::int64_t limit() const noexcept { return limit_; }
    /// Queued jobs the tenant had before this enqueue (with those of the same batch before it).
    std::int64_t queued() const noexcept { return queued_; }

  private:
    std::string tenant_;
    std::int64_t limit_;
    std::int64_t queued_;
};

}  // namespace jobq
