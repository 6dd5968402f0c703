// cron: fire times of an expression without a database, the schedules of a store (add, list,
// update, pause, resume, remove) and their history, including the windows that were skipped.

#include <chrono>
#include <span>
#include <sstream>

#include <doctest/doctest.h>
#include <boost/asio/io_context.hpp>

#include "cli_fixture.hpp"
#include "jobq/cron_expression.hpp"
#include "jobq/crontab.hpp"
#include "jobq/scheduler.hpp"
#include "jobq/sqlite/sqlite_store.hpp"
#include "jobq/time_format.hpp"
#include "jobq/time_zone.hpp"

using jobq::test::CliFixture;
using jobq::test::ProcessResult;

namespace {

using Args = std::vector<std::string>;

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
}

void check_usage_error(const ProcessResult& r, const std::string& names) {
    CHECK(r.exit_code == 2);
    CHECK(r.out.empty());
    CHECK(r.err.starts_with("jobq: error: "));
    CHECK(jobq::test::is_one_line(r.err));
    CHECK_MESSAGE(r.err.find(names) != std::string::npos, "expected '", names, "' in: ", r.err);
}

void check_no_schedule(const ProcessResult& r, const std::string& name) {
    CHECK(r.exit_code == 1);
    CHECK(r.out.empty());
    CHECK(r.err == "jobq: error: no schedule named '" + name + "'\n");
}

// Nov 23 2026, 10:00 UTC: a Monday, with Berlin on +01:00.
const jobq::Timestamp monday = jobq::parse_timestamp("2026-11-23T10:00:00Z");

jobq::CronSchedule nightly_report(jobq::MisfireMode mode = jobq::MisfireMode::catch_up) {
    jobq::MisfirePolicy misfire;
    misfire.mode = mode;
    return {"nightly", "0 3 * * *", jobq::JobSpec{"report.build"}, "Europe/Berlin", misfire};
}

// What only time passing and a running scheduler produce, done directly on the case's SQLite
// file with a clock the test moves.
struct Library {
    explicit Library(const CliFixture& fx) : store(fx.db().string()), clock(monday) {}

    /// Runs the cron enqueuer once at `t`, as a scheduler process would.
    void fire_at(const std::string& t) {
        clock.set(jobq::parse_timestamp(t));
        boost::asio::io_context io;
        jobq::SchedulerOptions options;
        options.clock = &clock;
        jobq::Scheduler scheduler(io.get_executor(), store, options);
        scheduler.cron_once();
    }

    jobq::SqliteStore store;
    jobq::ManualClock clock;
    jobq::Crontab crontab{store, clock};
};

}  // namespace

// ---- cron next ----------------------------------------------------------------------------

TEST_CASE("cron next prints the fire times strictly after --from, with the zone's offset") {
    CliFixture fx;
    const ProcessResult r = fx.jobq_raw(
        {"cron", "next", "*/15 * * * *", "--from", "2026-11-23T10:07:00Z", "--count", "3"});
    CHECK(r.exit_code == 0);
    CHECK(r.err.empty());
    CHECK(r.out ==
          "2026-11-23T10:15:00+00:00\n"
          "2026-11-23T10:30:00+00:00\n"
          "2026-11-23T10:45:00+00:00\n");
}

TEST_CASE("cron next fires a wall-clock time skipped by spring-forward at the end of the gap") {
    CliFixture fx;
    const ProcessResult r = fx.jobq_raw({"cron", "next", "30 2 * * *", "--tz", "Europe/Berlin",
                                         "--from", "2026-03-28T12:00:00Z", "--count", "2"});
    CHECK(r.exit_code == 0);
    CHECK(r.out ==
          "2026-03-29T03:00:00+02:00\n"
          "2026-03-30T02:30:00+02:00\n");
}

TEST_CASE("cron next fires a wall-clock time repeated by fall-back once, at its first occurrence") {
    CliFixture fx;
    const ProcessResult r = fx.jobq_raw({"cron", "next", "30 1 * * *", "--tz", "America/New_York",
                                         "--from", "2026-10-31T12:00:00Z", "--count", "2"});
    CHECK(r.exit_code == 0);
    CHECK(r.out ==
          "2026-11-01T01:30:00-04:00\n"
          "2026-11-02T01:30:00-05:00\n");
}

