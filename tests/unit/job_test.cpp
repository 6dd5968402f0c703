// Job's JSON form, as the CLI's --json prints it.

#include <chrono>
#include <set>
#include <string>

#include <doctest/doctest.h>

#include "jobq/job.hpp"
#include "support.hpp"

using namespace std::chrono_literals;
using jobq::Job;
using jobq::JobState;
using jobq::test::reference_time;
using nlohmann::json;

namespace {

Job fresh_job() {
    Job job;
    job.id = 42;
    job.kind = "email.send";
    job.queue = "mail";
    job.payload = {{"to", "a@example.com"}};
    job.priority = 2;
    job.state = JobState::available;
    job.max_attempts = 20;
    job.created_at = reference_time();
    job.run_at = reference_time(5s);
    return job;
}

std::set<std::string> keys_of(const json& j) {
    std::set<std::string> keys;
    for (const auto& [k, v] : j.items()) keys.insert(k);
    return keys;
}

}  // namespace

TEST_SUITE_BEGIN("Job");

TEST_CASE("to_json writes exactly the documented fields") {
    const std::set<std::string> expected{
        "id",          "kind",         "queue",        "tenant",           "state",
        "priority",    "attempt",      "max_attempts", "payload",          "created_at",
        "run_at",      "attempted_at", "finished_at",  "lease_expires_at", "worker_id",
        "timeout_ms",  "unique_key",   "unique_scope", "tags",             "errors",
        "result",      "retry_policy"};
    CHECK(keys_of(to_json(fresh_job())) == expected);
}

TEST_CASE("to_json of a fresh job writes its values and null for everything unset") {
    const json j = to_json(fresh_job());
    CHECK(j.at("id") == 42);
    CHECK(j.at("kind") == "email.send");
    CHECK(j.at("queue") == "mail");
    CHECK(j.at("state") == "available");
    CHECK(j.at("priority") == 2);
    CHECK(j.at("attempt") == 0);
    CHECK(j.at("max_attempts") == 20);
    CHECK(j.at("payload") == json{{"to", "a@example.com"}});
    CHECK(j.at("created_at") == "2026-11-23T10:56:48.000000Z");
    CHECK(j.at("run_at") == "2026-11-23T10:56:53.000000Z");
    for (const char* key : {"tenant", "attempted_at", "finished_at", "lease_expires_at",
                            "worker_id", "timeout_ms", "unique_key", "unique_scope", "result",
                            "retry_policy"}) {
        INFO(key);
        CHECK(j.at(key).is_null());
    }
    CHECK(j.at("tags") == json::array());
    CHECK(j.at("errors") == json::array());
}

TEST_CASE("to_json of a finished job writes its history, result and policy") {
    Job job = fresh_job();
    job.tenant = "acme";
    job.state = JobState::completed;
    job.attempt = 2;
    job.attempted_at = reference_time(1min);
    job.finished_at = reference_time(1min + 250ms);
    job.lease_expires_at = reference_time(2min);
    job.worker_id = "host:12:abc";
    job.timeout = 1500ms;
    job.unique_key = "t:acme:welcome";
    job.tags = {"a", "b"};
    job.errors = {{1, reference_time(10s), "exception", "smtp down"}};
    job.result = {{"sent", true}};
    job.retry_policy = jobq::RetryPolicy::constant(3s);

    const json j = to_json(job);
    CHECK(j.at("tenant") == "acme");
    CHECK(j.at("state") == "completed");
    CHECK(j.at("attempt") == 2);
    CHECK(j.at("attempted_at") == "2026-11-23T10:57:48.000000Z");
    CHECK(j.at("finished_at") == "2026-11-23T10:57:48.250000Z");
    CHECK(j.at("lease_expires_at") == "2026-11-23T10:58:48.000000Z");
    CHECK(j.at("worker_id") == "host:12:abc");
    CHECK(j.at("timeout_ms") == 1500);
    CHECK(j.at("unique_key") == "welcome");  // as the caller gave it; the tenant is apart
    CHECK(j.at("unique_scope") == "tenant");
    CHECK(j.at("tags") == json{"a", "b"});
    CHECK(j.at("errors") == json::array({{{"attempt", 1},
                                          {"at", "2026-11-23T10:56:58.000000Z"},
                                          {"kind", "exception"},
                                          {"message", "smtp down"}}}));
    CHECK(j.at("result") == json{{"sent", true}});
    CHECK(j.at("retry_policy") == jobq::RetryPolicy::constant(3s).to_json());
}

TEST_CASE("a unique key is shown as given, its scope apart, even when it holds ':'") {
    Job job = fresh_job();
    job.unique_key = "t:acme:welcome:42";
    CHECK(jobq::unique_key_as_given(job) == "welcome:42");
    CHECK(jobq::unique_scope(job) == jobq::UniqueScope::tenant);
    job.unique_key = "g:t:x";
    CHECK(jobq::unique_key_as_given(job) == "t:x");
    CHECK(jobq::unique_scope(job) == jobq::UniqueScope::global);
    CHECK(to_json(job).at("unique_scope") == "global");
    job.unique_key.clear();
    CHECK(jobq::unique_key_as_given(job).empty());
    CHECK(jobq::unique_scope(job) == jobq::UniqueScope::none);
}

TEST_SUITE_END();
