// workflow and batch: add, append, show, list, cancel and retry from a shell, the text views and
// the JSON ones, and the ids a user can get wrong.

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "cli_fixture.hpp"

using jobq::JobId;
using jobq::OutcomeKind;
using jobq::WorkflowId;
using jobq::test::CliFixture;
using jobq::test::mentions;
using jobq::test::write_file;
using jobq::test::ProcessOptions;
using jobq::test::ProcessResult;

namespace {

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
}

// A job of a workflow's JSON form.
nlohmann::json job(const std::string& name, const std::vector<std::string>& deps = {},
                   const std::string& kind = "demo.echo") {
    nlohmann::json j{{"name", name}, {"kind", kind}, {"payload", {{"step", name}}}};
    if (!deps.empty()) j["deps"] = deps;
    return j;
}

// extract -> a, b -> report: a fan-out and a fan-in.
const nlohmann::json diamond{
    {"name", "nightly-report"},
    {"deadline", "2099-01-01T00:00:00Z"},
    {"jobs",
     {job("extract"), job("a", {"extract"}), job("b", {"extract"}), job("report", {"a", "b"})}}};

// `jobq --json workflow add FILE` (or another adding command) on `document`.
nlohmann::json add(CliFixture& fx, const nlohmann::json& document,
                   const std::vector<std::string>& command = {"workflow", "add"}) {
    write_file(fx.dir() / "in.json", document.dump());
    std::vector<std::string> args = command;
    args.push_back("in.json");
    return fx.json(args);
}

WorkflowId add_workflow(CliFixture& fx, const nlohmann::json& document) {
    return add(fx, document).at("id").get<WorkflowId>();
}

nlohmann::json show_workflow(CliFixture& fx, WorkflowId id) {
    return fx.json({"workflow", "show", std::to_string(id)});
}

// The job of a shown workflow named `name`.
nlohmann::json step(const nlohmann::json& workflow, const std::string& name) {
    for (const auto& j : workflow.at("jobs")) {
        if (j.at("step") == name) return j;
    }
    FAIL("no job named " << name << " in " << workflow.dump());
    return {};
}

std::vector<WorkflowId> ids_of(const nlohmann::json& page) {
    std::vector<WorkflowId> ids;
    for (const auto& w : page.at("workflows")) ids.push_back(w.at("id").get<WorkflowId>());
    return ids;
}

void check_exit(const ProcessResult& r, int code, const std::string& what) {
    INFO("stderr: ", r.err);
    CHECK(r.exit_code == code);
    CHECK(r.out.empty());
    CHECK(r.err.starts_with("jobq: error: "));
    CHECK(jobq::test::is_one_line(r.err));
    CHECK_MESSAGE(mentions(r.err, what), "expected '", what, "' in: ", r.err);
}

}  // namespace

TEST_SUITE_BEGIN("workflow");

TEST_CASE("workflow add stores every job; those with dependencies wait in pending") {
    CliFixture fx;
    fx.migrate();
    const nlohmann::json added = add(fx, diamond);
    const WorkflowId id = added.at("id").get<WorkflowId>();
    const nlohmann::json& jobs = added.at("jobs");
    REQUIRE(jobs.size() == 4);
    CHECK(fx.show(jobs.at("extract").get<JobId>()).at("state") == "available");
    for (const char* name : {"a", "b", "report"}) {
        const nlohmann::json shown = fx.show(jobs.at(name).get<JobId>());
        CHECK(shown.at("state") == "pending");
        CHECK(shown.at("workflow_id") == id);
        CHECK(shown.at("step") == name);
    }
    const ProcessResult text = fx.jobq({"show", std::to_string(jobs.at("a").get<JobId>())});
    CHECK(mentions(text.out, "workflow       " + std::to_string(id) + " (step a)\n"));

    write_file(fx.dir() / "again.json", diamond.dump());
    const ProcessResult r = fx.jobq({"workflow", "add", "again.json"});
    CHECK(r.exit_code == 0);
    CHECK(r.out == "enqueued workflow " + std::to_string(id + 1) + " with 4 jobs\n");
}

