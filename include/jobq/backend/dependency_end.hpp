#pragma once
// For backend authors. What a dependency's end does to the workflow jobs waiting for it, as one
// rule every backend applies in the transaction that ends the dependency (its completion,
// discard, cancel or removal): the backend reads each waiting job's policies and calls
// judge_dependency_end(); a met dependency takes one off the job's count of open ones (at zero
// the job becomes available), a cancelling one cancels the job with the error it gives, and
// the backend carries that cancellation on to the job's own dependents the same way.

#include <optional>
#include <string>
#include <string_view>

#include "jobq/job.hpp"
#include "jobq/workflow_spec.hpp"

namespace jobq {

/// How a dependency ended, as far as the jobs waiting for it are concerned.
enum class DependencyEnd {
    completed,
    discarded,  ///< out of attempts, or discarded by its handler
    cancelled,  ///< by an operator, a deadline, or a cancellation carried down from upstream
    removed,    ///< deleted from the store while jobs waited for it: treated as cancelled
};

/// "completed", "discarded", "cancelled", "removed".
std::string_view to_string(DependencyEnd end) noexcept;

/// The verdict for one waiting job.
struct DependencyVerdict {
    /// The dependency counts as met: one fewer open dependency.
    bool met = false;
    /// Set when the waiting job is to be cancelled: the error it gets, naming the upstream job
    /// and how it ended.
    std::optional<std::string> cancel_error;

    friend bool operator==(const DependencyVerdict&, const DependencyVerdict&) = default;
};

/// The rule (Oban's defaults): a completed dependency is met; a discarded one is met under
/// `on_discarded = ignore` and cancels the waiting job under `cancel`; a cancelled or removed
/// one likewise under `on_cancelled`. `name` and `id` are the dependency's.
DependencyVerdict judge_dependency_end(DependencyEnd end, DependencyPolicy on_discarded,
                                       DependencyPolicy on_cancelled, std::string_view name,
                                       JobId id);

}  // namespace jobq
