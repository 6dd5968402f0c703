// dlq, dlq replay and stats. Discarded jobs are made by driving the store as a worker would.

#include <sstream>

#include <doctest/doctest.h>

#include "cli_fixture.hpp"

using jobq::JobId;
using jobq::OutcomeKind;
using jobq::test::CliFixture;
using jobq::test::ProcessResult;

TEST_CASE("dlq lists discarded jobs with their last error") {
    CliFixture fx;
    fx.migrate();
    const JobId discarded = fx.enqueue({"email.send", "--queue", "mail"});
    fx.finish_attempts("mail", OutcomeKind::discard, "mailbox unavailable");
    fx.enqueue({"email.send", "--queue", "mail"});  // still available: not in the dlq

    const ProcessResult r = fx.jobq({"dlq"});
    CHECK(r.exit_code == 0);
    CHECK(r.out.find("LAST ERROR") != std::string::npos);
    CHECK(r.out.find("discard: mailbox unavailable") != std::string::npos);

    const auto page = fx.json({"dlq"});
    REQUIRE(page.at("jobs").size() == 1);
    CHECK(page.at("jobs")[0].at("id") == discarded);
    CHECK(page.at("jobs")[0].at("errors").back().at("message") == "mailbox unavailable");
}

TEST_CASE("dlq filters by queue and kind") {
    CliFixture fx;
    fx.migrate();
    const JobId a = fx.enqueue({"x.kind", "--queue", "qa"});
    const JobId b = fx.enqueue({"y.kind", "--queue", "qb"});
    fx.finish_attempts("qa", OutcomeKind::discard);
    fx.finish_attempts("qb", OutcomeKind::discard);
    CHECK(fx.json({"dlq"}).at("jobs").size() == 2);
    CHECK(fx.json({"dlq", "--queue", "qa"}).at("jobs")[0].at("id") == a);
    CHECK(fx.json({"dlq", "--kind", "y.kind"}).at("jobs")[0].at("id") == b);
    CHECK(fx.json({"dlq", "--kind", "z.kind"}).at("jobs").empty());
    CHECK(fx.jobq({"dlq", "--kind", "z.kind"}).out == "no discarded jobs\n");
}

TEST_CASE("dlq replay ID makes a discarded job available again") {
    CliFixture fx;
    fx.migrate();
    const JobId id = fx.enqueue({"email.send"});
    fx.finish_attempts("default", OutcomeKind::discard);
    const ProcessResult r = fx.jobq({"dlq", "replay", std::to_string(id)});
    CHECK(r.exit_code == 0);
    CHECK(r.out == "replayed job " + std::to_string(id) + ": available\n");
    const auto job = fx.show(id);
    CHECK(job.at("state") == "available");
    CHECK(job.at("errors").size() == 1);  // the history stays
    CHECK(fx.json({"dlq"}).at("jobs").empty());
}

TEST_CASE("dlq replay of a job that is not discarded fails with exit code 1") {
    CliFixture fx;
    fx.migrate();
    const JobId id = fx.enqueue({"email.send"});
    const ProcessResult r = fx.jobq({"dlq", "replay", std::to_string(id)});
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("not in the dead-letter queue") != std::string::npos);
    CHECK(fx.jobq({"dlq", "replay", "999"}).exit_code == 1);
}

TEST_CASE("dlq replay --all replays the discarded jobs the filters match") {
    CliFixture fx;
    fx.migrate();
    fx.enqueue({"x.kind", "--queue", "qa"});
    fx.enqueue({"y.kind", "--queue", "qa"});
    const JobId other = fx.enqueue({"x.kind", "--queue", "qb"});
    fx.finish_attempts("qa", OutcomeKind::discard);
    fx.finish_attempts("qb", OutcomeKind::discard);

    const ProcessResult r = fx.jobq({"dlq", "replay", "--all", "--queue", "qa"});
    CHECK(r.exit_code == 0);
    CHECK(r.out == "replayed 2 jobs\n");
    const auto left = fx.json({"dlq"});
    REQUIRE(left.at("jobs").size() == 1);
    CHECK(left.at("jobs")[0].at("id") == other);

    CHECK(fx.json({"dlq", "replay", "--all"}).at("replayed") == 1);
    CHECK(fx.json({"dlq"}).at("jobs").empty());
}

TEST_CASE("stats counts jobs per queue and state") {
    CliFixture fx;
    fx.migrate();
    fx.enqueue({"k", "--queue", "qa"});
    fx.enqueue({"k", "--queue", "qa"});
    const JobId cancelled = fx.enqueue({"k", "--queue", "qa"});
    REQUIRE(fx.jobq({"cancel", std::to_string(cancelled)}).exit_code == 0);
    fx.enqueue({"k", "--queue", "qb", "--in", "1h"});

    const auto stats = fx.json({"stats"});
    REQUIRE(stats.at("queues").size() == 2);
    nlohmann::json qa, qb;
    for (const auto& q : stats.at("queues")) (q.at("queue") == "qa" ? qa : qb) = q;
    CHECK(qa.at("counts").at("available") == 2);
    CHECK(qa.at("counts").at("cancelled") == 1);
    CHECK(qa.at("counts").at("scheduled") == 0);
    CHECK(qa.at("total") == 3);
    CHECK(qa.at("oldest_runnable_at").is_string());
    CHECK(qa.at("oldest_runnable_age_ms").get<std::int64_t>() >= 0);
    CHECK(qb.at("queue") == "qb");
    CHECK(qb.at("counts").at("scheduled") == 1);
    CHECK(qb.at("counts").at("available") == 0);
    CHECK(qb.at("oldest_runnable_at").is_null());
}

TEST_CASE("stats prints one row per queue") {
    CliFixture fx;
    fx.migrate();
    fx.enqueue({"k", "--queue", "qa"});
    fx.enqueue({"k", "--queue", "qb", "--in", "1h"});
    const ProcessResult r = fx.jobq({"stats"});
    CHECK(r.exit_code == 0);
    std::istringstream lines(r.out);
    std::string header, row;
    std::getline(lines, header);
    CHECK(header.find("QUEUE") == 0);
    CHECK(header.find("AVAILABLE") != std::string::npos);
    CHECK(header.find("OLDEST RUNNABLE") != std::string::npos);
    int rows = 0;
    while (std::getline(lines, row)) ++rows;
    CHECK(rows == 2);
}
