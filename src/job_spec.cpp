#include "jobq/job_spec.hpp"

#include <algorithm>
#include <climits>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "detail/name_check.hpp"
#include "jobq/error.hpp"
#include "jobq/json_input.hpp"
#include "jobq/time_format.hpp"

namespace jobq {

namespace {

constexpr std::size_t max_unique_key_length = 1024;
// Tags are labels for filtering; a job with hundreds is a payload in disguise.
constexpr std::size_t max_tags = 100;

// Beyond these a time cannot be stored and printed the same way on every backend, and a sum
// like now + delay would overflow into the past.
constexpr Timestamp earliest_run_at{};  // 1970-01-01T00:00:00Z
constexpr Timestamp latest_run_at =
    std::chrono::sys_days{std::chrono::year{9999} / 12 / 31} + std::chrono::hours{24} - Duration{1};
// A delay, timeout or uniqueness window longer than a century is a mistake (a unit mix-up),
// and capping it keeps every sum with a timestamp representable.

[[noreturn]] void bad(std::string_view field, std::string_view why) {
    throw Error(ErrorCode::invalid_argument, fmt::format("{}: {}", field, why), std::string(field));
}

void check_duration_cap(std::string_view field, Duration d) {
    if (d > max_duration) {
        bad(field, fmt::format("must be at most {} (100 years; got {})",
                               format_duration(max_duration), format_duration(d)));
    }
}

// Whether `value` nests deeper than `max_depth` levels (the value itself is level 1), found
// without recursion: the point is to look before anything recurses over it.
bool nests_deeper_than(const nlohmann::json& value, int max_depth) {
    std::vector<std::pair<const nlohmann::json*, int>> stack{{&value, 1}};
    while (!stack.empty()) {
        const auto [v, depth] = stack.back();
        stack.pop_back();
        if (!v->is_structured()) continue;
        if (depth > max_depth) return true;
        for (const nlohmann::json& child : *v) {
            if (child.is_structured()) stack.emplace_back(&child, depth + 1);
        }
    }
    return false;
}

[[noreturn]] void payload_too_deep() {
    bad("payload", fmt::format("nests deeper than {} levels, more than any "
                               "InputLimits::max_json_depth allows",
                               max_json_depth_setting));
}

}  // namespace

JobSpec::Payload::Payload(const Payload& other) : too_deep(other.too_deep) {
    if (!too_deep && nests_deeper_than(other.json, max_json_depth_setting)) too_deep = true;
    if (!too_deep) json = other.json;
}

JobSpec::Payload& JobSpec::Payload::operator=(const Payload& other) {
    if (this != &other) *this = Payload(other);
    return *this;
}

JobSpec::JobSpec(std::string kind, nlohmann::json payload)
    : kind_(std::move(kind)), payload_(std::move(payload)) {}

JobSpec& JobSpec::queue(std::string name) {
    queue_ = std::move(name);
    return *this;
}
JobSpec& JobSpec::priority(int p) {
    priority_ = p;
    return *this;
}
JobSpec& JobSpec::run_at(Timestamp t) {
    run_at_ = t;
    delay_.reset();
    return *this;
}
JobSpec& JobSpec::delay(Duration d) {
    delay_ = d;
    run_at_.reset();
    return *this;
}
JobSpec& JobSpec::max_attempts(int n) {
    max_attempts_ = n;
    return *this;
}
JobSpec& JobSpec::retry_policy(RetryPolicy p) {
    retry_policy_ = std::move(p);
    return *this;
}
JobSpec& JobSpec::timeout(Duration d) {
    timeout_ = d;
    return *this;
}
JobSpec& JobSpec::unique_key(std::string key) {
    unique_key_ = std::move(key);
    return *this;
}
JobSpec& JobSpec::unique_states(std::vector<JobState> s) {
    unique_states_ = std::move(s);
    return *this;
}
JobSpec& JobSpec::unique_window(Duration d) {
    unique_window_ = d;
    return *this;
}
JobSpec& JobSpec::unique_per_tenant(bool yes) {
    unique_per_tenant_ = yes;
    return *this;
}
JobSpec& JobSpec::tags(std::vector<std::string> t) {
    tags_.clear();
    for (std::string& one : t) tag(std::move(one));
    return *this;
}
JobSpec& JobSpec::tag(std::string t) {
    // A set in practice: filtering by a tag cannot tell one copy from two.
    if (std::find(tags_.begin(), tags_.end(), t) == tags_.end()) tags_.push_back(std::move(t));
    return *this;
}
JobSpec& JobSpec::tenant(std::string t) {
    tenant_ = std::move(t);
    return *this;
}

void JobSpec::validate(const InputLimits& limits) const {
    detail::check_name("kind", kind_);
    if (payload_.too_deep) payload_too_deep();
    if (!payload_.json.is_object()) {
        bad("payload", fmt::format("must be a JSON object (got {})", payload_.json.type_name()));
    }
    check_json_input(payload_.json, "payload", limits.max_json_depth);
    detail::check_name("queue", queue_);
    if (priority_ < min_priority || priority_ > max_priority) {
        bad("priority", fmt::format("must be between {} and {} (got {})", min_priority,
                                    max_priority, priority_));
    }
    if (delay_ && *delay_ < Duration::zero()) {
        bad("delay", fmt::format("must not be negative (got {})", format_duration(*delay_)));
    }
    if (delay_) check_duration_cap("delay", *delay_);
    if (run_at_ && (*run_at_ < earliest_run_at || *run_at_ > latest_run_at)) {
        // Years 0 to 9999 have a date to show; beyond, only the count is sure to make sense.
        using namespace std::chrono;
        const bool has_date =
            *run_at_ >= sys_days{year{0} / 1 / 1} && *run_at_ < sys_days{year{10000} / 1 / 1};
        bad("run_at",
            fmt::format("must be between {} and {} (got {})", format_timestamp(earliest_run_at),
                        format_timestamp(latest_run_at),
                        has_date ? format_timestamp(*run_at_)
                                 : fmt::format("{} microseconds since the epoch",
                                               run_at_->time_since_epoch().count())));
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
        bad("timeout", fmt::format("must be positive (got {})", format_duration(*timeout_)));
    }
    if (timeout_) check_duration_cap("timeout", *timeout_);
    if (!unique_key_.empty()) {
        if (auto why = detail::text_problem(unique_key_)) bad("unique_key", *why);
        if (const std::size_t n = detail::utf8_length(unique_key_); n > max_unique_key_length) {
            bad("unique_key",
                fmt::format("must be at most {} characters (got {})", max_unique_key_length, n));
        }
    }
    const bool unique_options = !unique_states_.empty() || unique_window_;
    if (unique_key_.empty() && unique_options) {
        bad("unique_key", "must be set when unique_states or unique_window is given");
    }
    if (unique_window_ && *unique_window_ <= Duration::zero()) {
        bad("unique_window",
            fmt::format("must be positive (got {})", format_duration(*unique_window_)));
    }
    if (unique_window_) check_duration_cap("unique_window", *unique_window_);
    if (tags_.size() > max_tags) {
        bad("tags", fmt::format("at most {} tags (got {})", max_tags, tags_.size()));
    }
    for (const std::string& t : tags_) detail::check_name("tags", t);
    if (!tenant_.empty()) {
        detail::check_name("tenant", tenant_);
        // ':' separates the tenant from the key in the scoped unique key ("t:<tenant>:<key>").
        if (tenant_.find(':') != std::string::npos) {
            bad("tenant", fmt::format("must not contain ':' (got '{}')", tenant_));
        }
    }
}

// ---- JSON form -------------------------------------------------------------------------------

nlohmann::json JobSpec::to_json() const {
    if (retry_policy_ && retry_policy_->shape() == RetryPolicy::Shape::custom) {
        bad("retry_policy", "a custom policy cannot be stored; set it on the kind or the worker");
    }
    // Copied into the JSON form: not before knowing the copy cannot recurse too deep.
    if (payload_.too_deep || nests_deeper_than(payload_.json, max_json_depth_setting)) {
        payload_too_deep();
    }
    nlohmann::json j{{"kind", kind_}, {"payload", payload_.json}};
    const JobSpec defaults{kind_};
    if (queue_ != defaults.queue_) j["queue"] = queue_;
    if (priority_ != defaults.priority_) j["priority"] = priority_;
    if (run_at_) j["run_at_us"] = run_at_->time_since_epoch().count();
    if (delay_) j["delay_us"] = delay_->count();
    if (max_attempts_ != defaults.max_attempts_) j["max_attempts"] = max_attempts_;
    if (retry_policy_) j["retry_policy"] = retry_policy_->to_json();
    if (timeout_) j["timeout_us"] = timeout_->count();
    if (!unique_key_.empty()) j["unique_key"] = unique_key_;
    if (!unique_states_.empty()) {
        nlohmann::json states = nlohmann::json::array();
        for (JobState st : unique_states_) states.push_back(std::string(to_string(st)));
        j["unique_states"] = std::move(states);
    }
    if (unique_window_) j["unique_window_us"] = unique_window_->count();
    if (unique_per_tenant_ != defaults.unique_per_tenant_)
        j["unique_per_tenant"] = unique_per_tenant_;
    if (!tags_.empty()) j["tags"] = tags_;
    if (!tenant_.empty()) j["tenant"] = tenant_;
    return j;
}

JobSpec JobSpec::from_json(const nlohmann::json& j, const InputLimits& limits) {
    if (!j.is_object()) bad("job", fmt::format("must be a JSON object (got {})", j.type_name()));
    auto member = [&](const char* key, bool (nlohmann::json::*is)() const noexcept,
                      const char* what) -> const nlohmann::json* {
        const auto it = j.find(key);
        if (it == j.end()) return nullptr;
        if (!((*it).*is)()) bad(key, fmt::format("must be {} (got {})", what, it->type_name()));
        return &*it;
    };
    auto string = [&](const char* key) {
        return member(key, &nlohmann::json::is_string, "a string");
    };
    auto integer = [&](const char* key) {
        return member(key, &nlohmann::json::is_number_integer, "a whole number");
    };
    // Microseconds as a signed 64-bit count; get<rep>() would wrap 2^64-1 into -1.
    auto micros = [&](const char* key) -> std::optional<Duration::rep> {
        const nlohmann::json* v = integer(key);
        if (v == nullptr) return std::nullopt;
        if (v->is_number_unsigned() &&
            v->get<std::uint64_t>() > static_cast<std::uint64_t>(Duration::max().count())) {
            bad(key, fmt::format("{} is out of range", v->dump()));
        }
        return v->get<Duration::rep>();
    };
    auto small = [&](const char* key) -> std::optional<int> {
        const nlohmann::json* v = integer(key);
        if (v == nullptr) return std::nullopt;
        // get<int>() would wrap a huge value into a plausible one.
        if (v->is_number_unsigned()
                ? v->get<std::uint64_t>() > INT_MAX
                : (v->get<std::int64_t>() > INT_MAX || v->get<std::int64_t>() < INT_MIN)) {
            bad(key, fmt::format("{} is out of range", v->dump()));
        }
        return v->get<int>();
    };
    static constexpr std::string_view known[] = {"kind",
                                                 "payload",
                                                 "queue",
                                                 "priority",
                                                 "run_at_us",
                                                 "delay_us",
                                                 "max_attempts",
                                                 "retry_policy",
                                                 "timeout_us",
                                                 "unique_key",
                                                 "unique_states",
                                                 "unique_window_us",
                                                 "unique_per_tenant",
                                                 "tags",
                                                 "tenant"};
    for (const auto& [key, value] : j.items()) {
        if (std::find(std::begin(known), std::end(known), key) == std::end(known)) {
            bad(key, "is not a field of a job");
        }
    }

    const nlohmann::json* kind = string("kind");
    if (kind == nullptr) bad("kind", "is missing");
    const auto payload = j.find("payload");
    if (payload != j.end() && nests_deeper_than(*payload, max_json_depth_setting)) {
        payload_too_deep();  // before the copy below, which would recurse that deep
    }
    JobSpec spec{kind->get<std::string>(),
                 payload == j.end() ? nlohmann::json::object() : *payload};
    if (const auto* v = string("queue")) spec.queue(v->get<std::string>());
    if (const auto v = small("priority")) spec.priority(*v);
    if (const auto v = micros("run_at_us")) spec.run_at(Timestamp{Duration{*v}});
    if (const auto v = micros("delay_us")) spec.delay(Duration{*v});
    if (const auto v = small("max_attempts")) spec.max_attempts(*v);
    if (const auto* v = member("retry_policy", &nlohmann::json::is_object, "a JSON object")) {
        spec.retry_policy(RetryPolicy::from_json(*v));  // its errors name "retry_policy.<field>"
    }
    if (const auto v = micros("timeout_us")) spec.timeout(Duration{*v});
    if (const auto* v = string("unique_key")) spec.unique_key(v->get<std::string>());
    if (const auto* v = member("unique_states", &nlohmann::json::is_array, "an array")) {
        std::vector<JobState> states;
        for (const nlohmann::json& name : *v) {
            const std::optional<JobState> st =
                name.is_string() ? parse_job_state(name.get<std::string>()) : std::nullopt;
            if (!st) bad("unique_states", fmt::format("{} is not a job state", name.dump()));
            states.push_back(*st);
        }
        spec.unique_states(std::move(states));
    }
    if (const auto v = micros("unique_window_us")) spec.unique_window(Duration{*v});
    if (const auto* v = member("unique_per_tenant", &nlohmann::json::is_boolean, "true or false")) {
        spec.unique_per_tenant(v->get<bool>());
    }
    if (const auto* v = member("tags", &nlohmann::json::is_array, "an array")) {
        for (const nlohmann::json& t : *v) {
            if (!t.is_string()) bad("tags", fmt::format("{} is not a string", t.dump()));
            spec.tag(t.get<std::string>());
        }
    }
    if (const auto* v = string("tenant")) spec.tenant(v->get<std::string>());
    spec.validate(limits);
    return spec;
}

}  // namespace jobq
