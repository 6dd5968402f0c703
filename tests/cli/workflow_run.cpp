#include "workflow_run.hpp"

#include <chrono>
#include <fstream>
#include <string>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "integration/process_harness.hpp"
#include "support/wait_until.hpp"

namespace jobq::test {

namespace {

// How often the test asks `jobq workflow show`: each look is a process start, so not every
// few milliseconds; a poll period, not a synchronisation.
constexpr auto show_period = std::chrono::milliseconds{100};

nlohmann::json echo(const std::string& name, const std::vector<std::string>& deps) {
    nlohmann::json j{{"name", name}, {"kind", "demo.echo"}, {"payload", {{"part", name}}}};
    if (!deps.empty()) j["deps"] = deps;
    return j;
}

const nlohmann::json* job_named(const nlohmann::json& workflow, const std::string& name) {
    for (const auto& j : workflow.at("jobs")) {
        if (j.at("step") == name) return &j;
    }
    return nullptr;
}

}  // namespace

void run_fan_in_workflow(CliFixture& fx) {
    const nlohmann::json workflow{
        {"name", "fan-in"},
        {"jobs",
         {echo("extract", {}),
          echo("a", {"extract"}),
          echo("b", {"extract"}),
          echo("c", {"extract"}),
          {{"name", "collect"}, {"kind", "demo.collect"}, {"deps", {"a", "b", "c"}}}}}};
    std::ofstream(fx.dir() / "fan-in.json") << workflow.dump();
    const std::string id =
        std::to_string(fx.json({"workflow", "add", "fan-in.json"}).at("id").get<WorkflowId>());

    itest::WorkerProcess worker(fx.dir(), "demo_worker",
                                {"--db", fx.database(), "--poll-ms", "50", "--concurrency", "4"});
    worker.wait_ready();
    nlohmann::json shown;
    const bool finished = poll_until(
        [&] {
            shown = fx.json({"workflow", "show", id});
            return shown.at("state") != "running";
        },
        default_deadline, show_period);
    INFO("workflow: ", shown.dump(2), "\n", worker.describe());
    REQUIRE(finished);
    CHECK(shown.at("state") == "completed");
    CHECK(shown.at("counts") == nlohmann::json{{"completed", 5}});

    const nlohmann::json* collect = job_named(shown, "collect");
    REQUIRE(collect != nullptr);
    CHECK(collect->at("result") ==
          nlohmann::json{{"a", {{"part", "a"}}}, {"b", {{"part", "b"}}}, {"c", {{"part", "c"}}}});
    CHECK(job_named(shown, "a")->at("result") == nlohmann::json{{"part", "a"}});
    worker.stop_gracefully();
}

}  // namespace jobq::test