TEST_CASE("cron next reads a --from without an offset as a wall-clock time in --tz") {
    CliFixture fx;
    // 08:30 in Berlin is 07:30Z, before the 09:00 window; read as UTC it would be after it.
    const ProcessResult r = fx.jobq_raw({"cron", "next", "0 9 * * *", "--tz", "Europe/Berlin",
                                         "--from", "2026-11-23T08:30", "--count", "1"});
    CHECK(r.exit_code == 0);
    CHECK(r.out == "2026-11-23T09:00:00+01:00\n");
    // A date alone is midnight there.
    const ProcessResult midnight = fx.jobq_raw(
        {"cron", "next", "@daily", "--tz", "Asia/Tokyo", "--from", "2026-11-23", "--count", "1"});
    CHECK(midnight.out == "2026-11-24T00:00:00+09:00\n");
}

TEST_CASE("cron next prints five fire times by default") {
    CliFixture fx;
    const ProcessResult r =
        fx.jobq_raw({"cron", "next", "0 9 * * MON-FRI", "--from", "2026-11-23T09:00:00Z"});
    CHECK(r.exit_code == 0);
    CHECK(r.out ==
          "2026-11-24T09:00:00+00:00\n"
          "2026-11-25T09:00:00+00:00\n"
          "2026-11-26T09:00:00+00:00\n"
          "2026-11-27T09:00:00+00:00\n"
          "2026-11-30T09:00:00+00:00\n");
}

TEST_CASE("cron next without --from starts from now") {
    CliFixture fx;
    const jobq::Timestamp before = jobq::system_clock().now();
    const ProcessResult r = fx.jobq_raw({"cron", "next", "* * * * * *", "--count", "1"});
    const jobq::Timestamp after = jobq::system_clock().now();
    REQUIRE(r.exit_code == 0);
    const jobq::Timestamp fire = jobq::parse_timestamp(lines_of(r.out).at(0));
    CHECK(fire > before - std::chrono::seconds{1});
    CHECK(fire <= after + std::chrono::seconds{1});
}

TEST_CASE("cron next works whatever JOBQ_DATABASE_URL holds") {
    CliFixture fx;
    jobq::test::ProcessOptions options;
    options.env["JOBQ_DATABASE_URL"] = "postgresql://h/db?pool_size=abc";
    const ProcessResult r = fx.jobq_raw(
        {"cron", "next", "0 9 * * *", "--from", "2026-11-23T00:00:00Z", "--count", "1"}, options);
    CHECK(r.exit_code == 0);
    CHECK(r.out == "2026-11-23T09:00:00+00:00\n");
    // A command that needs the database still reports the bad URL.
    const ProcessResult stats = fx.jobq_raw({"stats"}, options);
    CHECK(stats.exit_code == 2);
    CHECK(stats.err.find("pool_size") != std::string::npos);
}

TEST_CASE("cron next needs no database and creates none") {
    CliFixture fx;
    const ProcessResult r = fx.jobq_raw({"cron", "next", "@hourly"});
    CHECK(r.exit_code == 0);
    CHECK(lines_of(r.out).size() == 5);
    CHECK_FALSE(std::filesystem::exists(fx.dir() / "jobq.db"));
}

TEST_CASE("cron next --json gives the expression, the zone and the fire times") {
    CliFixture fx;
    const ProcessResult r =
        fx.jobq_raw({"--json", "cron", "next", "0 3 * * *", "--tz", "Europe/Berlin", "--from",
                     "2026-11-23T10:00:00Z", "--count", "2"});
    REQUIRE(r.exit_code == 0);
    const auto j = nlohmann::json::parse(r.out);
    CHECK(j.at("expression") == "0 3 * * *");
    CHECK(j.at("zone") == "Europe/Berlin");
    CHECK(j.at("from") == "2026-11-23T11:00:00+01:00");
    CHECK(j.at("fire_times") ==
          nlohmann::json{"2026-11-24T03:00:00+01:00", "2026-11-25T03:00:00+01:00"});
}

