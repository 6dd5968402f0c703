// Flow control from the shell: queues with their limits, pause and workers (queue list, pause,
// resume), the limits of queues, kinds and tenants (limit list, set, remove), why a job waits
// (explain, explain --summary), and an enqueue refused by a tenant's quota.

#include <chrono>
#include <memory>

#include <doctest/doctest.h>

#include "cli_fixture.hpp"
#include "common/open_store.hpp"
#include "jobq/time_format.hpp"

using jobq::JobId;
using jobq::test::CliFixture;
using jobq::test::ProcessResult;

namespace {

using Args = std::vector<std::string>;

void check_ok(const ProcessResult& r, const std::string& out) {
    INFO("stderr: ", r.err);
    CHECK(r.exit_code == 0);
    CHECK(r.err.empty());
    CHECK(r.out == out);
}

void check_usage_error(const ProcessResult& r, const std::string& names) {
    CHECK(r.exit_code == 2);
    CHECK(r.out.empty());
    CHECK(r.err.starts_with("jobq: error: "));
    CHECK(jobq::test::is_one_line(r.err));
    CHECK_MESSAGE(r.err.find(names) != std::string::npos, "expected '", names, "' in: ", r.err);
}

// A worker process as the store knows it, alive for the next hour: what a running Worker
// records, without running one.
void record_worker(const CliFixture& fx, const std::string& id, std::vector<std::string> queues) {
    const std::unique_ptr<jobq::Store> store = jobq::tools::open_store(fx.database());
    const jobq::Timestamp now = jobq::system_clock().now();
    store->record_worker({id, std::move(queues), now, now, now + std::chrono::hours{1}});
}

nlohmann::json explain(CliFixture& fx, JobId id) {
    return fx.json({"explain", std::to_string(id)});
}

}  // namespace

// ---- queue list -----------------------------------------------------------------------------

TEST_CASE("queue list shows every queue with its state, limits, job counts and live workers") {
    CliFixture fx;
    fx.migrate();
    fx.enqueue({"email.send", "--queue", "mail"});
    fx.enqueue({"email.send", "--queue", "mail"});
    fx.enqueue({"email.send", "--queue", "mail", "--in", "1h"});
    fx.enqueue({"report.build"});
    REQUIRE(
        fx.jobq({"limit", "set", "queue:mail", "--max-running", "3", "--rate", "50/s"}).exit_code ==
        0);
    REQUIRE(fx.jobq({"queue", "pause", "bulk"}).exit_code == 0);
    record_worker(fx, "w-1", {"mail", "reports"});
    REQUIRE(fx.claim("default").size() == 1);

    check_ok(fx.jobq({"queue", "list"}),
             "QUEUE    STATE   MAX RUNNING  RATE  RUNNING  AVAILABLE  SCHEDULED  RETRYABLE  "
             "WORKERS\n"
             "bulk     paused            -  -           0          0          0          0        "
             "0\n"
             "default  active            -  -           1          0          0          0        "
             "0\n"
             "mail     active            3  50/s        0          2          1          0        "
             "1\n"
             "reports  active            -  -           0          0          0          0        "
             "1\n");
}

TEST_CASE("queue list --json gives each queue's limits, counts of every state and workers") {
    CliFixture fx;
    fx.migrate();
    fx.enqueue({"email.send", "--queue", "mail"});
    fx.enqueue({"email.send", "--queue", "mail", "--in", "1h"});
    REQUIRE(fx.jobq({"limit", "set", "queue:mail", "--max-running", "3", "--rate", "50/s",
                     "--burst", "100"})
                .exit_code == 0);
    record_worker(fx, "w-1", {"mail"});
    REQUIRE(fx.claim("mail").size() == 1);

    const auto queues = fx.json({"queue", "list"}).at("queues");
    REQUIRE(queues.is_array());
    REQUIRE(queues.size() == 1);
    const auto& mail = queues[0];
    CHECK(mail.at("queue") == "mail");
    CHECK(mail.at("paused") == false);
    CHECK(mail.at("counts").at("running") == 1);
    CHECK(mail.at("counts").at("available") == 0);
    CHECK(mail.at("counts").at("scheduled") == 1);
    CHECK(mail.at("counts").at("retryable") == 0);
    CHECK(mail.at("counts").at("completed") == 0);
    CHECK(mail.at("workers") == 1);
    CHECK(mail.at("worker_ids") == nlohmann::json::array({"w-1"}));
    const auto& limits = mail.at("limits");
    CHECK(limits.at("scope") == "queue:mail");
    CHECK(limits.at("max_running") == 3);
    CHECK(limits.at("rate") == "50/s");
    CHECK(limits.at("burst") == 100);
    CHECK(limits.at("running") == 1);
    CHECK(limits.at("tokens").is_number());
}

