// migrate, enqueue and show through the real binary.

#include <doctest/doctest.h>

#include "cli_fixture.hpp"
#include "jobq/time_format.hpp"

using jobq::test::CliFixture;
using jobq::test::ProcessResult;

TEST_CASE("migrate creates the database and prints the schema version") {
    CliFixture fx;
    const ProcessResult r = fx.jobq({"migrate"});
    INFO("stderr: ", r.err);
    CHECK(r.exit_code == 0);
    CHECK(r.out.find("schema version") != std::string::npos);
    CHECK(std::filesystem::exists(fx.db()));
}

TEST_CASE("migrate is idempotent and reports the version it found") {
    CliFixture fx;
    const auto first = fx.json({"migrate"});
    CHECK(first.at("previous_version") == 0);
    CHECK(first.at("schema_version").get<int>() >= 1);
    const auto second = fx.json({"migrate"});
    CHECK(second.at("previous_version") == first.at("schema_version"));
    CHECK(second.at("schema_version") == first.at("schema_version"));
}

TEST_CASE("enqueue prints the new job's id") {
    CliFixture fx;
    fx.migrate();
    const ProcessResult first = fx.jobq({"enqueue", "email.send"});
    CHECK(first.exit_code == 0);
    CHECK(first.out == "enqueued job 1\n");
    const ProcessResult second = fx.jobq({"enqueue", "email.send"});
    CHECK(second.out == "enqueued job 2\n");
    CHECK(fx.json({"enqueue", "email.send"}).at("id") == 3);
}

TEST_CASE("show --json returns the fields given to enqueue") {
    CliFixture fx;
    fx.migrate();
    const jobq::JobId id =
        fx.enqueue({"email.send", R"({"to": "a@example.com", "n": 3})", "--queue", "mail",
                    "--priority", "4", "--tenant", "acme", "--max-attempts", "8", "--tag",
                    "welcome", "--tag", "signup", "--timeout", "30s"});
    const auto job = fx.show(id);
    CHECK(job.at("id") == id);
    CHECK(job.at("kind") == "email.send");
    CHECK(job.at("queue") == "mail");
    CHECK(job.at("priority") == 4);
    CHECK(job.at("tenant") == "acme");
    CHECK(job.at("payload") == nlohmann::json{{"to", "a@example.com"}, {"n", 3}});
    CHECK(job.at("max_attempts") == 8);
    CHECK(job.at("tags") == nlohmann::json{"welcome", "signup"});
    CHECK(job.at("timeout_ms") == 30000);
    CHECK(job.at("state") == "available");
    CHECK(job.at("attempt") == 0);
}

TEST_CASE("enqueue without a payload stores an empty object in the default queue") {
    CliFixture fx;
    fx.migrate();
    const auto job = fx.show(fx.enqueue({"report.build"}));
    CHECK(job.at("payload") == nlohmann::json::object());
    CHECK(job.at("queue") == "default");
    CHECK(job.at("priority") == 0);
    CHECK(job.at("tenant").is_null());
}

TEST_CASE("enqueue --in schedules the job that long after its creation") {
    CliFixture fx;
    fx.migrate();
    const auto job = fx.show(fx.enqueue({"report.build", "--in", "1h30m"}));
    CHECK(job.at("state") == "scheduled");
    const auto created = jobq::parse_timestamp(job.at("created_at").get<std::string>());
    const auto run_at = jobq::parse_timestamp(job.at("run_at").get<std::string>());
    CHECK(run_at - created == std::chrono::minutes{90});
}

TEST_CASE("enqueue --at runs the job at the given time") {
    CliFixture fx;
    fx.migrate();
    const auto job = fx.show(fx.enqueue({"report.build", "--at", "2099-01-02T04:04:05+01:00"}));
    CHECK(job.at("state") == "scheduled");
    CHECK(job.at("run_at") == "2099-01-02T03:04:05.000000Z");
}

TEST_CASE("a unique key coalesces a second enqueue into the existing job") {
    CliFixture fx;
    fx.migrate();
    const auto first = fx.json({"enqueue", "email.send", "--unique-key", "welcome:42"});
    CHECK(first.at("duplicate") == false);
    const auto second = fx.json({"enqueue", "email.send", "--unique-key", "welcome:42"});
    CHECK(second.at("duplicate") == true);
    CHECK(second.at("id") == first.at("id"));

    const ProcessResult text = fx.jobq({"enqueue", "email.send", "--unique-key", "welcome:42"});
    CHECK(text.exit_code == 0);
    CHECK(text.out.find("already exists") != std::string::npos);
    CHECK(text.out.find(first.at("id").dump()) != std::string::npos);
    CHECK(fx.count_jobs() == 1);

    const auto job = fx.show(first.at("id").get<jobq::JobId>());
    CHECK(job.at("unique_key") == "welcome:42");  // as typed, not the stored "g:welcome:42"
    CHECK(job.at("unique_scope") == "global");
    const ProcessResult shown = fx.jobq({"show", first.at("id").dump()});
    CHECK(shown.out.find("welcome:42 (global)") != std::string::npos);
    CHECK(shown.out.find("g:welcome") == std::string::npos);
}

TEST_CASE("show prints every field, each attempt's error and the result") {
    CliFixture fx;
    fx.migrate();
    const jobq::JobId failed = fx.enqueue({"email.send", R"({"to":"x"})", "--queue", "mail"});
    fx.finish_attempts("mail", jobq::OutcomeKind::discard, "mailbox unavailable");
    const jobq::JobId done = fx.enqueue({"report.build", "--queue", "reports"});
    fx.finish_attempts("reports", jobq::OutcomeKind::complete, "", R"({"rows": 12})");

    const ProcessResult r = fx.jobq({"show", std::to_string(failed)});
    CHECK(r.exit_code == 0);
    for (const char* expected : {"email.send", "mail", "discarded", "1 of 20", "attempt 1",
                                 "[discard]", "mailbox unavailable", "\"to\": \"x\"", "created at",
                                 "run at", "finished at", "worker"}) {
        CHECK_MESSAGE(r.out.find(expected) != std::string::npos, expected, " in:\n", r.out);
    }

    const auto failed_json = fx.show(failed);
    REQUIRE(failed_json.at("errors").size() == 1);
    CHECK(failed_json.at("errors")[0].at("attempt") == 1);
    CHECK(failed_json.at("errors")[0].at("kind") == "discard");
    CHECK(failed_json.at("errors")[0].at("message") == "mailbox unavailable");

    const auto done_json = fx.show(done);
    CHECK(done_json.at("state") == "completed");
    CHECK(done_json.at("result") == nlohmann::json{{"rows", 12}});
    const ProcessResult done_text = fx.jobq({"show", std::to_string(done)});
    CHECK(done_text.out.find("\"rows\": 12") != std::string::npos);
}

TEST_CASE("show of a job that does not exist fails with exit code 1") {
    CliFixture fx;
    fx.migrate();
    const ProcessResult r = fx.jobq({"show", "999"});
    CHECK(r.exit_code == 1);
    CHECK(r.out.empty());
    CHECK(r.err == "jobq: error: job 999 does not exist\n");
}
