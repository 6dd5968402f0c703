// The CLI as the place other systems' garbage arrives: every bad payload, time or name is
// refused with exit code 2, one line naming the field (or a JSON object with --json), nothing
// written and no crash; payloads too large for an argument come from a file or stdin.

#include <fstream>
#include <string>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "cli_fixture.hpp"

using jobq::test::CliFixture;
using jobq::test::mentions;
using jobq::test::write_file;
using jobq::test::ProcessOptions;
using jobq::test::ProcessResult;

namespace {

// Exit code 2, one line that says `what`, no trace of nlohmann's own exception text, and
// nothing written.
void check_refused(CliFixture& fx, const ProcessResult& r, const std::string& what) {
    INFO("stderr: ", r.err);
    CHECK(r.exit_code == 2);
    CHECK(jobq::test::is_one_line(r.err));
    CHECK(mentions(r.err, what));
    CHECK_FALSE(mentions(r.err, "json.exception"));
    CHECK(fx.count_jobs() == 0);
}

}  // namespace

TEST_SUITE_BEGIN("hostile input");

TEST_CASE("a payload is read from standard input with '-' and from a file with '@'") {
    CliFixture fx;
    fx.migrate();
    const std::string big(200'000, 'x');  // too long to pass comfortably as one argument
    write_file(fx.dir() / "in.json", R"({"from":"stdin","blob":")" + big + "\"}");
    ProcessOptions options;
    options.stdin_path = fx.dir() / "in.json";
    const ProcessResult r =
        fx.jobq_raw({"--db", fx.database(), "--json", "enqueue", "k", "-"}, options);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    const auto id = nlohmann::json::parse(r.out).at("id").get<jobq::JobId>();
    CHECK(fx.show(id).at("payload").at("blob").get<std::string>().size() == big.size());

    write_file(fx.dir() / "p.json", R"({"from":"file"})");
    const jobq::JobId second = fx.enqueue({"k", "@p.json"});
    CHECK(fx.show(second).at("payload") == nlohmann::json{{"from", "file"}});
}

TEST_CASE("a payload file that cannot be read is refused naming the file") {
    CliFixture fx;
    fx.migrate();
    check_refused(fx, fx.jobq({"enqueue", "k", "@missing.json"}),
                  "payload: cannot read 'missing.json'");
}

TEST_CASE("a payload file with a NUL byte or a directory for a file is refused") {
    CliFixture fx;
    fx.migrate();
    // Text after a NUL must not be ignored: this is not JSON, though it starts as an object.
    write_file(fx.dir() / "nul.json", std::string("{\"a\":1}\0 not json {{{", 21));
    check_refused(fx, fx.jobq({"enqueue", "k", "@nul.json"}), "a NUL byte at byte 8");
    ProcessOptions options;
    options.stdin_path = fx.dir() / "nul.json";
    check_refused(fx, fx.jobq_raw({"--db", fx.database(), "enqueue", "k", "-"}, options),
                  "a NUL byte at byte 8");
    check_refused(fx, fx.jobq({"cron", "add", "s", "@daily", "k", "--payload", "@nul.json"}),
                  "a NUL byte at byte 8");
    CHECK(fx.json({"cron", "list"}).at("schedules").empty());
    std::filesystem::create_directory(fx.dir() / "d");
    check_refused(fx, fx.jobq({"enqueue", "k", "@d"}), "cannot read 'd': it is a directory");
}

TEST_CASE("a number overflowing a double is refused with its place, exit code 2") {
    CliFixture fx;
    fx.migrate();
    check_refused(fx, fx.jobq({"enqueue", "k", R"({"a":{"b":1e999}})"}),
                  "payload: number overflow at /a/b (1e999)");
}

TEST_CASE("a payload nested a million levels deep is refused without a crash") {
    CliFixture fx;
    fx.migrate();
    write_file(fx.dir() / "deep.json",
               "{\"a\":" + std::string(1'000'000, '[') + std::string(1'000'000, ']') + "}");
    check_refused(fx, fx.jobq({"enqueue", "k", "@deep.json"}), "nests deeper than 128 levels");
}

TEST_CASE("a NUL in a payload string is refused on the command line as in the library") {
    CliFixture fx;
    fx.migrate();
    check_refused(fx, fx.jobq({"enqueue", "k", R"({"s":"a\u0000b"})"}), "NUL character");
}

TEST_CASE("a payload over 1 MiB is refused with its size and the limit") {
    CliFixture fx;
    fx.migrate();
    write_file(fx.dir() / "big.json", R"({"b":")" + std::string(1 << 20, 'x') + "\"}");
    check_refused(fx, fx.jobq({"enqueue", "k", "@big.json"}),
                  "1048584 bytes is larger than the limit of 1048576 bytes");
}