TEST_CASE("queue list of a store without queues says so") {
    CliFixture fx;
    fx.migrate();
    check_ok(fx.jobq({"queue", "list"}), "no queues\n");
    CHECK(fx.json({"queue", "list"}).at("queues") == nlohmann::json::array());
}

// ---- queue pause / resume -------------------------------------------------------------------

TEST_CASE("queue pause stops claims from the queue and queue resume lets them start again") {
    CliFixture fx;
    fx.migrate();
    const JobId id = fx.enqueue({"email.send", "--queue", "mail"});

    check_ok(fx.jobq({"queue", "pause", "mail"}), "queue mail paused\n");
    check_ok(fx.jobq({"queue", "pause", "mail"}), "queue mail was already paused\n");
    CHECK(fx.json({"queue", "list"}).at("queues")[0].at("paused") == true);
    CHECK(fx.jobq({"queue", "list"}).out.find("mail   paused") != std::string::npos);
    CHECK(fx.claim("mail").empty());
    CHECK(fx.show(id).at("state") == "available");

    check_ok(fx.jobq({"queue", "resume", "mail"}), "queue mail resumed\n");
    check_ok(fx.jobq({"queue", "resume", "mail"}), "queue mail was not paused\n");
    CHECK(fx.json({"queue", "list"}).at("queues")[0].at("paused") == false);
    CHECK(fx.claim("mail") == std::vector<JobId>{id});
}

TEST_CASE("queue pause and resume --json say whether anything changed") {
    CliFixture fx;
    fx.migrate();
    CHECK(fx.json({"queue", "pause", "mail"}) ==
          nlohmann::json{{"queue", "mail"}, {"paused", true}, {"changed", true}});
    CHECK(fx.json({"queue", "pause", "mail"}) ==
          nlohmann::json{{"queue", "mail"}, {"paused", true}, {"changed", false}});
    CHECK(fx.json({"queue", "resume", "mail"}) ==
          nlohmann::json{{"queue", "mail"}, {"paused", false}, {"changed", true}});
    CHECK(fx.json({"queue", "resume", "mail"}) ==
          nlohmann::json{{"queue", "mail"}, {"paused", false}, {"changed", false}});
}

// ---- limit list / set / remove --------------------------------------------------------------

TEST_CASE("limit set stores a scope's limits and limit list shows them with running counts") {
    CliFixture fx;
    fx.migrate();
    check_ok(fx.jobq({"limit", "set", "queue:mail", "--max-running", "3", "--rate", "50/s",
                      "--burst", "100"}),
             "set limits of queue:mail: max running 3, rate 50/s burst 100\n");
    check_ok(fx.jobq({"limit", "set", "kind:email.send", "--rate", "100/10s"}),
             "set limits of kind:email.send: rate 100/10s\n");
    check_ok(fx.jobq({"limit", "set", "tenant:acme", "--max-running", "2", "--max-queued", "1000",
                      "--weight", "3"}),
             "set limits of tenant:acme: max running 2, max queued 1000, weight 3\n");
    fx.enqueue({"email.send", "--queue", "mail", "--tenant", "acme"});
    REQUIRE(fx.claim("mail").size() == 1);

    check_ok(fx.jobq({"limit", "list"}),
             "SCOPE            PAUSED  MAX RUNNING  RUNNING  RATE            MAX QUEUED  WEIGHT\n"
             "queue:mail       no                3        1  50/s burst 100           -       -\n"
             "kind:email.send  -                 -        1  100/10s                  -       -\n"
             "tenant:acme      -                 2        1  -                     1000       3\n");
}