TEST_CASE("cron next rejects a bad expression with the parser's field, position and reason") {
    CliFixture fx;
    const ProcessResult r = fx.jobq_raw({"cron", "next", "61 * * * *"});
    CHECK(r.exit_code == 2);
    CHECK(r.out.empty());
    CHECK(r.err == "jobq: error: minute: 61 is out of range 0-59 (position 1 in \"61 * * * *\")\n");
}

TEST_CASE("cron next rejects an unknown time zone naming --tz") {
    CliFixture fx;
    const ProcessResult r = fx.jobq_raw({"cron", "next", "@daily", "--tz", "Mars/Olympus"});
    CHECK(r.exit_code == 2);
    CHECK(r.out.empty());
    CHECK(r.err == "jobq: error: --tz: unknown time zone \"Mars/Olympus\"\n");
}

TEST_CASE("cron next takes a --count between 1 and 1000") {
    CliFixture fx;
    for (const char* count : {"0", "1001", "-1", "many"}) {
        CAPTURE(count);
        check_usage_error(fx.jobq_raw({"cron", "next", "@daily", "--count", count}), "--count");
    }
    const ProcessResult most = fx.jobq_raw({"cron", "next", "* * * * * *", "--count", "1000"});
    CHECK(most.exit_code == 0);
    CHECK(lines_of(most.out).size() == 1000);
}

TEST_CASE("cron next rejects a --from it cannot read, quoting it as typed") {
    CliFixture fx;
    check_usage_error(fx.jobq_raw({"cron", "next", "@daily", "--from", "2026-13-01T00:00"}),
                      "--from: cannot read '2026-13-01T00:00'");
    check_usage_error(fx.jobq_raw({"cron", "next", "@daily", "--from", "tomorrow"}),
                      "--from: cannot read 'tomorrow'");
}

// ---- the schedules of a store -------------------------------------------------------------

TEST_CASE("cron list says so when there are no schedules") {
    CliFixture fx;
    fx.migrate();
    const ProcessResult r = fx.jobq({"cron", "list"});
    CHECK(r.exit_code == 0);
    CHECK(r.out == "no schedules\n");
    CHECK(fx.json({"cron", "list"}).at("schedules") == nlohmann::json::array());
}

TEST_CASE("cron list on a database that does not exist says to migrate and creates nothing") {
    CliFixture fx;
    const ProcessResult r = fx.jobq({"cron", "list"});
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("run 'jobq migrate' first") != std::string::npos);
    CHECK_FALSE(std::filesystem::exists(fx.db()));
}

TEST_CASE("cron add stores a schedule and prints it with its next fire time") {
    CliFixture fx;
    fx.migrate();
    const ProcessResult r = fx.jobq({"cron", "add", "nightly", "0 3 * * *", "report.build", "--tz",
                                     "Europe/Berlin", "--payload", R"({"full": true})", "--queue",
                                     "reports", "--priority", "3", "--tag", "finance"});
    REQUIRE(r.exit_code == 0);
    const auto listed = fx.json({"cron", "list"}).at("schedules");
    REQUIRE(listed.size() == 1);
    const auto& s = listed[0];
    // The first window is the first fire time after the schedule was added.
    const std::string next =
        jobq::TimeZone::locate("Europe/Berlin")
            .format(jobq::CronExpression::parse("0 3 * * *")
                        .next_after(jobq::parse_timestamp(s.at("created_at").get<std::string>()),
                                    jobq::TimeZone::locate("Europe/Berlin")));
    CHECK(r.out ==
          "added schedule 'nightly'\n"
          "name           nightly\n"
          "expression     0 3 * * *\n"
          "zone           Europe/Berlin\n"
          "state          active\n"
          "source         runtime\n"
          "kind           report.build\n"
          "queue          reports\n"
          "payload        {\"full\":true}\n"
          "job options    priority 3, tags finance\n"
          "misfire        catch_up (max catch-up 100, max age 1d, grace 1m)\n"
          "next fire      " +
              next + "\n");
    CHECK(s.at("next_fire_at") == next);
}

