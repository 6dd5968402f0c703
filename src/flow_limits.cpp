#include "jobq/flow_limits.hpp"

#include <string>

#include <fmt/format.h>

#include "jobq/error.hpp"
#include "jobq/limit_scope.hpp"

namespace jobq {

namespace {

[[noreturn]] void bad(std::string_view field, std::string_view why) {
    throw Error(ErrorCode::invalid_argument, fmt::format("{}: {}", field, why), std::string(field));
}

}  // namespace

void FlowLimits::validate(const LimitScope& scope) const {
    scope.validate();
    if (max_running && *max_running < 1) {
        bad("max_running", fmt::format("must be at least 1 (got {})", *max_running));
    }
    if (rate) rate->validate();
    if (max_queued) {
        if (scope.type != ScopeType::tenant) {
            bad("max_queued",
                fmt::format("applies to a tenant only, not to {}", scope.to_string()));
        }
        if (*max_queued < 0) {
            bad("max_queued", fmt::format("must not be negative (got {})", *max_queued));
        }
    }
    if (weight != 1 && scope.type != ScopeType::tenant) {
        bad("weight",
            fmt::format("applies to a tenant only, not to {} (got {})", scope.to_string(), weight));
    }
    if (weight < 1 || weight > max_weight) {
        bad("weight", fmt::format("must be between 1 and {} (got {})", max_weight, weight));
    }
}

}  // namespace jobq