TEST_CASE("workflow add reads the workflow from standard input with '-'") {
    CliFixture fx;
    fx.migrate();
    write_file(fx.dir() / "stdin.json", diamond.dump());
    ProcessOptions options;
    options.stdin_path = fx.dir() / "stdin.json";
    const ProcessResult r =
        fx.jobq_raw({"--db", fx.database(), "--json", "workflow", "add", "-"}, options);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    const WorkflowId id = nlohmann::json::parse(r.out).at("id").get<WorkflowId>();
    CHECK(show_workflow(fx, id).at("jobs").size() == 4);
}

TEST_CASE("workflow show lists each job once, after the jobs it waits for") {
    CliFixture fx;
    fx.migrate();
    nlohmann::json document = diamond;
    document["jobs"][3]["on_discarded"] = "ignore";
    const nlohmann::json added = add(fx, document);
    const std::string id = std::to_string(added.at("id").get<WorkflowId>());
    const ProcessResult r = fx.jobq({"workflow", "show", id});
    INFO(r.out);
    REQUIRE(r.exit_code == 0);
    const std::vector<std::string> lines = lines_of(r.out);
    CHECK(lines.at(0) == "id             " + id);
    CHECK(lines.at(1) == "name           nightly-report");
    CHECK(lines.at(2) == "kind           workflow");
    CHECK(lines.at(3) == "state          running");
    CHECK(lines.at(5).starts_with("deadline       2099-01-01T00:00:00"));
    CHECK(lines.at(8) == "jobs           4 (3 pending, 1 available)");
    // The table: a header, then one row per job in the order they were added.
    const auto header = std::find_if(
        lines.begin(), lines.end(), [](const std::string& l) { return l.find("AFTER") != l.npos; });
    REQUIRE(header != lines.end());
    for (const char* column : {"ID", "NAME", "STATE", "KIND", "AFTER"}) {
        CHECK_MESSAGE(mentions(*header, column), column);
    }
    const std::vector<std::string> rows(header + 1, lines.end());
    REQUIRE(rows.size() == 4);
    const auto& jobs = added.at("jobs");
    const std::vector<std::pair<std::string, std::string>> expected{
        {"extract", "-"},
        {"a", "extract"},
        {"b", "extract"},
        {"report", "a (ignores discarded), b (ignores discarded)"}};
    for (std::size_t i = 0; i < rows.size(); ++i) {
        const auto& [name, after] = expected[i];
        CAPTURE(rows[i]);
        CHECK(rows[i].find(std::to_string(jobs.at(name).get<JobId>())) <
              rows[i].find(" " + name + " "));
        CHECK(rows[i].ends_with("demo.echo  " + after));
        CHECK(rows[i].find(name) == header->find("NAME"));
    }
}

TEST_CASE("workflow show --json prints the stored workflow with each job's dependencies") {
    CliFixture fx;
    fx.migrate();
    const nlohmann::json added = add(fx, diamond);
    const nlohmann::json shown = show_workflow(fx, added.at("id").get<WorkflowId>());
    CHECK(shown.at("id") == added.at("id"));
    CHECK(shown.at("name") == "nightly-report");
    CHECK(shown.at("kind") == "workflow");
    CHECK(shown.at("state") == "running");
    CHECK(shown.at("deadline").get<std::string>().starts_with("2099-01-01T00:00:00"));
    CHECK(shown.at("finished_at").is_null());
    CHECK(shown.at("counts") == nlohmann::json{{"available", 1}, {"pending", 3}});
    const nlohmann::json report = step(shown, "report");
    CHECK(report.at("id") == added.at("jobs").at("report"));
    REQUIRE(report.at("deps").size() == 2);
    CHECK(report.at("deps")[0].at("name") == "a");
    CHECK(report.at("deps")[0].at("id") == added.at("jobs").at("a"));
    CHECK(report.at("deps")[1].at("name") == "b");
    CHECK(step(shown, "extract").at("payload") == nlohmann::json{{"step", "extract"}});
    CHECK(step(shown, "extract").at("deps").empty());
    CHECK_FALSE(shown.contains("callbacks"));
}

