#include "jobq/job_spec.hpp"

#include <algorithm>
#include <string>

#include <fmt/format.h>

#include "jobq/error.hpp"
#include "jobq/time_format.hpp"

namespace jobq {

namespace {

constexpr std::size_t max_name_length = 255;
constexpr std::size_t max_unique_key_length = 1024;

[[noreturn]] void bad(std::string_view field, std::string_view why) {
    throw Error(ErrorCode::invalid_argument, fmt::format("{}: {}", field, why), std::string(field));
}

// Names (kind, queue, tenant, tags) are identifiers in logs, metrics and the CLI: printable,
// no spaces, bounded length.
void check_name(std::string_view field, std::string_view value) {
    if (value.empty()) bad(field, "must not be empty");
    if (value.size() > max_name_length) {
        bad(field, fmt::format("must be at most {} characters (got {})", max_name_length, value.size()));
    }
    for (unsigned char c : value) {
        if (c <= 0x20 || c == 0x7f) {
            bad(field, fmt::format("must not contain spaces or control characters (got '{}')", value));
        }
    }
}

}  // namespace

JobSpec::JobSpec(std::string kind, nlohmann::json payload)
    : kind_(std::move(kind)), payload_(std::move(payload)) {}

JobSpec& JobSpec::queue(std::string name) { queue_ = std::move(name); return *this; }
JobSpec& JobSpec::priority(int p) { priority_ = p; return *this; }
JobSpec& JobSpec::run_at(Timestamp t) { run_at_ = t; delay_.reset(); return *this; }
JobSpec& JobSpec::delay(Duration d) { delay_ = d; run_at_.reset(); return *this; }
JobSpec& JobSpec::max_attempts(int n) { max_attempts_ = n; return *this; }
JobSpec& JobSpec::retry_policy(RetryPolicy p) { retry_policy_ = std::move(p); return *this; }
JobSpec& JobSpec::timeout(Duration d) { timeout_ = d; return *this; }
JobSpec& JobSpec::unique_key(std::string key) { unique_key_ = std::move(key); return *this; }
JobSpec& JobSpec::unique_states(std::vector<JobState> s) { unique_states_ = std::move(s); return *this; }
JobSpec& JobSpec::unique_window(Duration d) { unique_window_ = d; return *this; }
JobSpec& JobSpec::unique_per_tenant(bool yes) { unique_per_tenant_ = yes; return *this; }
JobSpec& JobSpec::tags(std::vector<std::string> t) { tags_ = std::move(t); return *this; }
JobSpec& JobSpec::tag(std::string t) { tags_.push_back(std::move(t)); return *this; }
JobSpec& JobSpec::tenant(std::string t) { tenant_ = std::move(t); return *this; }

void JobSpec::validate() const {
    check_name("kind", kind_);
    if (!payload_.is_object()) {
        bad("payload", fmt::format("must be a JSON object (got {})", payload_.type_name()));
    }
    check_name("queue", queue_);
    if (priority_ < min_priority || priority_ > max_priority) {
        bad("priority", fmt::format("must be between {} and {} (got {})", min_priority,
                                    max_priority, priority_));
    }
    if (delay_ && *delay_ < Duration::zero()) {
        bad("delay", fmt::format("must not be negative (got -{})", format_duration(-*delay_)));
    }
    if (max_attempts_ < 1) {
        bad("max_attempts", fmt::format("must be at least 1 (got {})", max_attempts_));
    }
    if (retry_policy_ && retry_policy_->shape() == RetryPolicy::Shape::custom) {
        bad("retry_policy",
            "a custom policy cannot be stored with a job; set it on the kind (Registry::add "
            "options) or the worker");
    }
    if (timeout_ && *timeout_ <= Duration::zero()) {
        bad("timeout", fmt::format("must be positive (got {})", timeout_->count() < 0
                                                                     ? fmt::format("-{}", format_duration(-*timeout_))
                                                                     : format_duration(*timeout_)));
    }
    if (!unique_key_.empty() && unique_key_.size() > max_unique_key_length) {
        bad("unique_key", fmt::format("must be at most {} characters", max_unique_key_length));
    }
    const bool unique_options = !unique_states_.empty() || unique_window_;
    if (unique_key_.empty() && unique_options) {
        bad("unique_key", "must be set when unique_states or unique_window is given");
    }
    if (unique_window_ && *unique_window_ <= Duration::zero()) {
        bad("unique_window", fmt::format("must be positive (got {})", format_duration(*unique_window_)));
    }
    for (const std::string& t : tags_) check_name("tags", t);
    if (!tenant_.empty()) {
        check_name("tenant", tenant_);
        // ':' separates the tenant from the key in the scoped unique key ("t:<tenant>:<key>").
        if (tenant_.find(':') != std::string::npos) {
            bad("tenant", fmt::format("must not contain ':' (got '{}')", tenant_));
        }
    }
}

}  // namespace jobq