TEST_CASE("limit list --json gives every field of every row") {
    CliFixture fx;
    fx.migrate();
    REQUIRE(fx.jobq({"limit", "set", "queue:mail", "--max-running", "3"}).exit_code == 0);
    REQUIRE(
        fx.jobq({"limit", "set", "tenant:acme", "--rate", "5/m", "--max-queued", "10"}).exit_code ==
        0);
    const auto rows = fx.json({"limit", "list"}).at("limits");
    REQUIRE(rows.size() == 2);
    const auto& mail = rows[0];
    CHECK(mail.at("scope") == "queue:mail");
    CHECK(mail.at("type") == "queue");
    CHECK(mail.at("name") == "mail");
    CHECK(mail.at("paused") == false);
    CHECK(mail.at("max_running") == 3);
    CHECK(mail.at("rate").is_null());
    CHECK(mail.at("burst").is_null());
    CHECK(mail.at("max_queued").is_null());
    CHECK(mail.at("weight").is_null());
    CHECK(mail.at("running") == 0);
    CHECK(mail.at("tokens").is_null());
    CHECK_NOTHROW(jobq::parse_timestamp(mail.at("updated_at").get<std::string>()));
    const auto& acme = rows[1];
    CHECK(acme.at("scope") == "tenant:acme");
    CHECK(acme.at("max_running").is_null());
    CHECK(acme.at("rate") == "5/m");
    CHECK(acme.at("max_queued") == 10);
    CHECK(acme.at("weight") == 1);
    CHECK(acme.at("tokens").get<double>() == doctest::Approx(5.0));
}

TEST_CASE("limit set replaces every limit of the scope and says what was there") {
    CliFixture fx;
    fx.migrate();
    REQUIRE(
        fx.jobq({"limit", "set", "queue:mail", "--max-running", "3", "--rate", "50/s"}).exit_code ==
        0);
    check_ok(fx.jobq({"limit", "set", "queue:mail", "--max-running", "5"}),
             "set limits of queue:mail: max running 5 (was: max running 3, rate 50/s)\n");
    const auto row = fx.json({"limit", "list"}).at("limits")[0];
    CHECK(row.at("max_running") == 5);
    CHECK(row.at("rate").is_null());
    const auto set = fx.json({"limit", "set", "queue:mail", "--rate", "20/500ms"});
    CHECK(set.at("scope") == "queue:mail");
    CHECK(set.at("max_running").is_null());
    CHECK(set.at("rate") == "20/500ms");
}

TEST_CASE("limit remove deletes a scope's limits; a paused queue stays paused") {
    CliFixture fx;
    fx.migrate();
    REQUIRE(fx.jobq({"limit", "set", "kind:email.send", "--max-running", "1"}).exit_code == 0);
    REQUIRE(fx.jobq({"limit", "set", "queue:mail", "--max-running", "2"}).exit_code == 0);
    REQUIRE(fx.jobq({"queue", "pause", "mail"}).exit_code == 0);

    check_ok(fx.jobq({"limit", "remove", "kind:email.send"}),
             "removed the limits of kind:email.send\n");
    check_ok(fx.jobq({"limit", "remove", "kind:email.send"}),
             "kind:email.send has no limits; nothing to remove\n");
    check_ok(fx.jobq({"limit", "remove", "queue:mail"}),
             "removed the limits of queue:mail; queue mail stays paused\n");
    CHECK(fx.json({"queue", "list"}).at("queues")[0].at("paused") == true);
    const auto rows = fx.json({"limit", "list"}).at("limits");
    REQUIRE(rows.size() == 1);
    CHECK(rows[0].at("scope") == "queue:mail");
    CHECK(rows[0].at("max_running").is_null());
    CHECK(fx.json({"limit", "remove", "tenant:acme"}) ==
          nlohmann::json{{"scope", "tenant:acme"}, {"removed", false}});
}

TEST_CASE("limit list of a store without limits says so") {
    CliFixture fx;
    fx.migrate();
    check_ok(fx.jobq({"limit", "list"}), "no limits\n");
    CHECK(fx.json({"limit", "list"}).at("limits") == nlohmann::json::array());
}

// ---- bad input ------------------------------------------------------------------------------