TEST_CASE("workflow list shows workflows and batches newest first and filters them") {
    CliFixture fx;
    fx.migrate();
    CHECK(fx.jobq({"workflow", "list"}).out == "no workflows\n");
    CHECK(fx.json({"workflow", "list"}) ==
          nlohmann::json{{"workflows", nlohmann::json::array()}, {"next_before_id", nullptr}});

    const WorkflowId first = add_workflow(fx, diamond);
    const WorkflowId batch =
        add(fx, {{"name", "exports"}, {"jobs", {{{"kind", "export.one"}}}}}, {"batch", "add"})
            .at("id")
            .get<WorkflowId>();
    const WorkflowId last = add_workflow(fx, diamond);
    REQUIRE(fx.jobq({"workflow", "cancel", std::to_string(first)}).exit_code == 0);

    CHECK(ids_of(fx.json({"workflow", "list"})) == std::vector<WorkflowId>{last, batch, first});
    CHECK(ids_of(fx.json({"workflow", "list", "--kind", "batch"})) ==
          std::vector<WorkflowId>{batch});
    CHECK(ids_of(fx.json({"workflow", "list", "--state", "cancelled"})) ==
          std::vector<WorkflowId>{first});
    CHECK(ids_of(fx.json({"workflow", "list", "--state", "running", "--kind", "workflow"})) ==
          std::vector<WorkflowId>{last});
    CHECK(ids_of(fx.json({"workflow", "list", "--state", "failed"})).empty());

    const nlohmann::json page = fx.json({"workflow", "list", "--limit", "2"});
    CHECK(ids_of(page) == std::vector<WorkflowId>{last, batch});
    REQUIRE(page.at("next_before_id").is_number());
    const std::string cursor = std::to_string(page.at("next_before_id").get<WorkflowId>());
    CHECK(ids_of(fx.json({"workflow", "list", "--before", cursor})) ==
          std::vector<WorkflowId>{first});

    const nlohmann::json summary = fx.json({"workflow", "list"}).at("workflows")[2];
    CHECK(summary.at("name") == "nightly-report");
    CHECK(summary.at("state") == "cancelled");
    CHECK(summary.at("counts") == nlohmann::json{{"cancelled", 4}});

    const ProcessResult text = fx.jobq({"workflow", "list", "--limit", "2"});
    const std::vector<std::string> lines = lines_of(text.out);
    REQUIRE(lines.size() == 4);
    for (const char* column : {"ID", "KIND", "STATE", "DONE", "CREATED AT", "NAME"}) {
        CHECK_MESSAGE(mentions(lines[0], column), column);
    }
    CHECK(mentions(lines[1], "workflow  running"));
    CHECK(lines[1].ends_with("nightly-report"));
    CHECK(mentions(lines[2], "batch"));
    CHECK(mentions(lines[2], " 0/1 "));
    CHECK(lines[3] == "(more workflows: add --before " + cursor + " for the next page)");
}

TEST_CASE("workflow append adds jobs that may wait for the workflow's own jobs") {
    CliFixture fx;
    fx.migrate();
    const nlohmann::json added = add(fx, {{"name", "w"}, {"jobs", {job("extract")}}});
    const WorkflowId id = added.at("id").get<WorkflowId>();
    const std::string wid = std::to_string(id);

    // No name needed: an append's name is not used.
    const nlohmann::json appended =
        add(fx, {{"jobs", {job("load", {"extract"}), job("notify", {"load"})}}},
            {"workflow", "append", wid});
    CHECK(appended.at("id") == id);
    REQUIRE(appended.at("jobs").size() == 2);
    CHECK(fx.show(appended.at("jobs").at("load").get<JobId>()).at("state") == "pending");

    nlohmann::json shown = show_workflow(fx, id);
    REQUIRE(shown.at("jobs").size() == 3);
    CHECK(step(shown, "load").at("deps")[0].at("id") == added.at("jobs").at("extract"));
    CHECK(step(shown, "notify").at("deps")[0].at("name") == "load");

    // A dependency that already completed is met at once.
    REQUIRE(fx.finish_attempts("default", OutcomeKind::complete, "", R"({"rows":3})").size() == 1);
    write_file(fx.dir() / "more.json",
               nlohmann::json{{"name", "anything"}, {"jobs", {job("audit", {"extract"})}}}.dump());
    const ProcessResult r = fx.jobq({"workflow", "append", wid, "more.json"});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    shown = show_workflow(fx, id);
    const JobId audit = step(shown, "audit").at("id").get<JobId>();
    CHECK(r.out == "appended 1 job to workflow " + wid + "\nID  NAME\n " + std::to_string(audit) +
                       "  audit\n");
    CHECK(step(shown, "audit").at("state") == "available");
}

