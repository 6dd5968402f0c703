// cancel, retry and delete: state changes and the errors of actions that do not apply.

#include <doctest/doctest.h>

#include "cli_fixture.hpp"

using jobq::JobId;
using jobq::test::CliFixture;
using jobq::test::ProcessResult;

TEST_CASE("cancel makes an unfinished job cancelled and prints the new state") {
    CliFixture fx;
    fx.migrate();
    const std::string id = std::to_string(fx.enqueue({"k", "--in", "1h"}));
    const ProcessResult r = fx.jobq({"cancel", id});
    CHECK(r.exit_code == 0);
    CHECK(r.out == "job " + id + ": cancelled\n");
    CHECK(fx.show(std::stoll(id)).at("state") == "cancelled");
}

TEST_CASE("cancelling a job that already finished fails with exit code 1 and says why") {
    CliFixture fx;
    fx.migrate();
    const std::string id = std::to_string(fx.enqueue({"k"}));
    REQUIRE(fx.jobq({"cancel", id}).exit_code == 0);
    const ProcessResult again = fx.jobq({"cancel", id});
    CHECK(again.exit_code == 1);
    CHECK(again.out.empty());
    CHECK(again.err.starts_with("jobq: error: "));
    CHECK(again.err.find("already cancelled") != std::string::npos);
    CHECK(jobq::test::is_one_line(again.err));
}

TEST_CASE("retry makes a finished job available again") {
    CliFixture fx;
    fx.migrate();
    const JobId id = fx.enqueue({"k"});
    REQUIRE(fx.jobq({"cancel", std::to_string(id)}).exit_code == 0);
    const auto job = fx.json({"retry", std::to_string(id)});
    CHECK(job.at("id") == id);
    CHECK(job.at("state") == "available");
    CHECK(fx.jobq({"retry", std::to_string(id)}).out ==
          "job " + std::to_string(id) + ": available\n");
}

TEST_CASE("retry of a running job fails with exit code 1") {
    CliFixture fx;
    fx.migrate();
    const JobId id = fx.enqueue({"k"});
    REQUIRE(fx.claim("default") == std::vector<JobId>{id});
    const ProcessResult r = fx.jobq({"retry", std::to_string(id)});
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("running") != std::string::npos);
}

TEST_CASE("delete removes a job") {
    CliFixture fx;
    fx.migrate();
    const JobId id = fx.enqueue({"k"});
    const ProcessResult r = fx.jobq({"delete", std::to_string(id)});
    CHECK(r.exit_code == 0);
    CHECK(r.out == "job " + std::to_string(id) + ": deleted\n");
    CHECK(fx.count_jobs() == 0);
    CHECK(fx.jobq({"show", std::to_string(id)}).exit_code == 1);
}

TEST_CASE("delete of a running job fails with exit code 1 and keeps it") {
    CliFixture fx;
    fx.migrate();
    const JobId id = fx.enqueue({"k"});
    REQUIRE(fx.claim("default") == std::vector<JobId>{id});
    const ProcessResult r = fx.jobq({"delete", std::to_string(id)});
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("running") != std::string::npos);
    CHECK(fx.count_jobs() == 1);
}

TEST_CASE("actions on a job that does not exist fail with exit code 1") {
    CliFixture fx;
    fx.migrate();
    for (const char* command : {"cancel", "retry", "delete", "show"}) {
        CAPTURE(command);
        const ProcessResult r = fx.jobq({command, "42"});
        CHECK(r.exit_code == 1);
        CHECK(r.out.empty());
        CHECK(r.err == "jobq: error: job 42 does not exist\n");
    }
}
