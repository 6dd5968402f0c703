#pragma once
// JobSpec: what a caller asks to enqueue. A builder, validated at the API boundary.

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "jobq/clock.hpp"
#include "jobq/input_limits.hpp"
#include "jobq/job_state.hpp"
#include "jobq/retry_policy.hpp"

namespace jobq {

/// Priority bounds: 0 runs first, 9 last.
inline constexpr int min_priority = 0;
inline constexpr int max_priority = 9;
/// Attempts a job gets when the spec does not say.
inline constexpr int default_max_attempts = 20;

/// Description of a job to enqueue. Setters return *this so calls chain:
///   JobSpec{"email.send", {{"to", "a@b.c"}}}.queue("mail").max_attempts(8)
class JobSpec {
  public:
    /// A job of `kind` with `payload`, which must be a JSON object.
    explicit JobSpec(std::string kind, nlohmann::json payload = nlohmann::json::object());

    /// Queue the job goes to (default "default").
    JobSpec& queue(std::string name);
    /// 0 (most urgent) .. 9 (default 0).
    JobSpec& priority(int p);
    /// Run no earlier than `t`; replaces any delay.
    JobSpec& run_at(Timestamp t);
    /// Run no earlier than now + `d`; replaces any run_at. Must not be negative.
    JobSpec& delay(Duration d);
    /// Attempts before the job is discarded (default 20, at least 1).
    JobSpec& max_attempts(int n);
    /// Backoff for this job; overrides the kind's and the worker's. Not a custom policy.
    JobSpec& retry_policy(RetryPolicy p);
    /// Per-attempt time limit; the handler is cancelled when it runs out.
    JobSpec& timeout(Duration d);
    /// Coalesces enqueues with the same key into one job while it is not finished.
    JobSpec& unique_key(std::string key);
    /// States in which an existing job blocks a duplicate (default: every non-terminal state).
    JobSpec& unique_states(std::vector<JobState> states);
    /// Only jobs created within this window block a duplicate.
    JobSpec& unique_window(Duration d);
    /// Whether the unique key is scoped to the tenant (default true).
    JobSpec& unique_per_tenant(bool yes);
    /// Labels for filtering and metrics: a set (a repeated tag is kept once), at most 100.
    /// tags() replaces them, tag() adds one.
    JobSpec& tags(std::vector<std::string> t);
    JobSpec& tag(std::string t);
    /// Tenant the job belongs to (empty: none).
    JobSpec& tenant(std::string t);

    const std::string& kind() const noexcept { return kind_; }
    const nlohmann::json& payload() const noexcept { return payload_.json; }
    const std::string& queue() const noexcept { return queue_; }
    int priority() const noexcept { return priority_; }
    const std::optional<Timestamp>& run_at() const noexcept { return run_at_; }
    const std::optional<Duration>& delay() const noexcept { return delay_; }
    int max_attempts() const noexcept { return max_attempts_; }
    const std::optional<RetryPolicy>& retry_policy() const noexcept { return retry_policy_; }
    const std::optional<Duration>& timeout() const noexcept { return timeout_; }
    const std::string& unique_key() const noexcept { return unique_key_; }
    const std::vector<JobState>& unique_states() const noexcept { return unique_states_; }
    const std::optional<Duration>& unique_window() const noexcept { return unique_window_; }
    bool unique_per_tenant() const noexcept { return unique_per_tenant_; }
    const std::vector<std::string>& tags() const noexcept { return tags_; }
    const std::string& tenant() const noexcept { return tenant_; }

    /// Throws Error(invalid_argument) naming the first bad field; returns when all are valid.
    /// Checks the payload's JSON (depth, UTF-8, no NUL, finite numbers) against `limits`; its
    /// size is checked where it is serialised for storage (to_new_job).
    void validate(const InputLimits& limits = {}) const;

    /// Serialised form, as a schedule stores its job template: {"kind":..., "payload":{...},
    /// "queue":..., ...}; fields left at their defaults are omitted. Throws
    /// Error(invalid_argument) for a custom retry policy, which cannot be stored.
    nlohmann::json to_json() const;
    /// Parses to_json()'s form and validates it against `limits`; throws
    /// Error(invalid_argument) naming the bad field ("priority"); unknown keys are rejected
    /// too, so a typo is not silently dropped.
    static JobSpec from_json(const nlohmann::json& j, const InputLimits& limits = {});

  private:
    // The payload, copied with care: nlohmann copies a JSON value recursively, one stack frame
    // per level, so copying a payload nested deeper than any limit allows
    // (max_json_depth_setting) could overflow the stack before validate() ever saw it. Such a
    // copy keeps no JSON, only the fact, which validate() reports.
    struct Payload {
        nlohmann::json json;
        bool too_deep = false;

        Payload() = default;
        explicit Payload(nlohmann::json j) noexcept : json(std::move(j)) {}
        Payload(const Payload& other);
        Payload& operator=(const Payload& other);
        Payload(Payload&&) noexcept = default;
        Payload& operator=(Payload&&) noexcept = default;
        ~Payload() = default;
    };

    std::string kind_;
    Payload payload_;
    std::string queue_ = "default";
    int priority_ = 0;
    std::optional<Timestamp> run_at_;
    std::optional<Duration> delay_;
    int max_attempts_ = default_max_attempts;
    std::optional<RetryPolicy> retry_policy_;
    std::optional<Duration> timeout_;
    std::string unique_key_;
    std::vector<JobState> unique_states_;
    std::optional<Duration> unique_window_;
    bool unique_per_tenant_ = true;
    std::vector<std::string> tags_;
    std::string tenant_;
};

}  // namespace jobq