TEST_CASE("bad flow-control input exits 2 naming the field and writes nothing") {
    struct BadInput {
        Args args;
        std::string names;
    };
    const std::vector<BadInput> cases{
        {{"limit", "set", "queue:mail"}, "give at least one limit"},
        {{"limit", "set", "queue:mail", "--burst", "5"}, "--burst"},
        {{"limit", "set", "mail", "--max-running", "3"}, "scope: expected queue:NAME"},
        {{"limit", "set", "bucket:mail", "--max-running", "3"}, "scope: unknown scope type"},
        {{"limit", "set", "queue:", "--max-running", "3"}, "scope: queue name must not be empty"},
        {{"limit", "set", "queue:my queue", "--max-running", "3"}, "scope: queue name"},
        {{"limit", "set", "tenant:a:b", "--max-running", "3"}, "scope: tenant name"},
        {{"limit", "set", "queue:mail", "--rate", "5/x"}, "--rate: unknown unit 'x' in \"5/x\""},
        {{"limit", "set", "queue:mail", "--rate", "0/s"}, "--rate: count must be at least 1"},
        {{"limit", "set", "queue:mail", "--rate", "-5/s"}, "--rate"},
        {{"limit", "set", "queue:mail", "--rate", "5/0s"}, "--rate: period must be positive"},
        {{"limit", "set", "queue:mail", "--rate", "5"}, "--rate"},
        {{"limit", "set", "queue:mail", "--rate", "5/s", "--burst", "-1"},
         "--burst: must be at least 1 (got -1)"},
        {{"limit", "set", "queue:mail", "--rate", "5/s", "--burst", "many"}, "--burst"},
        {{"limit", "set", "queue:mail", "--max-running", "0"}, "--max-running: must be at least 1"},
        {{"limit", "set", "queue:mail", "--max-running", "-3"}, "--max-running"},
        {{"limit", "set", "queue:mail", "--max-running", "ten"}, "--max-running"},
        {{"limit", "set", "kind:email.send", "--max-queued", "10"},
         "--max-queued: applies to a tenant only"},
        {{"limit", "set", "queue:mail", "--max-queued", "10"}, "--max-queued"},
        {{"limit", "set", "tenant:acme", "--max-queued", "-1"},
         "--max-queued: must not be negative"},
        {{"limit", "set", "tenant:acme", "--weight", "0"}, "--weight"},
        {{"limit", "set", "tenant:acme", "--weight", "101"}, "--weight"},
        {{"limit", "set", "tenant:acme", "--weight", "-2"}, "--weight"},
        {{"limit", "set", "kind:email.send", "--weight", "2"}, "--weight: applies to a tenant"},
        {{"limit", "set", "queue:mail", "--weight", "1"}, "--weight: applies to a tenant"},
        {{"limit", "set", "queue:mail", "--max-running", "3", "--frob"}, "'--frob'"},
        {{"limit", "set"}, "SCOPE"},
        {{"limit", "remove"}, "SCOPE"},
        {{"limit", "remove", "queue"}, "scope"},
        {{"limit", "remove", "queue:mail", "kind:x"}, "'kind:x'"},
        {{"limit", "frob"}, "unknown limit command 'frob'"},
        {{"limit"}, "missing limit command"},
        {{"queue", "pause"}, "QUEUE"},
        {{"queue", "pause", "my queue"}, "QUEUE: must not contain spaces"},
        {{"queue", "resume", ""}, "QUEUE: must not be empty"},
        {{"queue", "resume", "a", "b"}, "'b'"},
        {{"queue", "list", "mail"}, "'mail'"},
        {{"queue", "frob"}, "unknown queue command 'frob'"},
        {{"queue"}, "missing queue command"},
        {{"explain"}, "ID"},
        {{"explain", "abc"}, "ID"},
        {{"explain", "0"}, "ID"},
        {{"explain", "1", "--summary"}, "--summary"},
        {{"explain", "1", "2"}, "'2'"},
    };
    CliFixture fx;
    fx.migrate();
    // A row already there must come out of every refused command as it went in.
    REQUIRE(fx.jobq({"limit", "set", "queue:mail", "--max-running", "3"}).exit_code == 0);
    const auto limits_before = fx.json({"limit", "list"}).at("limits");
    const auto queues_before = fx.json({"queue", "list"}).at("queues");
    for (const BadInput& c : cases) {
        std::string command_line;
        for (const auto& a : c.args) command_line += a + " ";
        CAPTURE(command_line);
        check_usage_error(fx.jobq(c.args), c.names);
    }
    CHECK(fx.json({"limit", "list"}).at("limits") == limits_before);
    CHECK(fx.json({"queue", "list"}).at("queues") == queues_before);
    CHECK(fx.count_jobs() == 0);
}