TEST_CASE("cron list --json gives every field of each schedule") {
    CliFixture fx;
    fx.migrate();
    REQUIRE(fx.jobq({"cron", "add", "sync", "*/5 * * * *", "crm.sync", "--payload",
                     R"({"full": false})", "--queue", "crm", "--max-attempts", "3", "--misfire",
                     "latest_only", "--grace", "30s"})
                .exit_code == 0);
    REQUIRE(fx.jobq({"cron", "add", "nightly", "0 3 * * *", "report.build", "--tz", "Europe/Berlin",
                     "--max-catch-up", "5", "--max-age", "6h"})
                .exit_code == 0);
    const auto listed = fx.json({"cron", "list"}).at("schedules");
    REQUIRE(listed.size() == 2);
    // By name.
    const auto& nightly = listed[0];
    const auto& sync = listed[1];
    CHECK(nightly.at("name") == "nightly");
    CHECK(nightly.at("expression") == "0 3 * * *");
    CHECK(nightly.at("zone") == "Europe/Berlin");
    CHECK(nightly.at("state") == "active");
    CHECK(nightly.at("source") == "runtime");
    CHECK(nightly.at("next_fire_at").get<std::string>().ends_with("T03:00:00+01:00"));
    CHECK(nightly.at("kind") == "report.build");
    CHECK(nightly.at("queue") == "default");
    CHECK(nightly.at("misfire") == nlohmann::json{{"mode", "catch_up"},
                                                  {"max_catch_up", 5},
                                                  {"max_age_ms", 6 * 3600 * 1000},
                                                  {"grace_ms", 60 * 1000}});
    CHECK(sync.at("name") == "sync");
    CHECK(sync.at("zone") == "UTC");
    CHECK(sync.at("queue") == "crm");
    CHECK(sync.at("misfire").at("mode") == "latest_only");
    CHECK(sync.at("misfire").at("grace_ms") == 30 * 1000);
    CHECK(sync.at("job").at("payload") == nlohmann::json{{"full", false}});
    CHECK(sync.at("job").at("max_attempts") == 3);
    CHECK(sync.at("next_fire_at").get<std::string>().ends_with("+00:00"));
    for (const char* key : {"created_at", "updated_at"}) {
        CHECK_NOTHROW(jobq::parse_timestamp(sync.at(key).get<std::string>()));
    }
}

TEST_CASE("cron list shows schedules in a table") {
    CliFixture fx;
    fx.migrate();
    REQUIRE(
        fx.jobq({"cron", "add", "nightly", "0 3 * * *", "report.build", "--tz", "Europe/Berlin"})
            .exit_code == 0);
    REQUIRE(fx.jobq({"cron", "add", "sync", "*/5 * * * *", "crm.sync", "--queue", "crm",
                     "--misfire", "skip"})
                .exit_code == 0);
    REQUIRE(fx.jobq({"cron", "pause", "sync"}).exit_code == 0);
    const auto next =
        fx.json({"cron", "list"}).at("schedules")[0].at("next_fire_at").get<std::string>();
    const ProcessResult r = fx.jobq({"cron", "list"});
    CHECK(r.exit_code == 0);
    CHECK(r.out ==
          "NAME     EXPRESSION   ZONE           STATE   SOURCE   NEXT FIRE                  KIND   "
          "       QUEUE    MISFIRE\n"
          "nightly  0 3 * * *    Europe/Berlin  active  runtime  " +
              next +
              "  report.build  default  catch_up\n"
              "sync     */5 * * * *  UTC            paused  runtime  -                          "
              "crm.sync      crm      skip\n");
}

