#pragma once
// BatchSpec: independent jobs enqueued together under one batch id, with callback jobs of
// kinds the caller names that run once when the batch gets there: every job completed, a job
// was discarded, every job finished however it ended. Each callback's payload is its own,
// with "batch" set to a summary (counts, failed ids).

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "jobq/input_limits.hpp"
#include "jobq/job_spec.hpp"

namespace jobq {

/// A callback a batch can have, each a job of a kind the user names.
enum class BatchCallback {
    all_completed,  ///< every job of the batch completed
    any_discarded,  ///< a job of the batch was discarded (the first time only)
    all_finished,   ///< every job reached a terminal state, however it ended
};

/// "all_completed", "any_discarded", "all_finished".
std::string_view to_string(BatchCallback c) noexcept;
/// The callback named `name`, or nullopt.
std::optional<BatchCallback> parse_batch_callback(std::string_view name) noexcept;

/// A batch to enqueue. Setters return *this so calls chain:
///   BatchSpec{"exports"}.add(JobSpec{"export.one"}).on(BatchCallback::all_completed,
///                                                      JobSpec{"report.build"})
class BatchSpec {
  public:
    explicit BatchSpec(std::string name);

    BatchSpec& add(JobSpec job);
    /// The job to enqueue when `when` happens (replacing one set before for it).
    BatchSpec& on(BatchCallback when, JobSpec callback);

    const std::string& name() const noexcept { return name_; }
    const std::vector<JobSpec>& jobs() const noexcept { return jobs_; }
    const std::vector<std::pair<BatchCallback, JobSpec>>& callbacks() const noexcept {
        return callbacks_;
    }

    /// Throws Error(invalid_argument) naming the field at fault (`name`, `jobs[3].priority`,
    /// `callbacks.all_completed.kind`): a bad name, more than max_workflow_jobs jobs, a job
    /// or callback with a unique key (a batch counts its own jobs; a callback must be a job of
    /// its own), a callback payload with a "batch" key (the summary goes there), or anything
    /// JobSpec refuses in a job or callback. A batch without jobs is valid: its all_completed and
    /// all_finished callbacks run at once, so an empty fan-out still reaches whatever waits for it.
    void validate(const InputLimits& limits = {}) const;

    /// {"name": "...", "jobs": [<JobSpec JSON>...], "callbacks": {"all_completed": <JobSpec
    /// JSON>, ...}}, as `jobq batch add` reads it.
    nlohmann::json to_json() const;
    /// Parses to_json()'s form and validates it; unknown keys are refused.
    static BatchSpec from_json(const nlohmann::json& j, const InputLimits& limits = {});

  private:
    std::string name_;
    std::vector<JobSpec> jobs_;
    std::vector<std::pair<BatchCallback, JobSpec>> callbacks_;
};

}  // namespace jobq
