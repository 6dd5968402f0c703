// to_new_job: how a validated spec is resolved against "now" into what a Store inserts.

#include <algorithm>
#include <chrono>
#include <optional>
#include <string>

#include <doctest/doctest.h>

#include "jobq/backend/new_job.hpp"
#include "support.hpp"

using namespace std::chrono_literals;
using jobq::JobSpec;
using jobq::JobState;
using jobq::to_new_job;
using jobq::test::reference_time;

namespace {
JobSpec spec() {
    return JobSpec{"report.build", {{"day", "2026-11-23"}}};
}
}  // namespace

TEST_SUITE_BEGIN("to_new_job");

TEST_CASE("a job with neither delay nor run_at is available now") {
    const auto now = reference_time();
    const auto job = to_new_job(spec(), now);
    CHECK(job.created_at == now);
    CHECK(job.run_at == now);
    CHECK(job.state == JobState::available);
}

TEST_CASE("a delay sets run_at to now plus the delay and the state to scheduled") {
    const auto now = reference_time();
    const auto job = to_new_job(spec().delay(90s), now);
    CHECK(job.run_at == now + 90s);
    CHECK(job.state == JobState::scheduled);
    CHECK(job.created_at == now);
}

TEST_CASE("a zero delay makes the job available at once") {
    const auto now = reference_time();
    const auto job = to_new_job(spec().delay(0s), now);
    CHECK(job.run_at == now);
    CHECK(job.state == JobState::available);
}

TEST_CASE("a run_at in the future makes the job scheduled at that time") {
    const auto now = reference_time();
    const auto job = to_new_job(spec().run_at(now + 1h), now);
    CHECK(job.run_at == now + 1h);
    CHECK(job.state == JobState::scheduled);
}

TEST_CASE("a run_at in the past makes the job available") {
    const auto now = reference_time();
    const auto job = to_new_job(spec().run_at(now - 1h), now);
    CHECK(job.state == JobState::available);
}

TEST_CASE("a run_at equal to now makes the job available") {
    const auto now = reference_time();
    CHECK(to_new_job(spec().run_at(now), now).state == JobState::available);
}

TEST_CASE("a unique key of a job with a tenant is scoped to the tenant") {
    const auto job = to_new_job(spec().tenant("acme").unique_key("welcome:42"), reference_time());
    CHECK(job.unique_key == "t:acme:welcome:42");
}

TEST_CASE("a unique key of a job without a tenant is global") {
    const auto job = to_new_job(spec().unique_key("welcome:42"), reference_time());
    CHECK(job.unique_key == "g:welcome:42");
}

TEST_CASE("a unique key with per-tenant scoping off is global even when the job has a tenant") {
    const auto job = to_new_job(spec().tenant("acme").unique_key("k").unique_per_tenant(false),
                                reference_time());
    CHECK(job.unique_key == "g:k");
}

TEST_CASE("the same unique key of two tenants gives two different keys") {
    const auto a = to_new_job(spec().tenant("acme").unique_key("k"), reference_time());
    const auto b = to_new_job(spec().tenant("umbrella").unique_key("k"), reference_time());
    CHECK(a.unique_key != b.unique_key);
}

TEST_CASE("unique keys of different tenants never collide") {
    // The scoped key, or nullopt when the spec is rejected (which also prevents a collision).
    auto scoped_key = [](std::string tenant, std::string key) -> std::optional<std::string> {
        try {
            return to_new_job(spec().tenant(std::move(tenant)).unique_key(std::move(key)),
                              reference_time())
                .unique_key;
        } catch (const jobq::Error&) {
            return std::nullopt;
        }
    };
    const auto a = scoped_key("a:b", "c");
    const auto b = scoped_key("a", "b:c");
    CHECK((!a || !b || *a != *b));
}

TEST_CASE("the default unique states are exactly the non-terminal ones") {
    const auto job = to_new_job(spec().unique_key("k"), reference_time());
    const std::vector<JobState> expected{JobState::pending, JobState::scheduled,
                                         JobState::available, JobState::running,
                                         JobState::retryable};
    CHECK(job.unique_states == expected);
    CHECK(std::none_of(job.unique_states.begin(), job.unique_states.end(), jobq::is_terminal));
}

