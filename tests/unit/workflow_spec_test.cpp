// A workflow's definition: what validate() refuses, naming the field, and the order an insert
// gives the jobs (every job after its dependencies).

#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "jobq/error.hpp"
#include "jobq/time_format.hpp"
#include "jobq/workflow_spec.hpp"

using jobq::Error;
using jobq::ErrorCode;
using jobq::JobSpec;
using jobq::WorkflowSpec;

namespace {

// validate()'s refusal: field and message.
std::pair<std::string, std::string> refusal(const WorkflowSpec& w) {
    try {
        w.validate();
    } catch (const Error& e) {
        CHECK(e.code() == ErrorCode::invalid_argument);
        return {e.field(), e.what()};
    }
    FAIL("validate() accepted it");
    return {};
}

std::vector<std::string> names_in_order(const WorkflowSpec& w) {
    std::vector<std::string> out;
    for (std::size_t i : w.insertion_order()) out.push_back(w.jobs()[i].name);
    return out;
}

}  // namespace

TEST_SUITE_BEGIN("workflow_spec");

TEST_CASE("a diamond is valid and every job comes after its dependencies, else in adding order") {
    WorkflowSpec w{"etl"};
    w.add("load", JobSpec{"etl.load"}, {"left", "right"})
        .add("left", JobSpec{"etl.transform"}, {"extract"})
        .add("right", JobSpec{"etl.transform"}, {"extract"})
        .add("extract", JobSpec{"etl.extract"})
        .add("audit", JobSpec{"etl.audit"});
    CHECK_NOTHROW(w.validate());
    CHECK(names_in_order(w) ==
          std::vector<std::string>{"extract", "left", "right", "load", "audit"});
}

TEST_CASE("refusals name the field and what is wrong") {
    CHECK(refusal(WorkflowSpec{"w"}).first == "jobs");
    CHECK(refusal(WorkflowSpec{""}.add("a", JobSpec{"k"})).first == "name");

    auto dup = refusal(WorkflowSpec{"w"}.add("a", JobSpec{"k"}).add("a", JobSpec{"k"}));
    CHECK(dup.first == "jobs[1].name");
    CHECK(dup.second.find("already the name of jobs[0]") != std::string::npos);

    auto unknown = refusal(WorkflowSpec{"w"}.add("a", JobSpec{"k"}, {"b"}));
    CHECK(unknown.first == "jobs[0].deps[0]");
    CHECK(unknown.second.find("'b' is not the name of a job") != std::string::npos);

    CHECK(refusal(WorkflowSpec{"w"}.add("a", JobSpec{"k"}, {"a"})).first == "jobs[0].deps[0]");
    auto twice =
        refusal(WorkflowSpec{"w"}.add("a", JobSpec{"k"}).add("b", JobSpec{"k"}, {"a", "a"}));
    CHECK(twice.first == "jobs[1].deps[1]");
    CHECK(twice.second.find("already deps[0]") != std::string::npos);

    CHECK(refusal(WorkflowSpec{"w"}.add("has space", JobSpec{"k"})).first == "jobs[0].name");
    auto bad_spec =
        refusal(WorkflowSpec{"w"}.add("a", JobSpec{"k"}).add("b", JobSpec{"k"}.priority(42)));
    CHECK(bad_spec.first == "jobs[1].priority");
    CHECK(bad_spec.second.find("jobs[1] ('b')") != std::string::npos);
}

TEST_CASE("a cycle is refused and named job by job, wherever it sits") {
    WorkflowSpec w{"w"};
    w.add("start", JobSpec{"k"})
        .add("a", JobSpec{"k"}, {"start", "c"})
        .add("b", JobSpec{"k"}, {"a"})
        .add("c", JobSpec{"k"}, {"b"})
        .add("after", JobSpec{"k"}, {"c"});
    const auto [field, message] = refusal(w);
    CHECK(field == "jobs[1].deps");
    CHECK(message.find("'a' -> 'c' -> 'b' -> 'a'") != std::string::npos);
}

