// A schedule's definition at the API boundary: CronSchedule::validate, MisfirePolicy and the
// JSON forms a store keeps (JobSpec::to_json / from_json, MisfirePolicy::to_json / from_json).

#include <chrono>
#include <string>

#include <doctest/doctest.h>

#include "jobq/cron_schedule.hpp"
#include "jobq/job_spec.hpp"
#include "jobq/misfire_policy.hpp"
#include "support.hpp"

using namespace std::chrono_literals;
using jobq::CronSchedule;
using jobq::JobSpec;
using jobq::JobState;
using jobq::MisfireMode;
using jobq::MisfirePolicy;
using jobq::RetryPolicy;
using jobq::test::check_invalid_argument;

namespace {
CronSchedule nightly() {
    return CronSchedule{"nightly", "0 3 * * *", JobSpec{"report.build"}, "Europe/Berlin"};
}
}  // namespace

TEST_SUITE_BEGIN("cron schedules");

TEST_CASE("a schedule with a name, an expression, a job and a known zone is valid") {
    CHECK_NOTHROW(nightly().validate());
    const CronSchedule utc{"tick", "*/5 * * * * *", JobSpec{"tick"}};
    CHECK(utc.zone == "UTC");
    CHECK(utc.misfire == MisfirePolicy{});
    CHECK_NOTHROW(utc.validate());
}

TEST_CASE("a schedule is rejected naming the field and the schedule") {
    CronSchedule s = nightly();
    s.name = "";
    check_invalid_argument([&] { s.validate(); }, "name", {"must not be empty"});
    s.name = std::string(250, 'n');
    CHECK_NOTHROW(s.validate());
    s.name = std::string(251, 'n');
    check_invalid_argument([&] { s.validate(); }, "name", {"at most 250", "251"});
    s.name = "nightly report";  // its jobs' tag "cron:nightly report" would be refused at fire
    check_invalid_argument([&] { s.validate(); }, "name", {"must not contain spaces"});
    s.name = "\xff";
    check_invalid_argument([&] { s.validate(); }, "name", {"UTF-8"});
    s.name = "a\nb";
    check_invalid_argument([&] { s.validate(); }, "name", {"control characters"});

    s = nightly();
    s.expression = "61 * * * *";
    check_invalid_argument([&] { s.validate(); }, "expression",
                           {"schedule 'nightly'", "minute", "61", "0-59"});
    s = nightly();
    s.zone = "Mars/Olympus";
    check_invalid_argument([&] { s.validate(); }, "zone", {"schedule 'nightly'", "Mars/Olympus"});
    s = nightly();
    s.job.priority(12);
    check_invalid_argument([&] { s.validate(); }, "job.priority",
                           {"schedule 'nightly'", "job.priority", "12"});
    s = nightly();
    s.job.delay(5min);
    check_invalid_argument([&] { s.validate(); }, "job.delay", {"fire time"});
    s = nightly();
    s.job.retry_policy(RetryPolicy::custom([](int) { return 1s; }));
    check_invalid_argument([&] { s.validate(); }, "job.retry_policy", {"custom"});
    s = nightly();
    s.misfire.max_catch_up = 0;
    check_invalid_argument([&] { s.validate(); }, "misfire.max_catch_up", {"between 1 and"});
}

TEST_CASE(
    "a misfire policy needs a positive age, a catch-up bound and at least a second of grace") {
    MisfirePolicy p;
    CHECK_NOTHROW(p.validate());
    p.max_catch_up = 10001;
    check_invalid_argument([&] { p.validate(); }, "misfire.max_catch_up", {"10001"});
    p = {};
    p.max_age = 0s;
    check_invalid_argument([&] { p.validate(); }, "misfire.max_age", {"must be positive"});
    p = {};
    p.grace = 500ms;
    check_invalid_argument([&] { p.validate(); }, "misfire.grace", {"at least 1s", "500ms"});
    p = {};
    p.max_age = jobq::max_duration + 1s;
    check_invalid_argument([&] { p.validate(); }, "misfire.max_age", {"at most 36525d"});
    p = {};
    p.grace = jobq::Duration::max();
    check_invalid_argument([&] { p.validate(); }, "misfire.grace", {"at most 36525d"});
    p.grace = jobq::max_duration;
    CHECK_NOTHROW(p.validate());
}

TEST_CASE("misfire modes have names and unknown names are rejected") {
    CHECK(jobq::to_string(MisfireMode::latest_only) == "latest_only");
    CHECK(jobq::parse_misfire_mode("skip") == MisfireMode::skip);
    CHECK(jobq::parse_misfire_mode("catch_up") == MisfireMode::catch_up);
    check_invalid_argument([] { (void)jobq::parse_misfire_mode("later", "misfire"); }, "misfire",
                           {"'later'", "catch_up, latest_only or skip"});
}