TEST_CASE("workflow append refuses a name the workflow has or a dependency it lacks") {
    CliFixture fx;
    fx.migrate();
    const WorkflowId id = add_workflow(fx, {{"name", "w"}, {"jobs", {job("extract")}}});
    const std::string wid = std::to_string(id);
    write_file(fx.dir() / "again.json", nlohmann::json{{"jobs", {job("extract")}}}.dump());
    const ProcessResult repeated = fx.jobq({"workflow", "append", wid, "again.json"});
    CHECK(repeated.exit_code == 2);
    CHECK(mentions(repeated.err, "extract"));
    write_file(fx.dir() / "unknown.json", nlohmann::json{{"jobs", {job("load", {"nope"})}}}.dump());
    const ProcessResult unknown = fx.jobq({"workflow", "append", wid, "unknown.json"});
    CHECK(unknown.exit_code == 2);
    CHECK(mentions(unknown.err, "jobs[0].deps[0]"));
    CHECK(mentions(unknown.err, "nope"));
    // The library would drop a deadline silently; the user is told instead.
    write_file(fx.dir() / "deadline.json",
               nlohmann::json{{"deadline", "2099-01-01T00:00:00Z"}, {"jobs", {job("x")}}}.dump());
    check_exit(fx.jobq({"workflow", "append", wid, "deadline.json"}), 2, "deadline:");
    CHECK(show_workflow(fx, id).at("jobs").size() == 1);
    CHECK(fx.count_jobs() == 1);
    check_exit(fx.jobq({"workflow", "append", "999", "again.json"}), 1, "workflow 999");
}

TEST_CASE("workflow cancel cancels every unfinished job and says how many") {
    CliFixture fx;
    fx.migrate();
    const WorkflowId id = add_workflow(fx, diamond);
    const std::string wid = std::to_string(id);
    REQUIRE(fx.finish_attempts("default", OutcomeKind::complete).size() == 1);  // extract
    const ProcessResult r = fx.jobq({"workflow", "cancel", wid});
    CHECK(r.exit_code == 0);
    CHECK(r.out == "workflow " + wid + ": cancelled 3 jobs\n");
    const nlohmann::json shown = show_workflow(fx, id);
    CHECK(shown.at("state") == "cancelled");
    CHECK(shown.at("counts") == nlohmann::json{{"completed", 1}, {"cancelled", 3}});
    CHECK(fx.jobq({"workflow", "cancel", wid}).out ==
          "workflow " + wid + ": no unfinished job to cancel\n");
    CHECK(fx.json({"workflow", "cancel", wid}) == nlohmann::json{{"id", id}, {"cancelled", 0}});
}

TEST_CASE("workflow retry reruns the discarded job and the jobs its failure cancelled") {
    CliFixture fx;
    fx.migrate();
    const nlohmann::json added = add(fx, diamond);
    const WorkflowId id = added.at("id").get<WorkflowId>();
    const std::string wid = std::to_string(id);
    REQUIRE(fx.finish_attempts("default", OutcomeKind::discard).size() == 1);  // extract
    nlohmann::json shown = show_workflow(fx, id);
    CHECK(shown.at("state") == "failed");
    CHECK(shown.at("counts") == nlohmann::json{{"discarded", 1}, {"cancelled", 3}});

    const ProcessResult r = fx.jobq({"workflow", "retry", wid});
    CHECK(r.exit_code == 0);
    CHECK(r.out == "workflow " + wid + ": 4 jobs will run again\n");
    shown = show_workflow(fx, id);
    CHECK(shown.at("state") == "running");
    CHECK(step(shown, "extract").at("state") == "available");
    CHECK(step(shown, "report").at("state") == "pending");
    CHECK(fx.jobq({"workflow", "retry", wid}).out ==
          "workflow " + wid + ": no discarded or cancelled job to run again\n");

    // --from: the job named and what waits on it; a job that did not fail reruns nothing.
    REQUIRE(fx.finish_attempts("default", OutcomeKind::discard).size() == 1);
    const std::string extract = std::to_string(added.at("jobs").at("extract").get<JobId>());
    const std::string a = std::to_string(added.at("jobs").at("a").get<JobId>());
    CHECK(fx.jobq({"workflow", "retry", wid, "--from", a}).out ==
          "workflow " + wid + ": no job to run again from job " + a +
              " (--from reruns a discarded or cancelled job and the failed jobs that wait on "
              "it)\n");
    CHECK(fx.json({"workflow", "retry", wid, "--from", extract}) ==
          nlohmann::json{{"id", id}, {"retried", 4}});

    const JobId other = fx.enqueue({"k"});
    const ProcessResult foreign =
        fx.jobq({"--json", "workflow", "retry", wid, "--from", std::to_string(other)});
    CHECK(foreign.exit_code == 1);
    const nlohmann::json error = nlohmann::json::parse(foreign.err).at("error");
    CHECK(error.at("code") == "not_found");
    CHECK(error.at("field") == "--from");
    CHECK(mentions(error.at("message"), "is not a job of workflow " + wid));
}