TEST_CASE("cron pause stops a schedule: paused, with no next fire time") {
    CliFixture fx;
    fx.migrate();
    REQUIRE(fx.jobq({"cron", "add", "nightly", "0 3 * * *", "report.build"}).exit_code == 0);
    const ProcessResult r = fx.jobq({"cron", "pause", "nightly"});
    CHECK(r.exit_code == 0);
    CHECK(r.out == "paused schedule 'nightly'\n");
    const auto s = fx.json({"cron", "list"}).at("schedules")[0];
    CHECK(s.at("state") == "paused");
    CHECK(s.at("next_fire_at").is_null());
    CHECK(fx.jobq({"cron", "pause", "nightly"}).out == "schedule 'nightly' is already paused\n");
}

TEST_CASE("cron resume makes a paused schedule active again and prints its next fire time") {
    CliFixture fx;
    fx.migrate();
    REQUIRE(fx.jobq({"cron", "add", "nightly", "0 3 * * *", "report.build"}).exit_code == 0);
    REQUIRE(fx.jobq({"cron", "pause", "nightly"}).exit_code == 0);
    const auto resumed = fx.json({"cron", "resume", "nightly"});
    CHECK(resumed.at("state") == "active");
    const std::string next = resumed.at("next_fire_at").get<std::string>();
    CHECK(next.ends_with("T03:00:00+00:00"));
    CHECK(fx.jobq({"cron", "resume", "nightly"}).out ==
          "schedule 'nightly' is not paused; next fire " + next + "\n");
}

TEST_CASE("cron history of a schedule that has not fired yet is empty") {
    CliFixture fx;
    fx.migrate();
    REQUIRE(fx.jobq({"cron", "add", "nightly", "0 3 * * *", "report.build"}).exit_code == 0);
    const ProcessResult r = fx.jobq({"cron", "history", "nightly"});
    CHECK(r.exit_code == 0);
    CHECK(r.out == "schedule 'nightly' has no history yet\n");
    CHECK(fx.json({"cron", "history", "nightly"}).at("runs") == nlohmann::json::array());
}

TEST_CASE("cron update replaces the whole definition of a run-time schedule") {
    CliFixture fx;
    fx.migrate();
    REQUIRE(fx.jobq({"cron", "add", "nightly", "0 3 * * *", "report.build", "--queue", "reports",
                     "--tz", "Europe/Berlin", "--misfire", "skip"})
                .exit_code == 0);
    const ProcessResult r =
        fx.jobq({"cron", "update", "nightly", "30 4 * * *", "report.full", "--priority", "2"});
    CHECK(r.exit_code == 0);
    CHECK(r.out.starts_with("updated schedule 'nightly'\nname           nightly\n"));
    const auto s = fx.json({"cron", "list"}).at("schedules")[0];
    CHECK(s.at("expression") == "30 4 * * *");
    CHECK(s.at("kind") == "report.full");
    // Options not given are back at their defaults.
    CHECK(s.at("queue") == "default");
    CHECK(s.at("zone") == "UTC");
    CHECK(s.at("misfire").at("mode") == "catch_up");
    CHECK(s.at("job").at("priority") == 2);
    CHECK(s.at("next_fire_at").get<std::string>().ends_with("T04:30:00+00:00"));
}

TEST_CASE("cron update with a bad option exits 2 and changes nothing") {
    CliFixture fx;
    fx.migrate();
    REQUIRE(fx.jobq({"cron", "add", "nightly", "0 3 * * *", "report.build"}).exit_code == 0);
    const auto before = fx.json({"cron", "list"}).at("schedules");
    check_usage_error(fx.jobq({"cron", "update", "nightly", "0 3 * * *", "k", "--tz", "Nope/X"}),
                      "--tz");
    CHECK(fx.json({"cron", "list"}).at("schedules") == before);
}

TEST_CASE("cron update of a schedule declared in code is refused with the library's reason") {
    CliFixture fx;
    fx.migrate();
    {
        Library lib(fx);
        const jobq::ScheduleRecord declared =
            jobq::Crontab::to_record(nightly_report(), true, monday);
        lib.store.sync_declared_schedules(std::span(&declared, 1), monday);
    }
    CHECK(fx.json({"cron", "list"}).at("schedules")[0].at("source") == "declared");
    const ProcessResult r = fx.jobq({"cron", "update", "nightly", "0 4 * * *", "report.build"});
    CHECK(r.exit_code == 1);
    CHECK(r.out.empty());
    CHECK(r.err ==
          "jobq: error: schedule 'nightly' is declared in code; change it there (the next "
          "scheduler start would undo this update)\n");
}

