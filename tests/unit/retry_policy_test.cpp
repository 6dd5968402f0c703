// RetryPolicy: the backoff formulas, their parameter checks and their stored (JSON) form.

#include <chrono>
#include <limits>
#include <vector>

#include <doctest/doctest.h>

#include "jobq/retry_policy.hpp"
#include "support.hpp"

using namespace std::chrono_literals;
using jobq::Duration;
using jobq::RetryPolicy;
using jobq::test::check_invalid_argument;

namespace {
// random01 = 0.5 puts the jitter at its midpoint: no spread, so the formula shows exactly.
constexpr double no_jitter = 0.5;
}  // namespace

TEST_SUITE_BEGIN("RetryPolicy");

TEST_CASE("the default policy is exponential from 1s, doubling, capped at 1h, with 10% jitter") {
    const RetryPolicy p;
    CHECK(p.shape() == RetryPolicy::Shape::exponential);
    CHECK(p.base() == Duration{1s});
    CHECK(p.factor() == 2.0);
    CHECK(p.cap() == Duration{1h});
    CHECK(p.jitter() == doctest::Approx(0.1));
}

TEST_CASE("an exponential policy multiplies its base by the factor after each attempt") {
    const auto p = RetryPolicy::exponential(1s, 2.0, 1h, 0.0);
    std::vector<Duration> delays;
    for (int attempt = 1; attempt <= 5; ++attempt) delays.push_back(p.delay(attempt, no_jitter));
    CHECK(delays == std::vector<Duration>{1s, 2s, 4s, 8s, 16s});
    CHECK(RetryPolicy::exponential(100ms, 3.0, 1h, 0.0).delay(3, no_jitter) == Duration{900ms});
}

TEST_CASE("an exponential policy stops growing at its cap") {
    const auto p = RetryPolicy::exponential(1s, 2.0, 30s, 0.0);
    CHECK(p.delay(5, no_jitter) == Duration{16s});
    CHECK(p.delay(6, no_jitter) == Duration{30s});
    CHECK(p.delay(7, no_jitter) == Duration{30s});
}

