#include "jobq/retry_policy.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "jobq/error.hpp"

namespace jobq {

namespace {

[[noreturn]] void bad(const std::string& field, const std::string& why) {
    throw Error(ErrorCode::invalid_argument, "retry_policy." + field + ": " + why,
                "retry_policy." + field);
}

void check_non_negative(const char* field, Duration d) {
    if (d < Duration::zero()) bad(field, "must not be negative");
}

std::string_view shape_name(RetryPolicy::Shape s) {
    switch (s) {
        case RetryPolicy::Shape::exponential:
            return "exponential";
        case RetryPolicy::Shape::linear:
            return "linear";
        case RetryPolicy::Shape::constant:
            return "constant";
        case RetryPolicy::Shape::custom:
            return "custom";
    }
    return "unknown";
}

}  // namespace

RetryPolicy RetryPolicy::exponential(Duration base, double factor, Duration cap, double jitter) {
    check_non_negative("base", base);
    if (!(factor >= 1.0) || !std::isfinite(factor)) bad("factor", "must be at least 1");
    if (cap < base) bad("cap", "must not be below base");
    if (!(jitter >= 0.0 && jitter <= 1.0)) bad("jitter", "must be between 0 and 1");
    RetryPolicy p;
    p.shape_ = Shape::exponential;
    p.base_ = base;
    p.factor_ = factor;
    p.cap_ = cap;
    p.jitter_ = jitter;
    return p;
}

RetryPolicy RetryPolicy::linear(Duration step, Duration cap) {
    check_non_negative("base", step);
    if (cap < step) bad("cap", "must not be below the step");
    RetryPolicy p;
    p.shape_ = Shape::linear;
    p.base_ = step;
    p.factor_ = 1.0;
    p.cap_ = cap;
    p.jitter_ = 0.0;
    return p;
}

RetryPolicy RetryPolicy::constant(Duration delay) {
    check_non_negative("base", delay);
    RetryPolicy p;
    p.shape_ = Shape::constant;
    p.base_ = delay;
    p.factor_ = 1.0;
    p.cap_ = delay;
    p.jitter_ = 0.0;
    return p;
}

RetryPolicy RetryPolicy::custom(CustomFn fn) {
    if (!fn) bad("custom", "the function must not be empty");
    RetryPolicy p;
    p.shape_ = Shape::custom;
    p.custom_ = std::make_shared<const CustomFn>(std::move(fn));
    return p;
}

Duration RetryPolicy::delay(int attempt, double random01) const {
    attempt = std::max(attempt, 1);
    switch (shape_) {
        case Shape::constant:
            return base_;
        case Shape::linear: {
            // Saturate instead of overflowing for absurd attempt counts.
            const double us = static_cast<double>(base_.count()) * attempt;
            return us >= static_cast<double>(cap_.count())
                       ? cap_
                       : Duration{static_cast<Duration::rep>(us)};
        }
        case Shape::custom:
            return std::max((*custom_)(attempt), Duration::zero());
        case Shape::exponential: {
            double us = static_cast<double>(base_.count()) * std::pow(factor_, attempt - 1);
            us = std::min(us, static_cast<double>(cap_.count()));
            const double spread = jitter_ * (2.0 * std::clamp(random01, 0.0, 1.0) - 1.0);
            us = std::max(0.0, us * (1.0 + spread));
            // Jitter above a cap near the top of the range would overflow the cast (undefined
            // behaviour, found by fuzz_job_spec), and now + delay after it. A century is the
            // longest delay a job may be given anywhere (JobSpec::delay).
            constexpr Duration longest = std::chrono::days{36525};
            if (us >= static_cast<double>(longest.count())) return longest;
            return Duration{static_cast<Duration::rep>(us)};
        }
    }
    return base_;
}

nlohmann::json RetryPolicy::to_json() const {
    if (shape_ == Shape::custom) {
        throw Error(ErrorCode::invalid_argument,
                    "retry_policy: a custom policy cannot be stored with a job; set it on the "
                    "kind (Registry::add options) or the worker",
                    "retry_policy");
    }
    return {{"shape", shape_name(shape_)},
            {"base_us", base_.count()},
            {"factor", factor_},
            {"cap_us", cap_.count()},
            {"jitter", jitter_}};
}

RetryPolicy RetryPolicy::from_json(const nlohmann::json& j) {
    if (!j.is_object()) bad("shape", "the policy must be a JSON object");
    auto number = [&](const char* key, const char* field) -> const nlohmann::json& {
        auto it = j.find(key);
        if (it == j.end() || !it->is_number())
            bad(field, std::string("missing number '") + key + "'");
        // Durations are whole microseconds; a float here would be cast with undefined overflow.
        if (std::string_view(key).ends_with("_us") && !it->is_number_integer()) {
            bad(field, std::string("'") + key + "' must be a whole number of microseconds");
        }
        return *it;
    };
    const auto shape_it = j.find("shape");
    if (shape_it == j.end() || !shape_it->is_string()) bad("shape", "missing string 'shape'");
    const auto shape = shape_it->get<std::string>();
    if (shape != "exponential" && shape != "linear" && shape != "constant") {
        bad("shape", "unknown shape '" + shape + "' (expected exponential, linear or constant)");
    }
    const Duration base{number("base_us", "base").get<Duration::rep>()};
    if (shape == "constant") return constant(base);
    const Duration cap{number("cap_us", "cap").get<Duration::rep>()};
    if (shape == "linear") return linear(base, cap);
    return exponential(base, number("factor", "factor").get<double>(), cap,
                       number("jitter", "jitter").get<double>());
}

bool operator==(const RetryPolicy& a, const RetryPolicy& b) {
    return a.shape_ == b.shape_ && a.base_ == b.base_ && a.factor_ == b.factor_ &&
           a.cap_ == b.cap_ && a.jitter_ == b.jitter_ && a.custom_ == b.custom_;
}

}  // namespace jobq