TEST_CASE("cron remove of a schedule declared in code says a scheduler will add it again") {
    CliFixture fx;
    fx.migrate();
    {
        Library lib(fx);
        const jobq::ScheduleRecord declared =
            jobq::Crontab::to_record(nightly_report(), true, monday);
        lib.store.sync_declared_schedules(std::span(&declared, 1), monday);
    }
    const ProcessResult r = fx.jobq({"cron", "remove", "nightly"});
    CHECK(r.exit_code == 0);
    CHECK(r.out ==
          "removed schedule 'nightly' and its history; it is declared in code, so a scheduler "
          "that declares it adds it again when it starts\n");
}

TEST_CASE("cron remove deletes a schedule") {
    CliFixture fx;
    fx.migrate();
    REQUIRE(fx.jobq({"cron", "add", "nightly", "0 3 * * *", "report.build"}).exit_code == 0);
    REQUIRE(fx.jobq({"cron", "add", "hourly", "@hourly", "cache.warm"}).exit_code == 0);
    const ProcessResult r = fx.jobq({"cron", "remove", "nightly"});
    CHECK(r.exit_code == 0);
    CHECK(r.out == "removed schedule 'nightly' and its history\n");
    const auto listed = fx.json({"cron", "list"}).at("schedules");
    REQUIRE(listed.size() == 1);
    CHECK(listed[0].at("name") == "hourly");
    CHECK(fx.json({"cron", "remove", "hourly"}) ==
          nlohmann::json{{"name", "hourly"}, {"removed", true}, {"declared", false}});
}

TEST_CASE("cron add of a name that is taken fails with exit code 1 and changes nothing") {
    CliFixture fx;
    fx.migrate();
    REQUIRE(fx.jobq({"cron", "add", "nightly", "0 3 * * *", "report.build"}).exit_code == 0);
    const auto before = fx.json({"cron", "list"}).at("schedules");
    const ProcessResult r = fx.jobq({"cron", "add", "nightly", "@hourly", "other.kind"});
    CHECK(r.exit_code == 1);
    CHECK(r.out.empty());
    CHECK(r.err == "jobq: error: a schedule named 'nightly' already exists\n");
    CHECK(fx.json({"cron", "list"}).at("schedules") == before);
}

TEST_CASE("cron add with bad input exits 2 naming the culprit and writes nothing") {
    struct BadInput {
        Args args;
        std::string names;
    };
    const std::vector<BadInput> cases{
        {{"n", "0 61 * * *", "k"}, "hour: 61 is out of range 0-23 (position 3 in \"0 61 * * *\")"},
        {{"n", "* * * *", "k"}, "expected 5 or 6 fields"},
        {{"n", "@daily", "k", "--tz", "Nowhere/X"}, "--tz: unknown time zone \"Nowhere/X\""},
        {{"n", "@daily", "k", "--misfire", "never"}, "--misfire: unknown mode 'never'"},
        {{"n", "@daily", "k", "--misfire", "skip", "--max-age", "1h"}, "--max-age"},
        {{"n", "@daily", "k", "--misfire", "latest_only", "--max-catch-up", "3"}, "--max-catch-up"},
        {{"n", "@daily", "k", "--max-catch-up", "0"}, "--max-catch-up"},
        {{"n", "@daily", "k", "--max-catch-up", "lots"}, "--max-catch-up"},
        {{"n", "@daily", "k", "--max-age", "0s"}, "--max-age"},
        {{"n", "@daily", "k", "--grace", "10ms"}, "--grace"},
        {{"n", "@daily", "k", "--grace", "soon"}, "--grace"},
        {{"n", "@daily", "k", "--priority", "12"}, "--priority"},
        {{"n", "@daily", "k", "--max-attempts", "0"}, "--max-attempts"},
        {{"n", "@daily", "k", "--timeout", "0s"}, "--timeout"},
        {{"n", "@daily", "k", "--queue", "my queue"}, "--queue"},
        {{"n", "@daily", "k", "--unique-key", ""}, "--unique-key"},
        {{"n", "@daily", "k", "--payload", "[1]"}, "--payload"},
        {{"n", "@daily", "k", "--payload", "{x"}, "--payload"},
        {{"n", "@daily", "bad kind"}, "kind"},
        {{"", "@daily", "k"}, "NAME"},
        {{"n", "@daily"}, "KIND"},
        {{"n", "@daily", "k", "--in", "5m"}, "'--in'"},
    };
    CliFixture fx;
    fx.migrate();
    for (const BadInput& c : cases) {
        Args args{"cron", "add"};
        args.insert(args.end(), c.args.begin(), c.args.end());
        std::string command_line;
        for (const auto& a : args) command_line += a + " ";
        CAPTURE(command_line);
        check_usage_error(fx.jobq(args), c.names);
    }
    CHECK(fx.json({"cron", "list"}).at("schedules") == nlohmann::json::array());
}

