#pragma once
// WorkflowSpec: what a caller asks to enqueue as one workflow — named jobs and the
// dependencies between them (a DAG: fan-out, fan-in, diamonds, any depth), inserted all or
// none. A job with open dependencies waits in `pending` until its last dependency completes.
// This header is the definition and its validation; the store that inserts and releases
// workflows builds on it (DESIGN.md §5).

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "jobq/clock.hpp"
#include "jobq/input_limits.hpp"
#include "jobq/job_spec.hpp"

namespace jobq {

/// What a job does when one of its dependencies ends without completing.
enum class DependencyPolicy {
    cancel,  ///< the job is cancelled too, and so, transitively, are the jobs waiting on it
    ignore,  ///< the dependency counts as met: the job runs and can see how it ended
};

/// "cancel" or "ignore".
std::string_view to_string(DependencyPolicy p) noexcept;

/// One job of a workflow: a name unique within the workflow, the job itself, and the names
/// of the jobs it waits for.
struct WorkflowJob {
    std::string name;
    JobSpec spec;
    std::vector<std::string> deps;
    DependencyPolicy on_discarded = DependencyPolicy::cancel;
    DependencyPolicy on_cancelled = DependencyPolicy::cancel;
};

/// At most this many jobs in one workflow: one insert transaction holds them all.
inline constexpr std::size_t max_workflow_jobs = 10'000;

/// A workflow to enqueue. Setters return *this so calls chain:
///   WorkflowSpec{"nightly-report"}
///       .add("extract", JobSpec{"report.extract"})
///       .add("load", JobSpec{"report.load"}, {"extract"})
class WorkflowSpec {
  public:
    explicit WorkflowSpec(std::string name);

    /// Adds a job named `name` that waits for the jobs named in `deps` (added before or after
    /// it: order does not matter). Checked by validate(), not here.
    WorkflowSpec& add(std::string name, JobSpec spec, std::vector<std::string> deps = {});
    /// Adds a job with its policies.
    WorkflowSpec& add(WorkflowJob job);
    /// Unfinished jobs are cancelled (reason `deadline`) once this time has passed.
    WorkflowSpec& deadline(Timestamp t);

    const std::string& name() const noexcept { return name_; }
    const std::vector<WorkflowJob>& jobs() const noexcept { return jobs_; }
    const std::optional<Timestamp>& deadline() const noexcept { return deadline_; }

    /// Throws Error(invalid_argument) naming the field at fault (`name`, `jobs[3].deps[0]`,
    /// `jobs[2].priority`, ...): a deadline outside 1970..9999, an empty workflow, more than
    /// max_workflow_jobs jobs or 100,000 dependencies in all, a
    /// bad or repeated job name, a dependency on a name the workflow does not have, on the job
    /// itself or named twice, any job spec that JobSpec::validate refuses, and a cycle, named
    /// job by job ("a -> b -> c -> a").
    void validate(const InputLimits& limits = {}) const;

    /// The jobs' indices in an order where every job comes after all of its dependencies
    /// (ties in the order they were added), so an insert can give each job its dependencies'
    /// ids. Validates first.
    std::vector<std::size_t> insertion_order(const InputLimits& limits = {}) const;
    /// insertion_order() for jobs appended to a stored workflow: a dependency on a name this
    /// spec does not have is taken as a job the workflow already has (the store checks that it
    /// does, and that no new name repeats one of its jobs). The spec's name and deadline are
    /// not used by an append.
    std::vector<std::size_t> append_order(const InputLimits& limits = {}) const;

    /// The JSON form `jobq workflow add` reads: {"name": "...", "deadline": "<ISO 8601>",
    /// "jobs": [{"name": "a", "deps": ["b", ...], "on_discarded": "cancel"|"ignore",
    /// "on_cancelled": "cancel"|"ignore", ...}]}, where each job also takes every key of
    /// JobSpec's JSON form ("kind", "payload", "queue", "delay_us", ...). Policies left at
    /// "cancel" and empty deps are omitted.
    nlohmann::json to_json() const;
    /// Parses to_json()'s form and validates it; throws Error(invalid_argument) naming the
    /// field at fault ("jobs[2].deps", "jobs[0].priority"); unknown keys are refused. Parse
    /// text with jobq::parse_json_input, which refuses a key given twice (nlohmann's parser
    /// keeps the last, which would drop a "deps" silently); the payload's depth limit counts
    /// from the payload, so give the parser three levels more for the workflow around it.
    /// With `append`, validates as append_order() does.
    static WorkflowSpec from_json(const nlohmann::json& j, const InputLimits& limits = {},
                                  bool append = false);

  private:
    std::vector<std::size_t> order(const InputLimits& limits, bool append) const;

    std::string name_;
    std::vector<WorkflowJob> jobs_;
    std::optional<Timestamp> deadline_;
};

}  // namespace jobq