TEST_CASE("a misfire policy round-trips through JSON and missing keys keep defaults") {
    MisfirePolicy p;
    p.mode = MisfireMode::latest_only;
    p.max_catch_up = 7;
    p.max_age = 2h;
    p.grace = 30s;
    CHECK(MisfirePolicy::from_json(p.to_json()) == p);
    CHECK(MisfirePolicy::from_json(nlohmann::json::object()) == MisfirePolicy{});
    const MisfirePolicy only_mode = MisfirePolicy::from_json({{"mode", "skip"}});
    CHECK(only_mode.mode == MisfireMode::skip);
    CHECK(only_mode.grace == MisfirePolicy{}.grace);
}

TEST_CASE("a misfire policy from JSON rejects unknown keys and bad values") {
    check_invalid_argument(
        [] {
            (void)MisfirePolicy::from_json({{"mdoe", "skip"}});
        },
        "misfire.mdoe", {"not a field"});
    check_invalid_argument([] { (void)MisfirePolicy::from_json({{"mode", 3}}); }, "misfire.mode");
    check_invalid_argument(
        [] {
            (void)MisfirePolicy::from_json({{"grace_us", 1.5}});
        },
        "misfire.grace_us", {"whole number"});
    check_invalid_argument(
        [] {
            (void)MisfirePolicy::from_json({{"grace_us", 10}});
        },
        "misfire.grace");
    check_invalid_argument([] { (void)MisfirePolicy::from_json(nlohmann::json::array()); },
                           "misfire");
}

TEST_CASE("a job spec round-trips through JSON with every option") {
    JobSpec spec{"email.send", {{"to", "a@example.com"}, {"n", 3}}};
    spec.queue("mail")
        .priority(4)
        .max_attempts(8)
        .retry_policy(RetryPolicy::linear(2s, 1min))
        .timeout(30s)
        .unique_key("welcome")
        .unique_states({JobState::available, JobState::running})
        .unique_window(1h)
        .unique_per_tenant(false)
        .tags({"a", "b"})
        .tenant("acme");
    const JobSpec back = JobSpec::from_json(spec.to_json());
    CHECK(back.to_json() == spec.to_json());
    CHECK(back.kind() == "email.send");
    CHECK(back.payload() == spec.payload());
    CHECK(back.queue() == "mail");
    CHECK(back.priority() == 4);
    CHECK(back.max_attempts() == 8);
    CHECK(back.retry_policy() == spec.retry_policy());
    CHECK(back.timeout() == 30s);
    CHECK(back.unique_key() == "welcome");
    CHECK(back.unique_states() == spec.unique_states());
    CHECK(back.unique_window() == 1h);
    CHECK_FALSE(back.unique_per_tenant());
    CHECK(back.tags() == std::vector<std::string>{"a", "b"});
    CHECK(back.tenant() == "acme");
}

TEST_CASE("a job spec's JSON leaves defaults out, so equal specs serialise equally") {
    CHECK(JobSpec{"k"}.to_json() ==
          nlohmann::json{{"kind", "k"}, {"payload", nlohmann::json::object()}});
    CHECK(JobSpec{"k"}.to_json().dump() ==
          JobSpec::from_json(JobSpec{"k"}.to_json()).to_json().dump());
}

TEST_CASE("a job spec from JSON rejects unknown keys, wrong types and invalid values") {
    check_invalid_argument(
        [] {
            (void)JobSpec::from_json({{"kind", "k"}, {"prioirty", 1}});
        },
        "prioirty", {"not a field"});
    check_invalid_argument(
        [] {
            (void)JobSpec::from_json({{"payload", nlohmann::json::object()}});
        },
        "kind", {"missing"});
    check_invalid_argument(
        [] {
            (void)JobSpec::from_json({{"kind", "k"}, {"priority", "high"}});
        },
        "priority", {"whole number"});
    check_invalid_argument(
        [] {
            (void)JobSpec::from_json({{"kind", "k"}, {"priority", 4294967297LL}});
        },
        "priority", {"out of range"});
    check_invalid_argument(
        [] {
            (void)JobSpec::from_json({{"kind", "k"}, {"priority", 10}});
        },
        "priority");
    check_invalid_argument(
        [] {
            (void)JobSpec::from_json({{"kind", "k"}, {"unique_states", {"nap"}}});
        },
        "unique_states", {"\"nap\""});
    check_invalid_argument(
        [] {
            (void)JobSpec::from_json({{"kind", "k"}, {"retry_policy", {{"shape", "wobbly"}}}});
        },
        "retry_policy.shape", {"wobbly"});
    check_invalid_argument([] { (void)JobSpec::from_json("k"); }, "job", {"JSON object"});
}

TEST_SUITE_END();

TEST_CASE("a schedule's job may have 99 tags of its own: the scheduler adds cron:NAME") {
    JobSpec job{"k"};
    for (int i = 0; i < 99; ++i) job.tag("t" + std::to_string(i));
    CronSchedule s{"nightly", "@daily", job};
    CHECK_NOTHROW(s.validate());
    s.job.tag("one-more");
    check_invalid_argument([&] { s.validate(); }, "job.tags", {"at most 100 tags (got 101)"});
    s.job = job;
    s.job.tag("cron:nightly");  // the same tag once: still 100
    CHECK_NOTHROW(s.validate());
}
