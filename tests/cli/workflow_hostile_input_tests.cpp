// Workflow and batch files as the place other systems' garbage arrives: a key given twice, a
// cycle, a dependency on nothing, nesting 100,000 deep, 20 MB, not JSON at all, a field of the
// wrong type. Each is refused with exit code 2 and one line naming the field at fault (the same
// field in the --json error), and nothing is written: no job, no workflow.

#include <fstream>
#include <string>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "cli_fixture.hpp"

using jobq::test::CliFixture;
using jobq::test::mentions;
using jobq::test::write_file;
using jobq::test::ProcessResult;

namespace {

// `command` on a file holding `text` is refused: exit code 2, one line that says `what`, no
// trace of nlohmann's own exception text; with --json the error names `field`. Nothing is in
// the store afterwards, as the CLI itself lists it.
void check_refused(CliFixture& fx, const std::vector<std::string>& command, const std::string& text,
                   const std::string& field, const std::string& what) {
    write_file(fx.dir() / "in.json", text);
    std::vector<std::string> args = command;
    args.push_back("in.json");
    const ProcessResult r = fx.jobq(args);
    INFO("stderr: ", r.err.substr(0, 2000));
    CHECK(r.exit_code == 2);
    CHECK(r.out.empty());
    CHECK(r.err.starts_with("jobq: error: "));
    CHECK(jobq::test::is_one_line(r.err));
    CHECK_MESSAGE(mentions(r.err, what), "expected '", what, "'");
    CHECK_FALSE(mentions(r.err, "json.exception"));
    // A message quotes the input it refuses in part, never whole.
    CHECK(r.err.size() < 1000);

    args.insert(args.begin(), "--json");
    const ProcessResult j = fx.jobq(args);
    CHECK(j.exit_code == 2);
    const nlohmann::json error = nlohmann::json::parse(j.err).at("error");
    CHECK(error.at("code") == "invalid_argument");
    CHECK(error.at("field") == field);

    CHECK(fx.jobq({"list"}).out == "no jobs\n");
    CHECK(fx.jobq({"workflow", "list"}).out == "no workflows\n");
    CHECK(fx.count_jobs() == 0);
}

void check_workflow_refused(CliFixture& fx, const std::string& text, const std::string& field,
                            const std::string& what) {
    check_refused(fx, {"workflow", "add"}, text, field, what);
}

}  // namespace

TEST_SUITE_BEGIN("hostile input");

TEST_CASE("a workflow file with a key given twice is refused, not read with one of them lost") {
    CliFixture fx;
    fx.migrate();
    // nlohmann's parser would keep the last "deps": b would run at once, before a.
    check_workflow_refused(fx,
                           R"({"name": "w", "jobs": [{"name": "a", "kind": "k"},
                               {"name": "b", "kind": "k", "deps": ["a"], "deps": []}]})",
                           "workflow", "the key at /jobs/1/deps is given twice");
    check_workflow_refused(fx,
                           R"({"name": "w", "name": "v", "jobs": [{"name": "a", "kind": "k"}]})",
                           "workflow", "the key at /name is given twice");
}

TEST_CASE("a workflow whose dependencies form a cycle is refused, naming the cycle") {
    CliFixture fx;
    fx.migrate();
    check_workflow_refused(fx,
                           R"({"name": "w", "jobs": [
                               {"name": "a", "kind": "k", "deps": ["c"]},
                               {"name": "b", "kind": "k", "deps": ["a"]},
                               {"name": "c", "kind": "k", "deps": ["b"]},
                               {"name": "free", "kind": "k"}]})",
                           "jobs[0].deps",
                           "the dependencies form a cycle, each job waiting for the next: 'a' -> "
                           "'c' -> 'b' -> 'a'");
    check_workflow_refused(fx,
                           R"({"name": "w", "jobs": [{"name": "a", "kind": "k", "deps": ["a"]}]})",
                           "jobs[0].deps[0]", "'a' cannot wait for itself");
}

TEST_CASE("a dependency on a job the workflow does not have is refused") {
    CliFixture fx;
    fx.migrate();
    check_workflow_refused(fx,
                           R"({"name": "w", "jobs": [{"name": "a", "kind": "k"},
                               {"name": "b", "kind": "k", "deps": ["a", "nope"]}]})",
                           "jobs[1].deps[1]", "'nope' is not the name of a job of this workflow");
}