TEST_CASE("a delay of 10^8 days is refused, not wrapped into the past") {
    CliFixture fx;
    fx.migrate();
    check_refused(fx, fx.jobq({"enqueue", "k", "--in", "100000000d"}), "--in: must be at most");
}

TEST_CASE("a cron schedule whose name could not be a tag is refused when added") {
    CliFixture fx;
    fx.migrate();
    const ProcessResult r = fx.jobq({"cron", "add", "nightly report", "0 3 * * *", "k"});
    INFO(r.err);
    CHECK(r.exit_code == 2);
    CHECK(mentions(r.err, "must not contain spaces"));
    CHECK(fx.json({"cron", "list"}).at("schedules").empty());
}

TEST_CASE("with --json an error is a JSON object on stderr: code, field, message") {
    CliFixture fx;
    fx.migrate();
    const ProcessResult r = fx.jobq({"--json", "enqueue", "k", R"({"n":1e999})"});
    CHECK(r.exit_code == 2);
    REQUIRE(jobq::test::is_one_line(r.err));
    const nlohmann::json error = nlohmann::json::parse(r.err).at("error");
    CHECK(error.at("code") == "invalid_argument");
    CHECK(error.at("field") == "payload");
    CHECK(error.at("exit_code") == 2);
    CHECK(mentions(error.at("message").get<std::string>(), "number overflow at /n"));

    const ProcessResult usage = fx.jobq({"--json", "enqueue"});
    CHECK(usage.exit_code == 2);
    CHECK(nlohmann::json::parse(usage.err).at("error").at("code") == "usage");
}

TEST_SUITE_END();

TEST_CASE("with --json, the error's field is the option the user typed, whichever check failed") {
    CliFixture fx;
    fx.migrate();
    write_file(fx.dir() / "big.json", "{\"a\":\"" + std::string(1'100'000, 'x') + "\"}");
    struct Case {
        std::vector<std::string> args;
        std::string field;
        std::string message_start;
    };
    const std::vector<Case> cases{
        {{"enqueue", "k", "--in", "1x"}, "--in", "--in: "},
        {{"enqueue", "k", "--in", "100000000d"}, "--in", "--in: must be at most 36525d"},
        {{"enqueue", "k", "--at", "bad"}, "--at", "--at: "},
        {{"enqueue", "k", "--at", "0000-01-01T00:00:00Z"},
         "--at",
         "--at: must be between 1970-01-01T00:00:00.000000Z and 9999-12-31T23:59:59.999999Z "
         "(got 0000-01-01T00:00:00.000000Z)"},
        {{"enqueue", "k", "--priority", "10"}, "--priority", "--priority: "},
        {{"enqueue", "k", "--priority", "x"},
         "--priority",
         "--priority: expected an integer (got 'x')"},
        {{"list", "--state", "bogus"}, "--state", "--state: unknown state 'bogus'"},
        {{"show", "0"}, "ID", "ID: expected a job id"},
        {{"enqueue", "k", "--tag", "a b"}, "--tag", "--tag: "},
        {{"cron", "add", "s", "@daily", "k", "--grace", "40000d"}, "--grace", "--grace: "},
        {{"cron", "add", "s", "@daily", "k", "--max-age", "40000d"}, "--max-age", "--max-age: "},
        {{"cron", "add", "s", "@daily", "k", "--payload", "@big.json"},
         "--payload",
         "--payload: 1100008 bytes is larger than the limit"},
        {{"cron", "add", "s", "@daily", "k", "--payload", "[1]"},
         "--payload",
         "--payload: must be a JSON object"},
        {{"cron", "add", "s", "@daily", "k", "--payload", "@missing.json"},
         "--payload",
         "--payload: cannot read 'missing.json'"},
        {{"cron", "next", "* * * * *", "--count", "0"}, "--count", "--count: must be between"},
        {{"limit", "set", "queue:q", "--weight", "1"}, "--weight", "--weight: applies to a tenant"},
        {{"enqueue", "k", "[1]"}, "payload", "payload: must be a JSON object"},
        {{"limit", "set", "queue:q", "--rate", "1/40000d"}, "--rate", "--rate: "},
        {{"limit", "set", "queue:q", "--rate", "1/s", "--burst", "0"},
         "--burst",
         "--burst: must be at least 1 (got 0)"},
    };
    for (const Case& c : cases) {
        std::vector<std::string> args{"--json"};
        args.insert(args.end(), c.args.begin(), c.args.end());
        const ProcessResult r = fx.jobq(args);
        INFO("jobq ", c.args.at(0), " ... ", c.args.back(), ": ", r.err);
        CHECK(r.exit_code == 2);
        const auto error = nlohmann::json::parse(r.err).at("error");
        CHECK(error.at("field") == c.field);
        CHECK(error.at("message").get<std::string>().starts_with(c.message_start));
    }
    CHECK(fx.count_jobs() == 0);
    CHECK(fx.json({"cron", "list"}).at("schedules").empty());
    CHECK(fx.json({"limit", "list"}).at("limits").empty());
}

