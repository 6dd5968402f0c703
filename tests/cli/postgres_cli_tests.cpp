// The jobq binary on a PostgreSQL --db: every command on a fresh schema of the server named by
// $JOBQ_TEST_POSTGRES_URL (scripts/test.sh starts one), dropped when the case ends. Without that
// variable every case fails and says so, as the other PostgreSQL suites do.

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <random>
#include <stdexcept>
#include <string>

#include <doctest/doctest.h>
#include <pqxx/pqxx>

#include "cli_fixture.hpp"
#include "common/open_store.hpp"
#include "jobq/crontab.hpp"
#include "jobq/time_format.hpp"
#include "workflow_run.hpp"

using jobq::JobId;
using jobq::OutcomeKind;
using jobq::test::CliFixture;
using jobq::test::ProcessResult;

namespace {

const std::string& server_url() {
    static const std::string url = [] {
        const char* value = std::getenv("JOBQ_TEST_POSTGRES_URL");
        if (value == nullptr || *value == '\0') {
            throw std::runtime_error(
                "JOBQ_TEST_POSTGRES_URL is not set: the PostgreSQL CLI tests need a running "
                "server. Run them through scripts/test.sh, or export the URL of a server you "
                "started (for example with scripts/pg.sh start DIR).");
        }
        return std::string(value);
    }();
    return url;
}

std::string with_param(const std::string& url, const std::string& param) {
    return url + (url.find('?') == std::string::npos ? '?' : '&') + param;
}

// A schema of this case's own: jobq_cli_<pid>_<salt>_<n>, dropped with everything in it.
class Schema {
  public:
    Schema() {
        static std::atomic<int> counter{0};
        static const unsigned salt = std::random_device{}() % 1'000'000u;
        name_ = "jobq_cli_" + std::to_string(::getpid()) + "_" + std::to_string(salt) + "_" +
                std::to_string(counter++);
    }
    ~Schema() {
        try {
            pqxx::connection c{jobq::tools::parse_store_url(server_url()).postgres_conninfo};
            pqxx::nontransaction tx{c};
            tx.exec0("DROP SCHEMA IF EXISTS " + tx.quote_name(name_) + " CASCADE");
        } catch (const std::exception& e) {
            MESSAGE("dropping schema " << name_ << " failed: " << std::string(e.what()));
        }
    }
    Schema(const Schema&) = delete;
    Schema& operator=(const Schema&) = delete;

    /// The server's URL with schema=<this schema>.
    std::string url() const { return with_param(server_url(), "schema=" + name_); }

  private:
    std::string name_;
};

}  // namespace

TEST_CASE("every command works on a PostgreSQL --db") {
    const Schema schema;
    CliFixture fx{schema.url()};

    const ProcessResult early = fx.jobq({"list"});
    CHECK(early.exit_code == 1);
    CHECK(early.err.find("run 'jobq migrate' first") != std::string::npos);

    const auto first = fx.json({"migrate"});
    CHECK(first.at("previous_version") == 0);
    CHECK(first.at("schema_version").get<int>() >= 1);
    CHECK(fx.json({"migrate"}).at("previous_version") == first.at("schema_version"));

    const JobId a = fx.enqueue({"email.send", R"({"to": "a@example.com"})", "--queue", "mail"});
    const JobId b = fx.enqueue({"email.send", "--queue", "mail", "--unique-key", "k"});
    CHECK(fx.enqueue({"email.send", "--queue", "mail", "--unique-key", "k"}) == b);
    const JobId later = fx.enqueue({"report.build", "--in", "1h"});
    CHECK(fx.show(a).at("payload").at("to") == "a@example.com");
    CHECK(fx.show(later).at("state") == "scheduled");
    CHECK(fx.json({"list"}).at("jobs").size() == 3);
    CHECK(fx.json({"list", "--queue", "mail"}).at("jobs").size() == 2);

    CHECK(fx.jobq({"cancel", std::to_string(b)}).exit_code == 0);
    CHECK(fx.show(b).at("state") == "cancelled");
    CHECK(fx.jobq({"retry", std::to_string(later)}).exit_code == 0);
    CHECK(fx.show(later).at("state") == "available");
    CHECK(fx.jobq({"delete", std::to_string(later)}).exit_code == 0);
    CHECK(fx.jobq({"show", std::to_string(later)}).exit_code == 1);

    CHECK(fx.finish_attempts("mail", OutcomeKind::discard, "mailbox unavailable").size() == 1);
    const auto dlq = fx.json({"dlq"});
    REQUIRE(dlq.at("jobs").size() == 1);
    CHECK(dlq.at("jobs")[0].at("id") == a);
    CHECK(fx.json({"dlq", "replay", "--all"}).at("replayed") == 1);
    CHECK(fx.show(a).at("state") == "available");

    const auto stats = fx.json({"stats"});
    REQUIRE(stats.at("queues").size() == 1);
    CHECK(stats.at("queues")[0].at("queue") == "mail");
    CHECK(stats.at("queues")[0].at("counts").at("available") == 1);
    CHECK(stats.at("queues")[0].at("counts").at("cancelled") == 1);
}