TEST_CASE("a workflow nested 100,000 levels deep is refused without a crash") {
    CliFixture fx;
    fx.migrate();
    const std::string deep(100'000, '[');
    const std::string closed(100'000, ']');
    check_workflow_refused(
        fx,
        R"({"name": "w", "jobs": [{"name": "a", "kind": "k", "payload": {"x": )" + deep + closed +
            "}}]}",
        "workflow", "nests deeper than 131 levels at /jobs/0/payload/x/0/0/");
    check_workflow_refused(fx, R"({"name": "w", "jobs": )" + deep + closed + "}", "workflow",
                           "at /jobs/0/0/0");
    check_refused(fx, {"batch", "add"},
                  R"({"name": "b", "callbacks": {"all_completed": {"kind": "k", "payload": )" +
                      deep + closed + "}}}",
                  "batch", "at /callbacks/all_completed/payload/0/0");
}

TEST_CASE("a 20 MB workflow file is refused by the payload limit, naming the job") {
    CliFixture fx;
    fx.migrate();
    const std::string blob(20 << 20, 'x');
    check_workflow_refused(fx,
                           R"({"name": "w", "jobs": [{"name": "small", "kind": "k"},
                               {"name": "big", "kind": "k", "payload": {"blob": ")" +
                               blob + "\"}}]}",
                           "jobs[1].payload", "is larger than the limit of 1048576 bytes");
}

TEST_CASE("a workflow file that is not JSON, or not a workflow, is refused") {
    CliFixture fx;
    fx.migrate();
    check_workflow_refused(fx, "name: w\njobs: [a]\n", "workflow", "not valid JSON");
    check_workflow_refused(fx, "", "workflow", "not valid JSON");
    check_workflow_refused(fx, R"({"name": "w", "jobs": [)", "workflow", "not valid JSON");
    check_workflow_refused(fx, R"([{"name": "a", "kind": "k"}])", "workflow",
                           "must be a JSON object (got array)");
    check_workflow_refused(fx, std::string("{\"name\": \"w\"}\0{}", 16), "workflow",
                           "a NUL byte at byte 14");
    check_workflow_refused(fx, R"({"name": "w", "jobs": []})", "jobs",
                           "a workflow needs at least one job");
    check_workflow_refused(fx, R"({"jobs": [{"name": "a", "kind": "k"}]})", "name", "is missing");
    check_workflow_refused(fx, R"({"name": "w", "steps": []})", "steps",
                           "is not a field of a workflow");
    check_workflow_refused(
        fx, R"({"name": "w", "deadline": "tomorrow", "jobs": [{"name": "a", "kind": "k"}]})",
        "deadline", "deadline");
}

TEST_CASE("a job field of the wrong type is refused naming the job and the field") {
    CliFixture fx;
    fx.migrate();
    check_workflow_refused(fx,
                           R"({"name": "w", "jobs": [{"name": "a", "kind": "k"},
                               {"name": "b", "kind": "k", "priority": "high"}]})",
                           "jobs[1].priority", "jobs[1] ('b'): priority: must be a whole number");
    check_workflow_refused(fx,
                           R"({"name": "w", "jobs": [{"name": "a", "kind": "k"},
                               {"name": "b", "kind": "k", "deps": "a"}]})",
                           "jobs[1].deps", "must be an array (got string)");
    check_workflow_refused(fx, R"({"name": "w", "jobs": [{"name": "a", "kind": 7}]})",
                           "jobs[0].kind", "must be a string");
    check_workflow_refused(fx,
                           R"({"name": "w", "jobs": [{"name": "a", "kind": "k", "payload": [1]}]})",
                           "jobs[0].payload", "payload");
    check_workflow_refused(
        fx, R"({"name": "w", "jobs": [{"name": "a", "kind": "k", "on_discarded": "skip"}]})",
        "jobs[0].on_discarded", R"(must be "cancel" or "ignore" (got 'skip'))");
    check_workflow_refused(
        fx, R"({"name": "w", "jobs": [{"name": "a", "kind": "k", "colour": "red"}]})",
        "jobs[0].colour", "colour");
    check_workflow_refused(fx, R"({"name": "w", "jobs": [{"name": "a b", "kind": "k"}]})",
                           "jobs[0].name", "jobs[0].name");
    check_refused(fx, {"batch", "add"},
                  R"({"name": "b", "jobs": [{"kind": "k"}, {"kind": "k", "max_attempts": "3"}]})",
                  "jobs[1].max_attempts", "must be a whole number");
    check_refused(fx, {"batch", "add"},
                  R"({"name": "b", "jobs": [], "callbacks": {"on_done": {"kind": "k"}}})",
                  "callbacks.on_done", "is not a callback");
}

TEST_CASE("a workflow file that cannot be read is refused naming the file") {
    CliFixture fx;
    fx.migrate();
    const ProcessResult missing = fx.jobq({"workflow", "add", "missing.json"});
    CHECK(missing.exit_code == 2);
    CHECK(mentions(missing.err, "workflow: cannot read 'missing.json'"));
    std::filesystem::create_directory(fx.dir() / "d");
    const ProcessResult directory = fx.jobq({"batch", "add", "d"});
    CHECK(directory.exit_code == 2);
    CHECK(mentions(directory.err, "batch: cannot read 'd': it is a directory"));
    CHECK(fx.count_jobs() == 0);
}

TEST_CASE("an append with a bad file writes nothing to the workflow") {
    CliFixture fx;
    fx.migrate();
    write_file(fx.dir() / "w.json", R"({"name": "w", "jobs": [{"name": "a", "kind": "k"}]})");
    const ProcessResult added = fx.jobq({"--json", "workflow", "add", "w.json"});
    REQUIRE(added.exit_code == 0);
    const std::string id = std::to_string(nlohmann::json::parse(added.out).at("id").get<int>());
    for (
        const std::string text :
        {R"({"jobs": [{"name": "b", "kind": "k", "deps": ["a"], "deps": []}]})",
         R"({"jobs": [{"name": "b", "kind": "k", "deps": ["c"]}, {"name": "c", "kind": "k", "deps": ["b"]}]})",
         R"({"jobs": [{"name": "b", "kind": "k", "deps": ["a"]}, {"name": "c", "kind": "k", "deps": ["zz"]}]})",
         R"({"jobs": [{"name": "b", "kind": "k", "priority": "high"}]})"}) {
        CAPTURE(text);
        write_file(fx.dir() / "more.json", text);
        const ProcessResult r = fx.jobq({"workflow", "append", id, "more.json"});
        CHECK(r.exit_code == 2);
        CHECK(jobq::test::is_one_line(r.err));
    }
    CHECK(fx.count_jobs() == 1);
}
