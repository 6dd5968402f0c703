#pragma once
// JobContext: what a handler sees of the job it runs and of the worker running it.

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "jobq/job.hpp"

namespace jobq {

namespace detail {
struct RunControl;
}

/// Why a running handler is asked to stop.
enum class CancelReason {
    none,
    timeout,     ///< the job's per-attempt timeout ran out
    shutdown,    ///< the worker is stopping and the grace period is over
    lease_lost,  ///< the worker no longer holds the job (its lease ran out and it was rescued)
    cancelled,   ///< the job was cancelled (Queue::cancel), in this process or another
};

/// The job being run and the controls of its attempt. Valid until the handler returns.
class JobContext {
  public:
    JobContext(Job job, std::shared_ptr<detail::RunControl> control);
    ~JobContext();
    JobContext(const JobContext&) = delete;
    JobContext& operator=(const JobContext&) = delete;

    /// The job as claimed (attempt already counts this run).
    const Job& job() const noexcept { return job_; }
    JobId id() const noexcept { return job_.id; }
    const std::string& kind() const noexcept { return job_.kind; }
    /// The job's JSON payload (an object).
    const nlohmann::json& payload() const noexcept { return job_.payload; }
    /// This attempt's number, 1-based.
    int attempt() const noexcept { return job_.attempt; }

    /// The result of the dependency named `name` (a job of the same workflow this job waits
    /// for), as it stood when this job was claimed; null when it returned none. Throws
    /// Error(not_found) when this job has no dependency of that name. A dependency that was
    /// discarded or cancelled under policy `ignore` has a null result: dependencies() says how
    /// it ended.
    const nlohmann::json& dependency_result(std::string_view name) const;
    /// Every dependency's result as one object, by name.
    nlohmann::json dependency_results() const;
    /// The dependencies with their states, results and last errors.
    const std::vector<UpstreamResult>& dependencies() const noexcept { return job_.upstream; }

    /// True once the attempt should stop (timeout, shutdown, lost lease). Awaitable handlers
    /// also see their pending operation cancelled; blocking handlers should poll this.
    bool cancel_requested() const noexcept;
    /// Why cancellation was requested, or CancelReason::none.
    CancelReason cancel_reason() const noexcept;
    /// Asks the worker to renew this job's lease now (it also renews on its own schedule).
    void heartbeat();

  private:
    Job job_;
    std::shared_ptr<detail::RunControl> control_;
};

}  // namespace jobq