TEST_CASE("a chain of the most jobs allowed is ordered without recursion; one more is refused") {
    WorkflowSpec w{"chain"};
    for (std::size_t i = 0; i < jobq::max_workflow_jobs; ++i) {
        std::vector<std::string> deps;
        if (i > 0) deps.push_back("j" + std::to_string(i - 1));
        w.add("j" + std::to_string(i), JobSpec{"k"}, deps);
    }
    const std::vector<std::size_t> order = w.insertion_order();
    REQUIRE(order.size() == jobq::max_workflow_jobs);
    for (std::size_t i = 0; i < order.size(); ++i) CHECK(order[i] == i);

    WorkflowSpec one_more = w;
    one_more.add("extra", JobSpec{"k"});
    CHECK(refusal(one_more).first == "jobs");

    // A cycle through 1000 jobs: refused, and the message stays short.
    WorkflowSpec loop{"loop"};
    for (std::size_t i = 0; i < 1000; ++i) {
        loop.add("j" + std::to_string(i), JobSpec{"k"}, {"j" + std::to_string((i + 1) % 1000)});
    }
    const auto [field, message] = refusal(loop);
    CHECK(field == "jobs[0].deps");
    CHECK(message.find("(1000 jobs in all)") != std::string::npos);
    CHECK(message.size() < 400);
}

TEST_CASE("the JSON form round-trips, policies and job fields included") {
    const nlohmann::json in = nlohmann::json::parse(R"({
        "name": "etl", "deadline": "2026-12-04T03:00:00Z",
        "jobs": [
            {"name": "extract", "kind": "etl.extract", "payload": {"day": "2026-12-03"},
             "queue": "etl", "max_attempts": 3},
            {"name": "load", "kind": "etl.load", "deps": ["extract"],
             "on_discarded": "ignore", "delay_us": 1000000}
        ]})");
    const WorkflowSpec w = WorkflowSpec::from_json(in);
    CHECK(w.name() == "etl");
    REQUIRE(w.deadline());
    CHECK(jobq::format_timestamp(*w.deadline()) == "2026-12-04T03:00:00.000000Z");
    REQUIRE(w.jobs().size() == 2);
    CHECK(w.jobs()[0].spec.queue() == "etl");
    CHECK(w.jobs()[1].deps == std::vector<std::string>{"extract"});
    CHECK(w.jobs()[1].on_discarded == jobq::DependencyPolicy::ignore);
    CHECK(w.jobs()[1].on_cancelled == jobq::DependencyPolicy::cancel);
    CHECK(WorkflowSpec::from_json(w.to_json()).to_json() == w.to_json());
}

TEST_CASE("bad JSON forms are refused naming the field, the job's own fields under jobs[i]") {
    auto field_of = [](const char* text) -> std::string {
        try {
            (void)WorkflowSpec::from_json(nlohmann::json::parse(text));
        } catch (const Error& e) {
            CHECK(e.code() == ErrorCode::invalid_argument);
            return e.field();
        }
        return "(accepted)";
    };
    CHECK(field_of(R"([])") == "workflow");
    CHECK(field_of(R"({"name": "w", "jobs": [], "extra": 1})") == "extra");
    CHECK(field_of(R"({"jobs": [{"name": "a", "kind": "k"}]})") == "name");
    CHECK(field_of(R"({"name": "w"})") == "jobs");
    CHECK(field_of(R"({"name": "w", "jobs": {}})") == "jobs");
    CHECK(field_of(R"({"name": "w", "deadline": "soon", "jobs": [{"name": "a", "kind": "k"}]})") ==
          "deadline");
    CHECK(field_of(R"({"name": "w", "jobs": [7]})") == "jobs[0]");
    CHECK(field_of(R"({"name": "w", "jobs": [{"kind": "k"}]})") == "jobs[0].name");
    CHECK(field_of(R"({"name": "w", "jobs": [{"name": "a", "kind": "k", "deps": "b"}]})") ==
          "jobs[0].deps");
    CHECK(field_of(R"({"name": "w", "jobs": [{"name": "a", "kind": "k", "deps": [1]}]})") ==
          "jobs[0].deps[0]");
    CHECK(field_of(R"({"name": "w", "jobs": [{"name": "a", "kind": "k",
                   "on_cancelled": "retry"}]})") == "jobs[0].on_cancelled");
    CHECK(field_of(R"({"name": "w", "jobs": [{"name": "a", "kind": "k"},
                   {"name": "b", "kind": "k", "priorty": 1}]})") == "jobs[1].priorty");
    CHECK(field_of(R"({"name": "w", "jobs": [{"name": "a"}]})") == "jobs[0].kind");
}

