#include "jobq/backend/dependency_end.hpp"

#include <fmt/format.h>

#include "jobq/error.hpp"

namespace jobq {

std::string_view to_string(DependencyEnd end) noexcept {
    switch (end) {
        case DependencyEnd::completed:
            return "completed";
        case DependencyEnd::discarded:
            return "discarded";
        case DependencyEnd::cancelled:
            return "cancelled";
        case DependencyEnd::removed:
            return "removed";
    }
    return "unknown";
}

DependencyVerdict judge_dependency_end(DependencyEnd end, DependencyPolicy on_discarded,
                                       DependencyPolicy on_cancelled, std::string_view name,
                                       JobId id) {
    DependencyVerdict v;
    if (end == DependencyEnd::completed) {
        v.met = true;
        return v;
    }
    const DependencyPolicy policy = end == DependencyEnd::discarded ? on_discarded : on_cancelled;
    if (policy == DependencyPolicy::ignore) {
        v.met = true;
        return v;
    }
    v.cancel_error =
        fmt::format("dependency '{}' (job {}) was {}", printable(name), id, to_string(end));
    return v;
}

}  // namespace jobq
