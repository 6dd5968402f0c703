// list: filters, order, paging and the table.

#include <sstream>

#include <doctest/doctest.h>

#include "cli_fixture.hpp"

using jobq::JobId;
using jobq::test::CliFixture;
using jobq::test::ProcessResult;

namespace {

std::vector<JobId> ids_of(const nlohmann::json& page) {
    std::vector<JobId> ids;
    for (const auto& job : page.at("jobs")) ids.push_back(job.at("id").get<JobId>());
    return ids;
}

}  // namespace

TEST_CASE("list shows jobs newest first in a table") {
    CliFixture fx;
    fx.migrate();
    fx.enqueue({"a.kind", "--queue", "qa"});
    fx.enqueue({"b.kind", "--queue", "qb", "--priority", "3", "--max-attempts", "5"});
    const ProcessResult r = fx.jobq({"list"});
    CHECK(r.exit_code == 0);
    std::istringstream lines(r.out);
    std::string header, first, second, rest;
    std::getline(lines, header);
    std::getline(lines, first);
    std::getline(lines, second);
    CHECK_FALSE(std::getline(lines, rest));
    for (const char* column :
         {"ID", "STATE", "QUEUE", "KIND", "ATTEMPT/MAX", "PRIORITY", "RUN AT"}) {
        CHECK_MESSAGE(header.find(column) != std::string::npos, column);
    }
    CHECK(first.find("b.kind") != std::string::npos);
    CHECK(first.find("0/5") != std::string::npos);
    CHECK(second.find("a.kind") != std::string::npos);
    // Aligned columns: every row starts its QUEUE cell where the header's does.
    CHECK(first.find("qb") == header.find("QUEUE"));
    CHECK(second.find("qa") == header.find("QUEUE"));
}

TEST_CASE("list says so when no job matches") {
    CliFixture fx;
    fx.migrate();
    const ProcessResult r = fx.jobq({"list"});
    CHECK(r.exit_code == 0);
    CHECK(r.out == "no jobs\n");
    CHECK(fx.json({"list"}).at("jobs").empty());
}

TEST_CASE("list filters by state, queue, kind and tenant") {
    CliFixture fx;
    fx.migrate();
    const JobId mail = fx.enqueue({"email.send", "--queue", "mail", "--tenant", "acme"});
    const JobId later = fx.enqueue({"email.send", "--queue", "mail", "--in", "1h"});
    const JobId report = fx.enqueue({"report.build", "--tenant", "acme"});
    const JobId cancelled = fx.enqueue({"report.build"});
    REQUIRE(fx.jobq({"cancel", std::to_string(cancelled)}).exit_code == 0);

    CHECK(ids_of(fx.json({"list", "--queue", "mail"})) == std::vector<JobId>{later, mail});
    CHECK(ids_of(fx.json({"list", "--kind", "report.build"})) ==
          std::vector<JobId>{cancelled, report});
    CHECK(ids_of(fx.json({"list", "--tenant", "acme"})) == std::vector<JobId>{report, mail});
    CHECK(ids_of(fx.json({"list", "--state", "scheduled"})) == std::vector<JobId>{later});
    CHECK(ids_of(fx.json({"list", "--state", "scheduled", "--state", "cancelled"})) ==
          std::vector<JobId>{cancelled, later});
    CHECK(ids_of(fx.json({"list", "--state", "available,cancelled"})) ==
          std::vector<JobId>{cancelled, report, mail});
    CHECK(ids_of(fx.json({"list", "--state", "available", "--kind", "report.build"})) ==
          std::vector<JobId>{report});
}

TEST_CASE("list and dlq filter by tag; dlq replay refuses --tag instead of ignoring it") {
    CliFixture fx;
    fx.migrate();
    const JobId vip = fx.enqueue({"email.send", "--tag", "vip", "--tag", "mail"});
    fx.enqueue({"email.send", "--tag", "mail"});
    CHECK(ids_of(fx.json({"list", "--tag", "vip"})) == std::vector<JobId>{vip});
    CHECK(ids_of(fx.json({"list", "--tag", "nobody"})).empty());
    CHECK(fx.jobq({"dlq", "--tag", "vip"}).exit_code == 0);
    const jobq::test::ProcessResult replay = fx.jobq({"dlq", "replay", "--all", "--tag", "vip"});
    CHECK(replay.exit_code == 2);
}

TEST_CASE("list pages with --limit and --before") {
    CliFixture fx;
    fx.migrate();
    for (int i = 0; i < 5; ++i) fx.enqueue({"k"});

    const auto page1 = fx.json({"list", "--limit", "2"});
    CHECK(ids_of(page1) == std::vector<JobId>{5, 4});
    REQUIRE(page1.at("next_before_id").is_number());
    const std::string cursor1 = page1.at("next_before_id").dump();

    const auto page2 = fx.json({"list", "--limit", "2", "--before", cursor1});
    CHECK(ids_of(page2) == std::vector<JobId>{3, 2});
    REQUIRE(page2.at("next_before_id").is_number());

    const auto page3 =
        fx.json({"list", "--limit", "2", "--before", page2.at("next_before_id").dump()});
    CHECK(ids_of(page3) == std::vector<JobId>{1});
    CHECK(page3.at("next_before_id").is_null());

    const ProcessResult text = fx.jobq({"list", "--limit", "2"});
    CHECK(text.out.find("--before " + cursor1) != std::string::npos);
    const ProcessResult last = fx.jobq({"list", "--limit", "2", "--before", "2"});
    CHECK(last.out.find("--before") == std::string::npos);
}

TEST_CASE("global options are accepted after the command too") {
    CliFixture fx;
    fx.migrate();
    fx.enqueue({"k"});
    const ProcessResult r = fx.jobq_raw({"list", "--json", "--db", fx.db().string()});
    CHECK(r.exit_code == 0);
    CHECK(nlohmann::json::parse(r.out).at("jobs").size() == 1);
}

TEST_CASE("every list command prints one shape: an object with its items under a plural key") {
    CliFixture fx;
    fx.migrate();
    fx.enqueue({"email.send"});
    REQUIRE(fx.jobq({"limit", "set", "queue:default", "--max-running", "2"}).exit_code == 0);
    REQUIRE(fx.jobq({"cron", "add", "nightly", "0 3 * * *", "report.build"}).exit_code == 0);
    struct Shape {
        std::vector<std::string> args;
        std::string items;
        std::vector<std::string> keys;  // every key of the object, sorted
    };
    const std::vector<Shape> shapes{
        {{"list"}, "jobs", {"jobs", "next_before_id"}},
        {{"dlq"}, "jobs", {"jobs", "next_before_id"}},
        {{"stats"}, "queues", {"queues"}},
        {{"queue", "list"}, "queues", {"queues"}},
        {{"limit", "list"}, "limits", {"limits"}},
        {{"cron", "list"}, "schedules", {"schedules"}},
        {{"cron", "history", "nightly"}, "runs", {"runs"}},
        {{"explain", "--summary"}, "waiting", {"waiting"}},
    };
    for (const Shape& shape : shapes) {
        const nlohmann::json j = fx.json(shape.args);
        INFO(shape.args.front(), " ", shape.args.size() > 1 ? shape.args[1] : "", ": ", j.dump());
        REQUIRE(j.is_object());
        std::vector<std::string> keys;
        for (const auto& [key, value] : j.items()) keys.push_back(key);
        CHECK(keys == shape.keys);
        CHECK(j.at(shape.items).is_array());
    }
}