TEST_CASE("bad flow-control input is refused before the database is opened") {
    CliFixture fx;
    for (const Args& args : std::vector<Args>{{"limit", "set", "queue:mail", "--rate", "5/x"},
                                              {"limit", "set", "kind:k", "--max-queued", "1"},
                                              {"limit", "remove", "nope"},
                                              {"queue", "pause", "my queue"},
                                              {"explain", "abc"}}) {
        CAPTURE(args.front());
        const ProcessResult r = fx.jobq(args);
        CHECK(r.exit_code == 2);
        CHECK(r.err.find("migrate") == std::string::npos);
    }
    CHECK_FALSE(std::filesystem::exists(fx.db()));
}

// ---- explain --------------------------------------------------------------------------------

TEST_CASE("explain of a scheduled job gives its run time as until") {
    CliFixture fx;
    fx.migrate();
    const JobId id = fx.enqueue({"report.build", "--in", "1h"});
    const auto w = explain(fx, id);
    CHECK(w.at("id") == id);
    CHECK(w.at("reason") == "scheduled");
    CHECK_FALSE(w.at("text").get<std::string>().empty());
    CHECK(w.at("until") == fx.show(id).at("run_at"));
    CHECK(w.at("scope").is_null());
    CHECK(w.at("ahead") == 0);

    const ProcessResult r = fx.jobq({"explain", std::to_string(id)});
    CHECK(r.exit_code == 0);
    CHECK(r.out.starts_with("job            " + std::to_string(id) +
                            "\nreason         scheduled\nwhy            "));
    CHECK(r.out.find("\nuntil          " + fx.show(id).at("run_at").get<std::string>() + " (in ") !=
          std::string::npos);
    CHECK(r.out.find("\nscope") == std::string::npos);
    CHECK(r.out.find("\nahead") == std::string::npos);
}

TEST_CASE("explain of a job in a paused queue names the queue's pause") {
    CliFixture fx;
    fx.migrate();
    REQUIRE(fx.jobq({"queue", "pause", "mail"}).exit_code == 0);
    const JobId id = fx.enqueue({"email.send", "--queue", "mail"});
    const auto w = explain(fx, id);
    CHECK(w.at("reason") == "queue_paused");
    CHECK(w.at("scope") == "queue:mail");
    CHECK(w.at("until").is_null());

    const ProcessResult r = fx.jobq({"explain", std::to_string(id)});
    CHECK(r.exit_code == 0);
    CHECK(r.out.find("\nreason         queue_paused\n") != std::string::npos);
    CHECK(r.out.find("\nscope          queue:mail\n") != std::string::npos);
}

TEST_CASE("explain of a job held back by its kind's cap names the kind") {
    CliFixture fx;
    fx.migrate();
    REQUIRE(fx.jobq({"limit", "set", "kind:email.send", "--max-running", "1"}).exit_code == 0);
    fx.enqueue({"email.send", "--queue", "mail"});
    const JobId waiting = fx.enqueue({"email.send", "--queue", "mail"});
    REQUIRE(fx.claim("mail").size() == 1);
    CHECK(fx.json({"limit", "list"}).at("limits")[0].at("running") == 1);
    const auto w = explain(fx, waiting);
    CHECK(w.at("reason") == "kind_concurrency_cap");
    CHECK(w.at("scope") == "kind:email.send");
}

TEST_CASE("explain of a job held back by a rate limit says when a token comes") {
    CliFixture fx;
    fx.migrate();
    REQUIRE(fx.jobq({"limit", "set", "queue:mail", "--rate", "1/h"}).exit_code == 0);
    fx.enqueue({"email.send", "--queue", "mail"});
    const JobId waiting = fx.enqueue({"email.send", "--queue", "mail"});
    REQUIRE(fx.claim("mail").size() == 1);
    const auto w = explain(fx, waiting);
    CHECK(w.at("reason") == "rate_limited");
    CHECK(w.at("scope") == "queue:mail");
    const jobq::Timestamp until = jobq::parse_timestamp(w.at("until").get<std::string>());
    CHECK(until > jobq::system_clock().now() + std::chrono::minutes{30});
}

TEST_CASE("explain tells a job without a worker from one that waits its turn") {
    CliFixture fx;
    fx.migrate();
    const JobId first = fx.enqueue({"email.send", "--queue", "mail"});
    const JobId second = fx.enqueue({"email.send", "--queue", "mail"});
    CHECK(explain(fx, first).at("reason") == "no_worker");

    record_worker(fx, "w-1", {"mail"});
    CHECK(explain(fx, first).at("reason") == "ready");
    const auto behind = explain(fx, second);
    CHECK(behind.at("reason") == "queued_behind");
    CHECK(behind.at("ahead") == 1);
    CHECK(fx.jobq({"explain", std::to_string(second)}).out.find("\nahead          1\n") !=
          std::string::npos);

    REQUIRE(fx.claim("mail").size() == 2);
    CHECK(explain(fx, first).at("reason") == "running");
}