TEST_CASE("the cron commands work on a PostgreSQL --db") {
    const Schema schema;
    CliFixture fx{schema.url()};
    fx.migrate();

    CHECK(fx.jobq({"cron", "list"}).out == "no schedules\n");
    const ProcessResult added =
        fx.jobq({"cron", "add", "sync", "*/5 * * * *", "crm.sync", "--queue", "crm", "--payload",
                 R"({"full": false})", "--misfire", "skip"});
    CHECK(added.exit_code == 0);
    CHECK(added.out.starts_with("added schedule 'sync'\n"));
    CHECK(fx.jobq({"cron", "add", "sync", "@daily", "k"}).exit_code == 1);
    auto listed = fx.json({"cron", "list"}).at("schedules");
    REQUIRE(listed.size() == 1);
    CHECK(listed[0].at("queue") == "crm");
    CHECK(listed[0].at("state") == "active");
    CHECK(listed[0].at("misfire").at("mode") == "skip");
    CHECK(listed[0].at("job").at("payload") == nlohmann::json{{"full", false}});

    CHECK(fx.jobq({"cron", "pause", "sync"}).out == "paused schedule 'sync'\n");
    CHECK(fx.json({"cron", "list"}).at("schedules")[0].at("next_fire_at").is_null());
    CHECK(fx.json({"cron", "resume", "sync"}).at("state") == "active");
    CHECK(fx.jobq({"cron", "history", "sync"}).out == "schedule 'sync' has no history yet\n");
    CHECK(fx.jobq({"cron", "update", "sync", "*/10 * * * *", "crm.sync"}).exit_code == 0);
    CHECK(fx.json({"cron", "list"}).at("schedules")[0].at("expression") == "*/10 * * * *");

    // Windows that pass while a schedule is paused are recorded as one skipped run.
    {
        const std::unique_ptr<jobq::Store> store = jobq::tools::open_store(fx.database());
        jobq::ManualClock clock{jobq::parse_timestamp("2026-11-23T10:00:00Z")};
        jobq::Crontab crontab{*store, clock};
        crontab.add({"nightly", "0 3 * * *", jobq::JobSpec{"report.build"}, "Europe/Berlin",
                     jobq::MisfirePolicy{}});
        crontab.pause("nightly");
        clock.set(jobq::parse_timestamp("2026-11-26T10:00:00Z"));
        crontab.resume("nightly");
    }
    CHECK(fx.jobq({"cron", "history", "nightly"}).out ==
          "WINDOW                                                OUTCOME  COUNT  JOB  REASON\n"
          "2026-11-24T03:00:00+01:00..2026-11-26T03:00:00+01:00  skipped      3    -  paused\n");

    CHECK(fx.jobq({"cron", "remove", "sync"}).out == "removed schedule 'sync' and its history\n");
    CHECK(fx.jobq({"cron", "remove", "nightly"}).exit_code == 0);
    CHECK(fx.json({"cron", "list"}).at("schedules") == nlohmann::json::array());
    const ProcessResult gone = fx.jobq({"cron", "history", "nightly"});
    CHECK(gone.exit_code == 1);
    CHECK(gone.err == "jobq: error: no schedule named 'nightly'\n");
}