TEST_CASE("batch add and batch show list the jobs and which callbacks fired") {
    CliFixture fx;
    fx.migrate();
    const nlohmann::json batch{
        {"name", "exports"},
        {"jobs", {{{"kind", "export.one"}, {"payload", {{"n", 1}}}}, {{"kind", "export.one"}}}},
        {"callbacks",
         {{"all_completed", {{"kind", "report.build"}, {"queue", "callbacks"}}},
          {"any_discarded", {{"kind", "alert.page"}, {"queue", "callbacks"}}}}}};
    const nlohmann::json added = add(fx, batch, {"batch", "add"});
    const WorkflowId id = added.at("id").get<WorkflowId>();
    const std::string bid = std::to_string(id);
    REQUIRE(added.at("jobs").size() == 2);
    CHECK(fx.show(added.at("jobs")[0].get<JobId>()).at("payload") == nlohmann::json{{"n", 1}});

    nlohmann::json shown = fx.json({"batch", "show", bid});
    CHECK(shown.at("kind") == "batch");
    REQUIRE(shown.at("callbacks").size() == 2);
    for (const auto& c : shown.at("callbacks")) CHECK(c.at("fired_job").is_null());

    REQUIRE(fx.finish_attempts("default", OutcomeKind::complete).size() == 2);
    shown = fx.json({"batch", "show", bid});
    CHECK(shown == fx.json({"workflow", "show", bid}));
    JobId fired = 0;
    for (const auto& c : shown.at("callbacks")) {
        if (c.at("on") == "all_completed") fired = c.at("fired_job").get<JobId>();
        if (c.at("on") == "any_discarded") CHECK(c.at("fired_job").is_null());
    }
    REQUIRE(fired != 0);
    CHECK(fx.show(fired).at("kind") == "report.build");

    const ProcessResult r = fx.jobq({"batch", "show", bid});
    INFO(r.out);
    REQUIRE(r.exit_code == 0);
    CHECK(mentions(r.out, "kind           batch\n"));
    CHECK_FALSE(mentions(r.out, "deadline"));
    CHECK_FALSE(mentions(r.out, "AFTER"));
    CHECK(mentions(r.out, "\ncallbacks\nON             KIND          FIRED\n"));
    CHECK(
        mentions(r.out, "all_completed  report.build  yes (job " + std::to_string(fired) + ")\n"));
    CHECK(mentions(r.out, "any_discarded  alert.page    no\n"));

    write_file(fx.dir() / "b.json", batch.dump());
    const ProcessResult text = fx.jobq({"batch", "add", "b.json"});
    CHECK(text.out == "enqueued batch " + std::to_string(id + 1) + " with 2 jobs\n");
}

TEST_CASE("batch show refuses a workflow's id and points to workflow show") {
    CliFixture fx;
    fx.migrate();
    const std::string id = std::to_string(add_workflow(fx, diamond));
    check_exit(fx.jobq({"batch", "show", id}), 1, "is a workflow (see 'jobq workflow show " + id);
}