TEST_CASE("an exponential policy stays at its cap for absurd attempt numbers") {
    const auto p = RetryPolicy::exponential(1s, 2.0, 1h, 0.0);
    CHECK(p.delay(10'000, no_jitter) == Duration{1h});
    CHECK(p.delay(std::numeric_limits<int>::max(), no_jitter) == Duration{1h});
}

TEST_CASE("jitter at random01 = 0 shortens the delay by the jitter fraction") {
    const auto p = RetryPolicy::exponential(10s, 2.0, 1h, 0.1);
    CHECK(p.delay(1, 0.0) == Duration{9s});
}

TEST_CASE("jitter at random01 just below 1 lengthens the delay by almost the jitter fraction") {
    const auto p = RetryPolicy::exponential(10s, 2.0, 1h, 0.1);
    const Duration d = p.delay(1, 0.999999);
    CHECK(d <= Duration{11s});
    CHECK(d > Duration{10990ms});
}

TEST_CASE("jitter at random01 = 0.5 leaves the delay unchanged") {
    CHECK(RetryPolicy::exponential(10s, 2.0, 1h, 0.25).delay(2, 0.5) == Duration{20s});
}

TEST_CASE("jitter applies to the capped delay") {
    const auto p = RetryPolicy::exponential(1s, 2.0, 10s, 0.1);
    CHECK(p.delay(20, 0.0) == Duration{9s});
}

TEST_CASE("random01 outside [0, 1] is clamped") {
    const auto p = RetryPolicy::exponential(10s, 2.0, 1h, 0.1);
    CHECK(p.delay(1, -5.0) == p.delay(1, 0.0));
    CHECK(p.delay(1, 7.0) == p.delay(1, 1.0));
    CHECK(p.delay(1, 7.0) == Duration{11s});
}

TEST_CASE("an uncapped policy with jitter saturates at a century instead of overflowing") {
    const auto p = RetryPolicy::exponential(1s, 2.0, Duration::max(), 1.0);
    CHECK(p.delay(63, 1.0) == Duration{std::chrono::days{36525}});
    CHECK(p.delay(std::numeric_limits<int>::max(), 0.75) == Duration{std::chrono::days{36525}});
}

TEST_CASE("a full jitter never makes a delay negative") {
    CHECK(RetryPolicy::exponential(10s, 2.0, 1h, 1.0).delay(1, 0.0) == Duration::zero());
}

TEST_CASE("attempt numbers below 1 count as the first attempt") {
    const auto p = RetryPolicy::exponential(1s, 2.0, 1h, 0.0);
    CHECK(p.delay(0, no_jitter) == Duration{1s});
    CHECK(p.delay(-4, no_jitter) == Duration{1s});
}

TEST_CASE("a linear policy grows by its step each attempt up to its cap") {
    const auto p = RetryPolicy::linear(5s, 12s);
    CHECK(p.shape() == RetryPolicy::Shape::linear);
    CHECK(p.delay(1, 0.0) == Duration{5s});
    CHECK(p.delay(2, 0.9) == Duration{10s});
    CHECK(p.delay(3, 0.0) == Duration{12s});
    CHECK(p.delay(std::numeric_limits<int>::max(), 0.0) == Duration{12s});
}

TEST_CASE("a constant policy returns the same delay after every attempt and ignores jitter") {
    const auto p = RetryPolicy::constant(7s);
    CHECK(p.shape() == RetryPolicy::Shape::constant);
    CHECK(p.delay(1, 0.0) == Duration{7s});
    CHECK(p.delay(50, 0.99) == Duration{7s});
}

TEST_CASE("a custom policy calls its function with the attempt number") {
    const auto p = RetryPolicy::custom([](int attempt) { return Duration{attempt * 1000}; });
    CHECK(p.shape() == RetryPolicy::Shape::custom);
    CHECK(p.delay(1, 0.0) == Duration{1000});
    CHECK(p.delay(42, 0.5) == Duration{42000});
}

TEST_CASE("a negative delay from a custom policy becomes zero") {
    CHECK(RetryPolicy::custom([](int) { return Duration{-5s}; }).delay(1, 0.0) == Duration::zero());
}

TEST_CASE("invalid exponential parameters are rejected naming the parameter") {
    constexpr double inf = std::numeric_limits<double>::infinity();
    constexpr double nan = std::numeric_limits<double>::quiet_NaN();
    check_invalid_argument([] { RetryPolicy::exponential(-1s); }, "retry_policy.base",
                           {"retry_policy.base"});
    check_invalid_argument([] { RetryPolicy::exponential(1s, 0.5); }, "retry_policy.factor",
                           {"retry_policy.factor"});
    check_invalid_argument([] { RetryPolicy::exponential(1s, inf); }, "retry_policy.factor");
    check_invalid_argument([] { RetryPolicy::exponential(1s, nan); }, "retry_policy.factor");
    check_invalid_argument([] { RetryPolicy::exponential(10s, 2.0, 5s); }, "retry_policy.cap",
                           {"retry_policy.cap"});
    check_invalid_argument([] { RetryPolicy::exponential(1s, 2.0, 1h, -0.1); },
                           "retry_policy.jitter", {"retry_policy.jitter"});
    check_invalid_argument([] { RetryPolicy::exponential(1s, 2.0, 1h, 1.5); },
                           "retry_policy.jitter");
    check_invalid_argument([] { RetryPolicy::exponential(1s, 2.0, 1h, nan); },
                           "retry_policy.jitter");
}

TEST_CASE("invalid linear and constant parameters are rejected naming the parameter") {
    check_invalid_argument([] { RetryPolicy::linear(-1s); }, "retry_policy.base");
    check_invalid_argument([] { RetryPolicy::linear(10s, 5s); }, "retry_policy.cap",
                           {"retry_policy.cap"});
    check_invalid_argument([] { RetryPolicy::constant(-1s); }, "retry_policy.base");
}

TEST_CASE("a custom policy without a function is rejected") {
    check_invalid_argument([] { RetryPolicy::custom(nullptr); }, "retry_policy.custom");
}

TEST_CASE("to_json writes the shape and the parameters in microseconds") {
    const auto j = RetryPolicy::exponential(1500ms, 3.0, 2min, 0.2).to_json();
    CHECK(j.at("shape") == "exponential");
    CHECK(j.at("base_us") == 1'500'000);
    CHECK(j.at("factor") == 3.0);
    CHECK(j.at("cap_us") == 120'000'000);
    CHECK(j.at("jitter") == 0.2);
}

TEST_CASE("every built-in policy survives a JSON round trip, also through text") {
    const std::vector<RetryPolicy> policies{
        RetryPolicy{},
        RetryPolicy::exponential(250ms, 1.7, 90s, 0.33),
        RetryPolicy::linear(3s, 1min),
        RetryPolicy::constant(45s),
        RetryPolicy::constant(0s),
    };
    for (const RetryPolicy& p : policies) {
        INFO(p.to_json().dump());
        CHECK(RetryPolicy::from_json(p.to_json()) == p);
        CHECK(RetryPolicy::from_json(nlohmann::json::parse(p.to_json().dump())) == p);
    }
}

TEST_CASE("to_json of a custom policy is rejected, since a function cannot be stored") {
    check_invalid_argument([] { (void)RetryPolicy::custom([](int) { return 1s; }).to_json(); },
                           "retry_policy", {"custom"});
}

TEST_CASE("from_json rejects a value that is not an object") {
    check_invalid_argument([] { RetryPolicy::from_json(nlohmann::json::array()); },
                           "retry_policy.shape");
    check_invalid_argument([] { RetryPolicy::from_json("exponential"); }, "retry_policy.shape");
}

TEST_CASE("from_json rejects an unknown shape, naming it") {
    nlohmann::json j = RetryPolicy{}.to_json();
    j["shape"] = "fibonacci";
    check_invalid_argument([&] { RetryPolicy::from_json(j); }, "retry_policy.shape", {"fibonacci"});
}

TEST_CASE("from_json rejects a missing or non-numeric parameter, naming it") {
    nlohmann::json no_base = RetryPolicy{}.to_json();
    no_base.erase("base_us");
    check_invalid_argument([&] { RetryPolicy::from_json(no_base); }, "retry_policy.base",
                           {"base_us"});

    nlohmann::json text_cap = RetryPolicy::linear(1s).to_json();
    text_cap["cap_us"] = "lots";
    check_invalid_argument([&] { RetryPolicy::from_json(text_cap); }, "retry_policy.cap",
                           {"cap_us"});

    nlohmann::json no_factor = RetryPolicy{}.to_json();
    no_factor.erase("factor");
    check_invalid_argument([&] { RetryPolicy::from_json(no_factor); }, "retry_policy.factor");

    nlohmann::json no_jitter_field = RetryPolicy{}.to_json();
    no_jitter_field.erase("jitter");
    check_invalid_argument([&] { RetryPolicy::from_json(no_jitter_field); }, "retry_policy.jitter");
}

TEST_CASE("from_json applies the same parameter checks as the factories") {
    nlohmann::json j = RetryPolicy{}.to_json();
    j["jitter"] = 2.0;
    check_invalid_argument([&] { RetryPolicy::from_json(j); }, "retry_policy.jitter");
    nlohmann::json negative = RetryPolicy::constant(1s).to_json();
    negative["base_us"] = -1;
    check_invalid_argument([&] { RetryPolicy::from_json(negative); }, "retry_policy.base");
}

TEST_CASE("a constant policy reads back from its base alone") {
    CHECK(RetryPolicy::from_json({{"shape", "constant"}, {"base_us", 2'000'000}}) ==
          RetryPolicy::constant(2s));
}

TEST_CASE("from_json rejects a shape that is not a string with jobq::Error") {
    nlohmann::json j = RetryPolicy{}.to_json();
    j["shape"] = 5;
    CHECK_THROWS_AS(RetryPolicy::from_json(j), jobq::Error);
}

TEST_CASE("from_json reports an unknown shape even when its parameters are missing") {
    check_invalid_argument(
        [] {
            RetryPolicy::from_json({{"shape", "fibonacci"}});
        },
        "retry_policy.shape", {"fibonacci"});
}

TEST_CASE("policies are equal when shape and parameters are equal") {
    CHECK(RetryPolicy::linear(1s, 1min) == RetryPolicy::linear(1s, 1min));
    CHECK_FALSE(RetryPolicy::linear(1s, 1min) == RetryPolicy::linear(2s, 1min));
    CHECK_FALSE(RetryPolicy::constant(1s) == RetryPolicy::linear(1s, 1s));
}

TEST_CASE("a custom policy equals its copies but not another custom policy") {
    const auto a = RetryPolicy::custom([](int) { return 1s; });
    const auto b = RetryPolicy::custom([](int) { return 1s; });
    const RetryPolicy copy = a;
    CHECK(copy == a);
    CHECK_FALSE(a == b);
}

TEST_SUITE_END();