TEST_CASE("cron commands on a schedule that does not exist exit 1 naming it") {
    CliFixture fx;
    fx.migrate();
    for (const Args& args : std::vector<Args>{{"cron", "pause", "nope"},
                                              {"cron", "resume", "nope"},
                                              {"cron", "remove", "nope"},
                                              {"cron", "history", "nope"},
                                              {"cron", "update", "nope", "@daily", "k"}}) {
        CAPTURE(args[1]);
        check_no_schedule(fx.jobq(args), "nope");
    }
}

// ---- history ------------------------------------------------------------------------------

TEST_CASE("cron history shows enqueued windows with their jobs and runs a misfire policy skipped") {
    CliFixture fx;
    fx.migrate();
    {
        Library lib(fx);
        lib.crontab.add(nightly_report(jobq::MisfireMode::skip));
        // 03:00 in Berlin is 02:00Z. Ten seconds late is on time (grace 1m).
        lib.fire_at("2026-11-24T02:00:10Z");
        // No scheduler ran for the next two windows; the third is on time again.
        lib.fire_at("2026-11-27T02:00:10Z");
    }
    const ProcessResult r = fx.jobq({"cron", "history", "nightly"});
    CHECK(r.exit_code == 0);
    CHECK(r.out ==
          "WINDOW                                                OUTCOME   COUNT  JOB  REASON\n"
          "2026-11-27T03:00:00+01:00                             enqueued      1    2  -\n"
          "2026-11-25T03:00:00+01:00..2026-11-26T03:00:00+01:00  skipped       2    -  "
          "misfire policy skip: missed by more than grace 1m\n"
          "2026-11-24T03:00:00+01:00                             enqueued      1    1  -\n");
    CHECK(fx.show(2).at("run_at") == "2026-11-27T02:00:00.000000Z");
}

TEST_CASE("cron history shows the windows that passed while paused as one skipped run") {
    CliFixture fx;
    fx.migrate();
    {
        Library lib(fx);
        lib.crontab.add(nightly_report());
        lib.crontab.pause("nightly");
        lib.clock.set(jobq::parse_timestamp("2026-11-26T10:00:00Z"));
        lib.crontab.resume("nightly");
    }
    const ProcessResult r = fx.jobq({"cron", "history", "nightly"});
    CHECK(r.exit_code == 0);
    CHECK(r.out ==
          "WINDOW                                                OUTCOME  COUNT  JOB  REASON\n"
          "2026-11-24T03:00:00+01:00..2026-11-26T03:00:00+01:00  skipped      3    -  paused\n");
    // Not caught up: it goes on from the next window after the resume.
    CHECK(fx.json({"cron", "list"}).at("schedules")[0].at("next_fire_at") ==
          "2026-11-27T03:00:00+01:00");
}