TEST_CASE("the flow-control commands work on a PostgreSQL --db") {
    const Schema schema;
    CliFixture fx{schema.url()};
    fx.migrate();

    const ProcessResult set = fx.jobq({"limit", "set", "kind:email.send", "--max-running", "1"});
    CHECK(set.exit_code == 0);
    CHECK(set.out == "set limits of kind:email.send: max running 1\n");
    CHECK(fx.jobq({"limit", "set", "queue:mail", "--rate", "5/x"}).exit_code == 2);
    CHECK(fx.jobq({"limit", "set", "kind:email.send", "--max-queued", "3"}).exit_code == 2);

    fx.enqueue({"email.send", "--queue", "mail"});
    const JobId capped = fx.enqueue({"email.send", "--queue", "mail"});
    REQUIRE(fx.claim("mail").size() == 1);
    auto limits = fx.json({"limit", "list"}).at("limits");
    REQUIRE(limits.size() == 1);
    CHECK(limits[0].at("scope") == "kind:email.send");
    CHECK(limits[0].at("max_running") == 1);
    CHECK(limits[0].at("running") == 1);
    auto why = fx.json({"explain", std::to_string(capped)});
    CHECK(why.at("reason") == "kind_concurrency_cap");
    CHECK(why.at("scope") == "kind:email.send");

    CHECK(fx.jobq({"queue", "pause", "reports"}).out == "queue reports paused\n");
    CHECK(fx.jobq({"queue", "pause", "reports"}).out == "queue reports was already paused\n");
    const JobId paused = fx.enqueue({"report.build", "--queue", "reports"});
    why = fx.json({"explain", std::to_string(paused)});
    CHECK(why.at("reason") == "queue_paused");
    CHECK(why.at("scope") == "queue:reports");
    CHECK(fx.claim("reports").empty());
    const auto queues = fx.json({"queue", "list"}).at("queues");
    REQUIRE(queues.size() == 2);
    CHECK(queues[0].at("queue") == "mail");
    CHECK(queues[0].at("counts").at("running") == 1);
    CHECK(queues[1].at("queue") == "reports");
    CHECK(queues[1].at("paused") == true);
    const auto summary = fx.json({"explain", "--summary"}).at("waiting");
    CHECK(summary == nlohmann::json::parse(R"([
              {"queue": "mail", "reason": "kind_concurrency_cap", "count": 1},
              {"queue": "reports", "reason": "queue_paused", "count": 1}])"));

    CHECK(fx.jobq({"queue", "resume", "reports"}).out == "queue reports resumed\n");
    CHECK(fx.claim("reports") == std::vector<JobId>{paused});
    CHECK(fx.jobq({"limit", "remove", "kind:email.send"}).out ==
          "removed the limits of kind:email.send\n");
    CHECK(fx.claim("mail") == std::vector<JobId>{capped});

    CHECK(fx.jobq({"limit", "set", "tenant:acme", "--max-queued", "1"}).exit_code == 0);
    fx.enqueue({"email.send", "--tenant", "acme"});
    const ProcessResult refused = fx.jobq({"enqueue", "email.send", "--tenant", "acme"});
    CHECK(refused.exit_code == 3);
    CHECK(refused.err == "jobq: error: tenant acme: quota of 1 queued jobs reached (1 queued)\n");
}

TEST_CASE("the workflow and batch commands work on a PostgreSQL --db") {
    const Schema schema;
    CliFixture fx{schema.url()};
    fx.migrate();

    const auto write = [&](const std::string& name, const nlohmann::json& document) {
        std::ofstream(fx.dir() / name) << document.dump();
    };
    write("w.json", {{"name", "report"},
                     {"jobs",
                      {{{"name", "extract"}, {"kind", "k"}},
                       {{"name", "a"}, {"kind", "k"}, {"deps", {"extract"}}},
                       {{"name", "b"}, {"kind", "k"}, {"deps", {"extract"}}},
                       {{"name", "load"}, {"kind", "k"}, {"deps", {"a", "b"}}}}}});
    const auto added = fx.json({"workflow", "add", "w.json"});
    const std::string id = std::to_string(added.at("id").get<jobq::WorkflowId>());
    CHECK(fx.show(added.at("jobs").at("load").get<JobId>()).at("state") == "pending");
    auto shown = fx.json({"workflow", "show", id});
    CHECK(shown.at("counts") == nlohmann::json{{"available", 1}, {"pending", 3}});
    CHECK(shown.at("jobs")[3].at("deps").size() == 2);
    CHECK(fx.jobq({"workflow", "show", id}).out.find("load     pending    k     a, b\n") !=
          std::string::npos);

    write("more.json", {{"jobs", {{{"name", "notify"}, {"kind", "k"}, {"deps", {"load"}}}}}});
    CHECK(fx.json({"workflow", "append", id, "more.json"}).at("jobs").size() == 1);
    REQUIRE(fx.finish_attempts("default", OutcomeKind::discard).size() == 1);  // extract
    CHECK(fx.json({"workflow", "show", id}).at("state") == "failed");
    CHECK(fx.jobq({"workflow", "retry", id}).out == "workflow " + id + ": 5 jobs will run again\n");
    CHECK(fx.jobq({"workflow", "cancel", id}).out == "workflow " + id + ": cancelled 5 jobs\n");

    write("b.json", {{"name", "exports"},
                     {"jobs", {{{"kind", "k"}, {"queue", "exports"}}}},
                     {"callbacks", {{"all_completed", {{"kind", "report.build"}}}}}});
    const std::string batch =
        std::to_string(fx.json({"batch", "add", "b.json"}).at("id").get<jobq::WorkflowId>());
    REQUIRE(fx.finish_attempts("exports", OutcomeKind::complete).size() == 1);
    const auto callbacks = fx.json({"batch", "show", batch}).at("callbacks");
    REQUIRE(callbacks.size() == 1);
    CHECK(callbacks[0].at("fired_job").is_number());
    CHECK(fx.jobq({"batch", "show", id}).exit_code == 1);

    const auto listed = fx.json({"workflow", "list", "--kind", "workflow"}).at("workflows");
    REQUIRE(listed.size() == 1);
    CHECK(listed[0].at("state") == "cancelled");
    CHECK(fx.json({"workflow", "list", "--state", "cancelled"}).at("workflows").size() == 1);
    CHECK(fx.jobq({"workflow", "show", "999"}).exit_code == 1);

    // Refused input writes nothing on this backend either.
    const std::size_t jobs = fx.count_jobs();
    std::ofstream(fx.dir() / "bad.json") << R"({"name": "w", "jobs": [
        {"name": "a", "kind": "k", "deps": ["b"]}, {"name": "b", "kind": "k", "deps": ["a"]}]})";
    const ProcessResult cycle = fx.jobq({"workflow", "add", "bad.json"});
    CHECK(cycle.exit_code == 2);
    CHECK(cycle.err.find("'a' -> 'b' -> 'a'") != std::string::npos);
    write("bad.json", {{"jobs", {{{"name", "x"}, {"kind", "k"}, {"deps", {"nope"}}}}}});
    CHECK(fx.jobq({"workflow", "append", id, "bad.json"}).exit_code == 2);
    CHECK(fx.count_jobs() == jobs);
}