TEST_CASE("explicit unique states are kept as given") {
    const std::vector<JobState> states{JobState::available, JobState::completed};
    const auto job = to_new_job(spec().unique_key("k").unique_states(states), reference_time());
    CHECK(job.unique_states == states);
}

TEST_CASE("a unique window makes only jobs created since now minus the window block") {
    const auto now = reference_time();
    const auto job = to_new_job(spec().unique_key("k").unique_window(10min), now);
    REQUIRE(job.unique_since.has_value());
    CHECK(*job.unique_since == now - 10min);
}

TEST_CASE("a job without a unique key has no key, no unique states and no window") {
    const auto job = to_new_job(spec(), reference_time());
    CHECK(job.unique_key.empty());
    CHECK(job.unique_states.empty());
    CHECK_FALSE(job.unique_since.has_value());
}

TEST_CASE("the payload is serialised as the text of the same JSON object") {
    const nlohmann::json payload{{"to", "a@example.com"}, {"n", 3}, {"tags", {"x", "y"}}};
    const auto job = to_new_job(JobSpec{"email.send", payload}, reference_time());
    CHECK(nlohmann::json::parse(job.payload) == payload);
}

TEST_CASE("the remaining fields are copied from the spec") {
    const auto job = to_new_job(spec()
                                    .queue("reports")
                                    .tenant("acme")
                                    .priority(3)
                                    .max_attempts(4)
                                    .timeout(2min)
                                    .tags({"nightly", "finance"})
                                    .retry_policy(jobq::RetryPolicy::constant(5s)),
                                reference_time());
    CHECK(job.kind == "report.build");
    CHECK(job.queue == "reports");
    CHECK(job.tenant == "acme");
    CHECK(job.priority == 3);
    CHECK(job.max_attempts == 4);
    CHECK(job.timeout == jobq::Duration{2min});
    CHECK(job.tags == std::vector<std::string>{"nightly", "finance"});
    CHECK(jobq::RetryPolicy::from_json(nlohmann::json::parse(job.retry_policy)) ==
          jobq::RetryPolicy::constant(5s));
}

TEST_CASE("a job without its own retry policy stores none") {
    CHECK(to_new_job(spec(), reference_time()).retry_policy.empty());
}

TEST_CASE("an invalid spec is rejected before anything is derived") {
    jobq::test::check_invalid_argument([] { to_new_job(spec().priority(12), reference_time()); },
                                       "priority", {"12"});
}

TEST_SUITE_END();

TEST_CASE("a payload over the size limit is refused with its size and the limit") {
    const std::string big(1 << 20, 'x');  // the payload's text is this plus {"b":""}
    jobq::test::check_invalid_argument(
        [&] {
            to_new_job(JobSpec{"k", {{"b", big}}}, reference_time());
        },
        "payload", {"1048584 bytes", "limit of 1048576 bytes", "queue 'default'"});
    CHECK_NOTHROW(
        to_new_job(JobSpec{"k", {{"b", std::string((1 << 20) - 8, 'x')}}}, reference_time()));
}

TEST_CASE("a queue's own payload limit overrides the default one") {
    jobq::InputLimits limits;
    limits.max_payload_bytes = 100;
    limits.max_payload_bytes_per_queue = {{"bulk", 1000}};
    const JobSpec medium{"k", {{"b", std::string(500, 'x')}}};
    jobq::test::check_invalid_argument([&] { to_new_job(medium, reference_time(), limits); },
                                       "payload", {"limit of 100 bytes"});
    JobSpec bulk = medium;
    bulk.queue("bulk");
    CHECK(to_new_job(bulk, reference_time(), limits).payload.size() == 508);
}

TEST_CASE("limits out of range are refused, naming the setting") {
    jobq::InputLimits limits;
    limits.max_json_depth = 5000;
    jobq::test::check_invalid_argument([&] { limits.validate(); }, "limits.max_json_depth",
                                       {"between 1 and 1000"});
    limits = {};
    limits.max_payload_bytes = 0;
    jobq::test::check_invalid_argument([&] { limits.validate(); }, "limits.max_payload_bytes");
}
