#include "jobq/quota_exceeded.hpp"

#include <fmt/format.h>

namespace jobq {

QuotaExceeded::QuotaExceeded(std::string tenant, std::int64_t limit, std::int64_t queued)
    : Error(ErrorCode::quota_exceeded,
            fmt::format("tenant {}: quota of {} queued jobs reached ({} queued)", tenant, limit,
                        queued),
            "tenant"),
      tenant_(std::move(tenant)),
      limit_(limit),
      queued_(queued) {}

}  // namespace jobq
