// FlowLimits::validate: ranges of every field and the tenant-only fields.

#include <chrono>

#include <doctest/doctest.h>

#include "jobq/flow_limits.hpp"
#include "jobq/limit_scope.hpp"
#include "support.hpp"

using namespace std::chrono_literals;
using jobq::FlowLimits;
using jobq::LimitScope;
using jobq::RateLimit;
using jobq::test::check_invalid_argument;

TEST_SUITE_BEGIN("FlowLimits");

TEST_CASE("no limits at all is valid on every scope") {
    CHECK_NOTHROW(FlowLimits{}.validate(LimitScope::queue("mail")));
    CHECK_NOTHROW(FlowLimits{}.validate(LimitScope::kind("email.send")));
    CHECK_NOTHROW(FlowLimits{}.validate(LimitScope::tenant("acme")));
}

TEST_CASE("every field in range is valid on a tenant") {
    FlowLimits l;
    l.max_running = 1;
    l.rate = RateLimit::parse("50/s");
    l.max_queued = 0;
    l.weight = jobq::max_weight;
    CHECK_NOTHROW(l.validate(LimitScope::tenant("acme")));
}

TEST_CASE("max_running below 1 is rejected") {
    FlowLimits l;
    l.max_running = 0;
    check_invalid_argument([&] { l.validate(LimitScope::queue("mail")); }, "max_running",
                           {"max_running:", "at least 1", "got 0"});
}

TEST_CASE("a bad rate is rejected naming its own field") {
    FlowLimits l;
    l.rate = RateLimit{};
    l.rate->limit = 5;
    l.rate->period = 0s;
    check_invalid_argument([&] { l.validate(LimitScope::kind("k")); }, "rate.period");
    l.rate->period = 1s;
    l.rate->burst = -1;
    check_invalid_argument([&] { l.validate(LimitScope::kind("k")); }, "rate.burst");
    l.rate->limit = 0;
    check_invalid_argument([&] { l.validate(LimitScope::kind("k")); }, "rate.limit");
}

TEST_CASE("max_queued is for tenants only and must not be negative") {
    FlowLimits l;
    l.max_queued = 10;
    check_invalid_argument([&] { l.validate(LimitScope::queue("mail")); }, "max_queued",
                           {"tenant", "queue:mail"});
    check_invalid_argument([&] { l.validate(LimitScope::kind("k")); }, "max_queued", {"kind:k"});
    l.max_queued = -1;
    check_invalid_argument([&] { l.validate(LimitScope::tenant("acme")); }, "max_queued",
                           {"negative", "got -1"});
}

TEST_CASE("a weight is for tenants only and lies in 1..100") {
    FlowLimits l;
    l.weight = 3;
    check_invalid_argument([&] { l.validate(LimitScope::queue("mail")); }, "weight",
                           {"tenant", "queue:mail"});
    l.weight = 0;
    check_invalid_argument([&] { l.validate(LimitScope::tenant("acme")); }, "weight",
                           {"between 1 and 100", "got 0"});
    l.weight = 101;
    check_invalid_argument([&] { l.validate(LimitScope::tenant("acme")); }, "weight", {"got 101"});
}

TEST_CASE("an invalid scope is rejected before the limits") {
    FlowLimits l;
    l.max_running = 0;
    check_invalid_argument([&] { l.validate(LimitScope::queue("")); }, "scope");
}

TEST_SUITE_END();