TEST_CASE("a schedule name no schedule can have is bad input (exit 2), not 'no such schedule'") {
    CliFixture fx;
    fx.migrate();
    for (const char* command : {"pause", "resume", "remove", "history"}) {
        const ProcessResult r = fx.jobq({"--json", "cron", command, "n\x01"});
        INFO("cron ", command, ": ", r.err);
        CHECK(r.exit_code == 2);
        const auto error = nlohmann::json::parse(r.err).at("error");
        CHECK(error.at("field") == "name");
        CHECK(error.at("message").get<std::string>().find("U+0001") != std::string::npos);
    }
    CHECK(fx.jobq({"cron", "pause", "valid-but-missing"}).exit_code == 1);
}

TEST_CASE("an error line never carries raw bytes or escape sequences from the command line") {
    CliFixture fx;
    fx.migrate();
    const ProcessResult id = fx.jobq({"show", "1\xff"});
    CHECK(id.exit_code == 2);
    CHECK(id.err.find("'1\\xff'") != std::string::npos);
    const ProcessResult command = fx.jobq({"sh\x1b[31mow"});
    CHECK(command.exit_code == 2);
    CHECK(command.err.find("sh\\u001b[31mow") != std::string::npos);
    const ProcessResult c1 =
        fx.jobq({"x\xc2\x9b"
                 "2J"});
    CHECK(c1.err.find("x\\u009b2J") != std::string::npos);
    for (const ProcessResult* r : {&id, &command, &c1}) {
        for (const char ch : r->err) {
            const auto b = static_cast<unsigned char>(ch);
            CHECK((b >= 0x20 || ch == '\n'));
            CHECK(b != 0xff);
        }
    }
}

TEST_CASE("an empty or impossible filter value is refused, never read as 'every job'") {
    CliFixture fx;
    fx.migrate();
    fx.enqueue({"k", "--queue", "qa"});
    fx.finish_attempts("qa", jobq::OutcomeKind::discard);
    // An unset shell variable must not replay the whole dead-letter queue.
    for (const char* option : {"--queue", "--kind", "--tenant"}) {
        const ProcessResult r = fx.jobq({"--json", "dlq", "replay", "--all", option, ""});
        INFO(option, ": ", r.err);
        CHECK(r.exit_code == 2);
        CHECK(nlohmann::json::parse(r.err).at("error").at("field") == option);
    }
    CHECK(fx.json({"dlq"}).at("jobs").size() == 1);  // still discarded
    for (const char* option : {"--queue", "--kind", "--tenant", "--tag"}) {
        CHECK(fx.jobq({"list", option, ""}).exit_code == 2);
        const ProcessResult r = fx.jobq({"--json", "list", option, "x\xc2\xa0y"});
        INFO(option, ": ", r.err);
        CHECK(r.exit_code == 2);
        CHECK(nlohmann::json::parse(r.err).at("error").at("field") == option);
    }
}

TEST_CASE("with --json too, an error carries no raw control, C1 or bidirectional characters") {
    CliFixture fx;
    fx.migrate();
    for (const std::string& id : {std::string("\xc2\x9b"
                                              "2J"),
                                  std::string("a\x7f"
                                              "b"),
                                  std::string("x\xe2\x80\xae"
                                              "y")}) {
        const ProcessResult r = fx.jobq({"--json", "show", id});
        INFO(r.err);
        CHECK(r.exit_code == 2);
        CHECK(r.err.find("\x7f") == std::string::npos);
        CHECK(r.err.find("\xc2\x9b") == std::string::npos);
        CHECK(r.err.find("\xe2\x80\xae") == std::string::npos);
        CHECK(nlohmann::json::parse(r.err).at("error").at("field") == "ID");
    }
    const ProcessResult text = fx.jobq({"show",
                                        "x\xe2\x80\xae"
                                        "y"});
    CHECK(text.err.find("x\\u202ey") != std::string::npos);
}