TEST_CASE("explain of a job that does not exist fails with exit code 1, as show does") {
    CliFixture fx;
    fx.migrate();
    const ProcessResult show = fx.jobq({"show", "42"});
    const ProcessResult r = fx.jobq({"explain", "42"});
    CHECK(r.exit_code == 1);
    CHECK(r.exit_code == show.exit_code);
    CHECK(r.out.empty());
    CHECK(r.err == "jobq: error: job 42 does not exist\n");
    CHECK(r.err == show.err);
}

TEST_CASE("explain --summary counts the waiting jobs per queue and reason") {
    CliFixture fx;
    fx.migrate();
    check_ok(fx.jobq({"explain", "--summary"}), "no waiting jobs\n");
    CHECK(fx.json({"explain", "--summary"}).at("waiting") == nlohmann::json::array());

    REQUIRE(fx.jobq({"queue", "pause", "mail"}).exit_code == 0);
    fx.enqueue({"email.send", "--queue", "mail"});
    fx.enqueue({"email.send", "--queue", "mail"});
    fx.enqueue({"report.build", "--in", "1h"});
    fx.enqueue({"report.build"});

    check_ok(fx.jobq({"explain", "--summary"}),
             "QUEUE    REASON        JOBS\n"
             "default  scheduled        1\n"
             "default  no_worker        1\n"
             "mail     queue_paused     2\n");
    CHECK(fx.json({"explain", "--summary"}).at("waiting") == nlohmann::json::parse(R"([
              {"queue": "default", "reason": "scheduled", "count": 1},
              {"queue": "default", "reason": "no_worker", "count": 1},
              {"queue": "mail", "reason": "queue_paused", "count": 2}])"));
}

// ---- quota ----------------------------------------------------------------------------------

TEST_CASE(
    "an enqueue over its tenant's quota exits 3 with the library's message, writing nothing") {
    CliFixture fx;
    fx.migrate();
    REQUIRE(fx.jobq({"limit", "set", "tenant:acme", "--max-queued", "1"}).exit_code == 0);
    fx.enqueue({"email.send", "--tenant", "acme"});
    const ProcessResult r = fx.jobq({"enqueue", "email.send", "--tenant", "acme"});
    CHECK(r.exit_code == 3);
    CHECK(r.out.empty());
    CHECK(r.err == "jobq: error: tenant acme: quota of 1 queued jobs reached (1 queued)\n");
    CHECK(fx.count_jobs() == 1);
    // Other tenants, and jobs without one, are not held by it.
    fx.enqueue({"email.send", "--tenant", "globex"});
    fx.enqueue({"email.send"});
    CHECK(fx.count_jobs() == 3);
}

// ---- help -----------------------------------------------------------------------------------

TEST_CASE("--help lists the flow-control commands and the quota exit code") {
    CliFixture fx;
    const ProcessResult usage = fx.jobq_raw({"--help"});
    CHECK(usage.exit_code == 0);
    for (const char* command : {"explain", "queue list", "queue pause", "queue resume",
                                "limit list", "limit set", "limit remove"}) {
        CHECK_MESSAGE(usage.out.find(std::string("\n  ") + command + " ") != std::string::npos,
                      command);
    }
    CHECK(usage.out.find("3 enqueue refused") != std::string::npos);
    const ProcessResult set = fx.jobq_raw({"limit", "set", "--help"});
    CHECK(set.exit_code == 0);
    for (const char* option :
         {"SCOPE", "--max-running", "--rate", "--burst", "--max-queued", "--weight"}) {
        CHECK_MESSAGE(set.out.find(option) != std::string::npos, option);
    }
    CHECK(fx.jobq_raw({"help", "explain"}).out.find("--summary") != std::string::npos);
    CHECK(fx.jobq_raw({"help", "queue", "pause"}).out.find("QUEUE") != std::string::npos);
    CHECK(fx.jobq_raw({"enqueue", "--help"}).out.find("exit code 3") != std::string::npos);
    CHECK_FALSE(std::filesystem::exists(fx.dir() / "jobq.db"));
}