TEST_CASE("ids that are not positive integers are refused with exit code 2, naming the id") {
    CliFixture fx;
    fx.migrate();
    write_file(fx.dir() / "w.json", diamond.dump());
    const std::vector<std::vector<std::string>> commands{
        {"workflow", "show"}, {"workflow", "cancel"}, {"workflow", "retry"},
        {"batch", "show"},    {"workflow", "append"},
    };
    for (const auto& command : commands) {
        for (const std::string bad : {"abc", "0", "-5", "1.5", ""}) {
            std::vector<std::string> args = command;
            args.push_back(bad);
            if (command.back() == "append") args.push_back("w.json");
            CAPTURE(args);
            check_exit(fx.jobq(args), 2,
                       "ID: expected a workflow id, a positive integer (got '" + bad + "')");
        }
    }
    check_exit(fx.jobq({"workflow", "retry", "1", "--from", "x"}), 2,
               "--from: expected a job id, a positive integer (got 'x')");
    check_exit(fx.jobq({"workflow", "list", "--before", "-1"}), 2, "--before");
    CHECK(fx.count_jobs() == 0);
}

TEST_CASE("an unknown workflow id is not found, exit code 1") {
    CliFixture fx;
    fx.migrate();
    for (const std::vector<std::string>& args : {std::vector<std::string>{"workflow", "show", "42"},
                                                 {"workflow", "cancel", "42"},
                                                 {"workflow", "retry", "42"},
                                                 {"batch", "show", "42"}}) {
        CAPTURE(args);
        check_exit(fx.jobq(args), 1, "workflow 42 does not exist");
    }
    const ProcessResult r = fx.jobq({"--json", "workflow", "show", "42"});
    CHECK(r.exit_code == 1);
    CHECK(nlohmann::json::parse(r.err) ==
          nlohmann::json{{"error",
                          {{"code", "not_found"},
                           {"field", "id"},
                           {"message", "workflow 42 does not exist"},
                           {"exit_code", 1}}}});
}

TEST_CASE("bad options and missing arguments of the workflow commands exit with code 2") {
    CliFixture fx;
    fx.migrate();
    const std::vector<std::pair<std::vector<std::string>, std::string>> cases{
        {{"workflow"}, "missing workflow command (one of: add, append, show, list, cancel, retry)"},
        {{"workflow", "frob"}, "unknown workflow command 'frob'"},
        {{"batch"}, "missing batch command (one of: add, show)"},
        {{"batch", "list"}, "unknown batch command 'list'"},
        {{"workflow", "add"}, "missing argument FILE"},
        {{"workflow", "add", "a.json", "b.json"}, "unexpected argument 'b.json'"},
        {{"workflow", "append", "1"}, "missing argument FILE"},
        {{"workflow", "show"}, "missing argument ID"},
        {{"workflow", "list", "--state", "done"},
         "--state: unknown state 'done' (one of: running, completed, failed, cancelled)"},
        {{"workflow", "list", "--kind", "job"}, "--kind: unknown kind 'job'"},
        {{"workflow", "list", "--limit", "0"}, "--limit"},
        {{"workflow", "list", "--limit", "20000"}, "--limit: must be between 1 and 10000"},
        {{"workflow", "list", "--tenant", ""}, "--tenant: must not be empty"},
        {{"workflow", "list", "--tenant", "a b"}, "--tenant"},
        {{"workflow", "list", "--queue", "q"}, "unknown option '--queue'"},
        {{"workflow", "show", "1", "--from", "2"}, "unknown option '--from'"},
    };
    for (const auto& [args, what] : cases) {
        CAPTURE(args);
        check_exit(fx.jobq(args), 2, what);
    }
}

TEST_CASE("the workflow commands are in the help, with the JSON form they read") {
    CliFixture fx;
    const ProcessResult usage = fx.jobq_raw({"--help"});
    for (const char* name : {"workflow add", "workflow append", "workflow show", "workflow list",
                             "workflow cancel", "workflow retry", "batch add", "batch show"}) {
        CHECK_MESSAGE(mentions(usage.out, std::string("\n  ") + name + " "), name);
    }
    const ProcessResult add_help = fx.jobq_raw({"workflow", "add", "--help"});
    CHECK(add_help.exit_code == 0);
    CHECK(add_help.out.starts_with("usage: jobq [--db PATH_OR_URL] [--json] workflow add FILE\n"));
    CHECK(mentions(add_help.out, R"("deps": ["extract"])"));
    CHECK(mentions(fx.jobq_raw({"help", "batch", "add"}).out, "\"callbacks\""));
    CHECK(mentions(fx.jobq_raw({"workflow", "retry", "--help"}).out, "--from JOB_ID"));
}