TEST_CASE("cron history --json gives each entry's windows, outcome, job and reason") {
    CliFixture fx;
    fx.migrate();
    {
        Library lib(fx);
        lib.crontab.add(nightly_report(jobq::MisfireMode::skip));
        lib.fire_at("2026-11-24T02:00:10Z");
        lib.fire_at("2026-11-27T02:00:10Z");
    }
    const auto runs = fx.json({"cron", "history", "nightly"}).at("runs");
    REQUIRE(runs.size() == 3);
    CHECK(runs[0].at("fire_at") == "2026-11-27T03:00:00+01:00");
    CHECK(runs[0].at("last_fire_at") == "2026-11-27T03:00:00+01:00");
    CHECK(runs[0].at("outcome") == "enqueued");
    CHECK(runs[0].at("job_id") == 2);
    CHECK(runs[0].at("count") == 1);
    CHECK(runs[0].at("reason").is_null());
    CHECK(runs[1].at("fire_at") == "2026-11-25T03:00:00+01:00");
    CHECK(runs[1].at("last_fire_at") == "2026-11-26T03:00:00+01:00");
    CHECK(runs[1].at("outcome") == "skipped");
    CHECK(runs[1].at("job_id").is_null());
    CHECK(runs[1].at("count") == 2);
    CHECK(runs[1].at("reason") == "misfire policy skip: missed by more than grace 1m");
    CHECK(runs[1].at("recorded_at") == "2026-11-27T02:00:10.000000Z");
}

TEST_CASE("cron history --limit keeps the newest entries") {
    CliFixture fx;
    fx.migrate();
    {
        Library lib(fx);
        lib.crontab.add(nightly_report(jobq::MisfireMode::skip));
        lib.fire_at("2026-11-24T02:00:10Z");
        lib.fire_at("2026-11-27T02:00:10Z");
    }
    const auto runs = fx.json({"cron", "history", "nightly", "--limit", "1"}).at("runs");
    REQUIRE(runs.size() == 1);
    CHECK(runs[0].at("fire_at") == "2026-11-27T03:00:00+01:00");
    check_usage_error(fx.jobq({"cron", "history", "nightly", "--limit", "0"}), "--limit");
}

// ---- usage --------------------------------------------------------------------------------

TEST_CASE("cron without a command is a usage error that lists the cron commands") {
    CliFixture fx;
    check_usage_error(fx.jobq_raw({"cron"}),
                      "missing cron command (one of: next, list, add, update, pause, resume, "
                      "remove, history)");
    check_usage_error(fx.jobq_raw({"cron", "frob"}), "unknown cron command 'frob'");
}

TEST_CASE("--help lists the cron commands and each one describes its options") {
    CliFixture fx;
    const ProcessResult usage = fx.jobq_raw({"--help"});
    CHECK(usage.exit_code == 0);
    for (const char* command : {"cron next", "cron list", "cron add", "cron update", "cron pause",
                                "cron resume", "cron remove", "cron history"}) {
        CHECK_MESSAGE(usage.out.find(std::string("\n  ") + command + " ") != std::string::npos,
                      command);
    }
    const ProcessResult add = fx.jobq_raw({"cron", "add", "--help"});
    CHECK(add.exit_code == 0);
    for (const char* option :
         {"--payload", "--queue", "--priority", "--max-attempts", "--timeout", "--unique-key",
          "--tenant", "--tag", "--tz", "--misfire", "--max-catch-up", "--max-age", "--grace"}) {
        CHECK_MESSAGE(add.out.find(option) != std::string::npos, option);
    }
    CHECK(fx.jobq_raw({"help", "cron", "next"}).out.find("--count") != std::string::npos);
    CHECK_FALSE(std::filesystem::exists(fx.dir() / "jobq.db"));
}

TEST_CASE("cron next lists no fire time past the year 9999") {
    CliFixture fx;
    const ProcessResult r = fx.jobq_raw(
        {"cron", "next", "0 0 * * *", "--from", "9999-12-29T12:00:00Z", "--count", "5"});
    CHECK(r.exit_code == 0);
    CHECK(r.out == "9999-12-30T00:00:00+00:00\n9999-12-31T00:00:00+00:00\n");
}