TEST_CASE("a payload nested far too deep is refused before anything copies it") {
    // Built without recursion; a recursive copy of it would overflow the stack.
    nlohmann::json job = {{"name", "a"}, {"kind", "k"}};
    nlohmann::json payload = nlohmann::json::object();
    nlohmann::json* at = &payload;
    for (int i = 0; i < 100'000; ++i) {
        (*at)["x"] = nlohmann::json::object();
        at = &(*at)["x"];
    }
    job["payload"] = std::move(payload);
    nlohmann::json w = {{"name", "w"}, {"jobs", nlohmann::json::array()}};
    w["jobs"].push_back(std::move(job));
    try {
        (void)WorkflowSpec::from_json(w);
        FAIL("accepted");
    } catch (const Error& e) {
        CHECK(e.field().starts_with("jobs[0].payload"));
    }
}

TEST_CASE("what a new user's hostile pass found: limits honoured, long and unsafe text cut") {
    // Raised limits reach the jobs' own parsing.
    nlohmann::json payload = nlohmann::json::object();
    nlohmann::json* at = &payload;
    for (int i = 0; i < 200; ++i) at = &((*at)["x"] = nlohmann::json::object());
    nlohmann::json deep = {{"name", "w"},
                           {"jobs", {{{"name", "a"}, {"kind", "k"}, {"payload", payload}}}}};
    jobq::InputLimits roomy;
    roomy.max_json_depth = 500;
    CHECK_NOTHROW(WorkflowSpec::from_json(deep, roomy));
    jobq::InputLimits broken;
    broken.max_json_depth = 0;
    try {
        WorkflowSpec{"w"}.add("a", JobSpec{"k"}).validate(broken);
        FAIL("accepted");
    } catch (const Error& e) {
        CHECK(e.field().starts_with("limits"));
    }

    // A megabyte-long unknown dependency is quoted cut short.
    const std::string huge(1'000'000, 'd');
    const auto [field, message] = refusal(WorkflowSpec{"w"}.add("a", JobSpec{"k"}, {huge}));
    CHECK(field == "jobs[0].deps[0]");
    CHECK(message.size() < 300);
    CHECK(message.find("1000000 bytes in all") != std::string::npos);

    // The name is checked before the job's fields, in the JSON form as in C++.
    nlohmann::json long_name = {
        {"name", "w"},
        {"jobs", {{{"name", std::string(300, 'n')}, {"kind", "k"}, {"priority", 99}}}}};
    try {
        (void)WorkflowSpec::from_json(long_name);
        FAIL("accepted");
    } catch (const Error& e) {
        CHECK(e.field() == "jobs[0].name");
    }

    // An unknown key is quoted printable, in the message and the field.
    nlohmann::json odd = {{"name", "w"}, {"jobs", nlohmann::json::array()}, {"x\x1b[31m", 1}};
    try {
        (void)WorkflowSpec::from_json(odd);
        FAIL("accepted");
    } catch (const Error& e) {
        CHECK(std::string(e.what()).find('\x1b') == std::string::npos);
        CHECK(e.field().find('\x1b') == std::string::npos);
    }
    // A space and an invisible character in a name: shown, not obeyed.
    const auto [f2, m2] = refusal(WorkflowSpec{"w"}.add("a b\u202e", JobSpec{"k"}));
    CHECK(f2 == "jobs[0].name");
    CHECK(m2.find("\u202e") == std::string::npos);
}

TEST_CASE("a deadline outside 1970..9999 and too many dependencies are refused") {
    WorkflowSpec late{"w"};
    late.add("a", JobSpec{"k"}).deadline(jobq::Timestamp::max());
    CHECK(refusal(late).first == "deadline");

    WorkflowSpec dense{"w"};
    dense.add("root", JobSpec{"k"});
    std::vector<std::string> names;
    for (int i = 0; i < 400; ++i) {
        names.push_back("n" + std::to_string(i));
        dense.add(names.back(), JobSpec{"k"}, {"root"});
    }
    for (int i = 0; i < 260; ++i) dense.add("fan" + std::to_string(i), JobSpec{"k"}, names);
    const auto [field, message] = refusal(dense);  // 400 + 260 * 400 = 104,400 edges
    CHECK(field == "jobs");
    CHECK(message.find("100000 dependencies") != std::string::npos);
}

TEST_CASE("a job that cannot be written as JSON is named by its place in the workflow") {
    WorkflowSpec w{"w"};
    w.add("a", JobSpec{"k"}).add("b", JobSpec{"k"}.retry_policy(jobq::RetryPolicy::custom([](int) {
        return jobq::Duration{1};
    })));
    try {
        (void)w.to_json();
        FAIL("accepted");
    } catch (const Error& e) {
        CHECK(e.field().starts_with("jobs[1]"));
    }
}

TEST_SUITE_END();