#ifdef JOBQ_DEMO_WORKER
TEST_CASE("a workflow added with jobq runs in demo_worker on PostgreSQL and collects results") {
    const Schema schema;
    CliFixture fx{schema.url()};
    fx.migrate();
    jobq::test::run_fan_in_workflow(fx);
}
#endif

TEST_CASE("the CLI never prints the password of a PostgreSQL URL") {
    const Schema schema;
    // Put a password into the URL's user information (a trust server ignores it; one that
    // checks it refuses the connection, and that message must not show it either).
    std::string url = schema.url();
    const std::size_t scheme_end = url.find("://");
    REQUIRE(scheme_end != std::string::npos);
    const std::size_t at = url.find_first_of("@/", scheme_end + 3);
    if (at != std::string::npos && url[at] == '@') {
        if (url.substr(scheme_end + 3, at - scheme_end - 3).find(':') != std::string::npos) {
            MESSAGE("JOBQ_TEST_POSTGRES_URL has a password already; nothing to check");
            return;
        }
        url.insert(at, ":hunter2");
    } else {
        MESSAGE("JOBQ_TEST_POSTGRES_URL names no user; nothing to check");
        return;
    }
    CliFixture fx{url};
    for (const auto& args :
         {std::vector<std::string>{"migrate"}, {"--json", "migrate"}, {"list"}, {"stats"}}) {
        const ProcessResult r = fx.jobq(args);
        CAPTURE(r.out);
        CAPTURE(r.err);
        CHECK(r.out.find("hunter2") == std::string::npos);
        CHECK(r.err.find("hunter2") == std::string::npos);
    }
    const ProcessResult migrate = fx.jobq({"migrate"});
    if (migrate.exit_code == 0) CHECK(migrate.out.find(":***@") != std::string::npos);
}

TEST_CASE("an unknown libpq parameter is bad input, reported on one line naming it") {
    const Schema schema;
    CliFixture fx{with_param(schema.url(), "no_such_libpq_option=1")};
    const ProcessResult r = fx.jobq({"list"});
    // Rejected before connecting (PostgresStore checks the connection string), so it is a
    // usage error, not a server failure worth retrying.
    CHECK(r.exit_code == 2);
    CHECK(jobq::test::is_one_line(r.err));
    CHECK(r.err.find("no_such_libpq_option") != std::string::npos);
}

TEST_CASE("an unreachable server is reported on one line") {
    CliFixture fx{"postgresql://127.0.0.1:1/jobs?schema=jobq_cli_unreachable&connect_timeout=2"};
    const ProcessResult r = fx.jobq({"stats"});
    CHECK(r.exit_code == 1);
    CHECK(r.err.starts_with("jobq: error: "));
    CHECK(jobq::test::is_one_line(r.err));
    CHECK(r.out.empty());
}
