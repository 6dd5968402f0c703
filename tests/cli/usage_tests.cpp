// Bad usage and bad input: exit code 2, one line naming the culprit, nothing written.
// Runtime preconditions: an unmigrated database is reported, not migrated behind the user's back.
// Help and the default database.

#include <doctest/doctest.h>

#include "cli_fixture.hpp"
#include "jobq/sqlite/sqlite_store.hpp"

using jobq::test::CliFixture;
using jobq::test::ProcessResult;

namespace {

struct BadInput {
    std::vector<std::string> args;
    std::string names;  ///< what the error message must mention
};

void check_rejected(const ProcessResult& r, const std::string& names) {
    CHECK(r.exit_code == 2);
    CHECK(r.out.empty());
    CHECK(r.err.starts_with("jobq: error: "));
    CHECK(jobq::test::is_one_line(r.err));
    CHECK_MESSAGE(r.err.find(names) != std::string::npos, "expected '", names, "' in: ", r.err);
}

}  // namespace

TEST_CASE("bad usage and bad input exit with code 2, name the culprit and write nothing") {
    const std::vector<BadInput> cases{
        {{"frobnicate"}, "'frobnicate'"},
        {{"enqueue"}, "KIND"},
        {{"enqueue", "k", "--frob"}, "'--frob'"},
        {{"enqueue", "k", "--priority"}, "--priority"},
        {{"enqueue", "k", "--priority", "high"}, "--priority"},
        {{"enqueue", "k", "--priority", "12"}, "--priority"},
        {{"enqueue", "k", "--max-attempts", "0"}, "--max-attempts"},
        {{"enqueue", "k", "--in", "5 minutes"}, "--in"},
        {{"enqueue", "k", "--in", "-5m"}, "--in"},
        {{"enqueue", "k", "--at", "tomorrow"}, "--at"},
        {{"enqueue", "k", "--in", "5m", "--at", "2030-01-01T00:00:00Z"}, "--at"},
        {{"enqueue", "k", "--timeout", "0s"}, "--timeout"},
        {{"enqueue", "k", "--queue", "my queue"}, "--queue"},
        {{"enqueue", "k", "--queue", "a", "--queue", "b"}, "--queue"},
        {{"enqueue", "k", "{not json"}, "payload"},
        {{"enqueue", "k", "[1, 2]"}, "payload"},
        {{"enqueue", "k", "\"text\""}, "payload"},
        {{"enqueue", "k", "{}", "extra"}, "'extra'"},
        {{"enqueue", "bad kind"}, "kind"},
        {{"show"}, "ID"},
        {{"show", "abc"}, "ID"},
        {{"cancel", "0"}, "ID"},
        {{"list", "--state", "done"}, "'done'"},
        {{"list", "--limit", "0"}, "--limit"},
        {{"list", "--limit", "ten"}, "--limit"},
        {{"list", "--before", "x"}, "--before"},
        {{"list", "--json=yes"}, "--json"},
        {{"dlq", "--all"}, "'--all'"},
        {{"dlq", "replay"}, "--all"},
        {{"dlq", "replay", "1", "--all"}, "--all"},
        {{"dlq", "replay", "1", "--queue", "q"}, "--queue"},
        {{"stats", "now"}, "'now'"},
        {{"help", "nope"}, "'nope'"},
    };
    CliFixture fx;
    fx.migrate();
    for (const BadInput& c : cases) {
        std::string command_line;
        for (const auto& a : c.args) command_line += a + " ";
        CAPTURE(command_line);
        check_rejected(fx.jobq(c.args), c.names);
    }
    CHECK(fx.count_jobs() == 0);
}

TEST_CASE("a bad --db value exits with code 2 naming what is wrong and creates nothing") {
    const std::vector<BadInput> cases{
        {{"--db", "mysql://localhost/jobs", "list"}, "'mysql'"},
        {{"--db", "sqlite:x.db?durability=fast", "list"}, "durability"},
        {{"--db", "sqlite:x.db?cache=shared", "migrate"}, "'cache'"},
        {{"--db", "postgresql://localhost/jobs?pool_size=0", "list"}, "pool_size"},
        {{"--db", "postgres://localhost/jobs?schema=Jobs", "migrate"}, "schema"},
        {{"--db", "postgresql:jobs", "list"}, "postgresql://"},
        {{"--db"}, "--db"},
        {{}, "command"},
        {{"--frob", "list"}, "'--frob'"},
    };
    CliFixture fx;
    for (const BadInput& c : cases) {
        std::string command_line;
        for (const auto& a : c.args) command_line += a + " ";
        CAPTURE(command_line);
        check_rejected(fx.jobq_raw(c.args), c.names);
    }
    CHECK_FALSE(std::filesystem::exists(fx.dir() / "x.db"));
    CHECK_FALSE(std::filesystem::exists(fx.dir() / "jobq.db"));
}

TEST_CASE("a bad PostgreSQL --db value is reported without its password") {
    CliFixture fx;
    const ProcessResult r =
        fx.jobq_raw({"--db", "postgresql://app:hunter2@localhost/jobs?pool_size=many", "list"});
    check_rejected(r, "pool_size");
    CHECK(r.err.find("hunter2") == std::string::npos);
}

TEST_CASE("a command on a database that does not exist says to migrate and creates nothing") {
    CliFixture fx;
    const ProcessResult r = fx.jobq({"list"});
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("run 'jobq migrate' first") != std::string::npos);
    CHECK(jobq::test::is_one_line(r.err));
    CHECK_FALSE(std::filesystem::exists(fx.db()));
}

TEST_CASE("a command on an unmigrated database says to migrate and does not migrate it") {
    CliFixture fx;
    { jobq::SqliteStore create(fx.db().string()); }
    for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
             {"list"}, {"enqueue", "k"}, {"stats"}, {"show", "1"}, {"dlq"}}) {
        CAPTURE(args.front());
        const ProcessResult r = fx.jobq(args);
        CHECK(r.exit_code == 1);
        CHECK(r.out.empty());
        CHECK(r.err.find("is not migrated; run 'jobq migrate' first") != std::string::npos);
    }
    jobq::SqliteStore store(fx.db().string());
    CHECK(store.schema_version() == 0);
}

TEST_CASE("--help lists the commands and exits 0 without opening a database") {
    CliFixture fx;
    for (const std::vector<std::string>& args :
         std::vector<std::vector<std::string>>{{"--help"}, {"-h"}, {"help"}}) {
        const ProcessResult r = fx.jobq_raw(args);
        CHECK(r.exit_code == 0);
        for (const char* command : {"migrate", "enqueue", "show", "list", "cancel", "retry",
                                    "delete", "dlq replay", "stats", "--db", "--json"}) {
            CHECK_MESSAGE(r.out.find(command) != std::string::npos, command);
        }
    }
    CHECK_FALSE(std::filesystem::exists(fx.dir() / "jobq.db"));
}

TEST_CASE("COMMAND --help and help COMMAND describe the command's options") {
    CliFixture fx;
    for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
             {"enqueue", "--help"}, {"help", "enqueue"}, {"enqueue", "k", "--bogus", "-h"}}) {
        const ProcessResult r = fx.jobq(args);
        CHECK(r.exit_code == 0);
        CHECK(r.out.starts_with("usage: jobq"));
        for (const char* option : {"--queue", "--priority", "--in", "--at", "--max-attempts",
                                   "--unique-key", "--tenant", "--tag", "--timeout"}) {
            CHECK_MESSAGE(r.out.find(option) != std::string::npos, option);
        }
    }
    const ProcessResult replay = fx.jobq({"dlq", "replay", "--help"});
    CHECK(replay.out.find("--all") != std::string::npos);
    CHECK_FALSE(std::filesystem::exists(fx.db()));
}

TEST_CASE("without --db the tool uses $JOBQ_DATABASE_URL") {
    CliFixture fx;
    jobq::test::ProcessOptions options;
    const auto db = fx.dir() / "from-env.db";
    options.env["JOBQ_DATABASE_URL"] = "sqlite://" + db.string();
    CHECK(fx.jobq_raw({"migrate"}, options).exit_code == 0);
    CHECK(std::filesystem::exists(db));
    CHECK_FALSE(std::filesystem::exists(fx.dir() / "jobq.db"));
}

TEST_CASE("without --db or $JOBQ_DATABASE_URL the tool uses ./jobq.db") {
    CliFixture fx;
    CHECK(fx.jobq_raw({"migrate"}).exit_code == 0);
    CHECK(std::filesystem::exists(fx.dir() / "jobq.db"));
}

TEST_CASE("--version prints the version") {
    CliFixture fx;
    const ProcessResult r = fx.jobq_raw({"--version"});
    CHECK(r.exit_code == 0);
    CHECK(r.out.starts_with("jobq "));
}

TEST_CASE("--db accepts a sqlite URL with options") {
    CliFixture fx;
    const std::string url = "sqlite://" + fx.db().string() + "?durability=normal";
    CHECK(fx.jobq_raw({"--db", url, "migrate"}).exit_code == 0);
    CHECK(fx.jobq_raw({"--db", url, "enqueue", "k"}).out == "enqueued job 1\n");
    CHECK(fx.count_jobs() == 1);
}

TEST_CASE("output that cannot be written is a failure, not a silent success") {
    CliFixture fx;
    fx.migrate();
    jobq::test::ProcessOptions full;
    full.stdout_path = "/dev/full";
    const ProcessResult list = fx.jobq_raw({"--db", fx.database(), "list"}, full);
    CHECK(list.exit_code == 1);
    CHECK(list.err.find("cannot write the output: No space left on device") != std::string::npos);
    const ProcessResult enqueue = fx.jobq_raw({"--db", fx.database(), "enqueue", "k"}, full);
    CHECK(enqueue.exit_code == 1);
    CHECK(enqueue.err.find("(the command itself succeeded)") != std::string::npos);
    CHECK(fx.count_jobs() == 1);  // the id was lost, the job was not
    const ProcessResult json = fx.jobq_raw({"--db", fx.database(), "--json", "stats"}, full);
    CHECK(json.exit_code == 1);
    CHECK(nlohmann::json::parse(json.err).at("error").at("code") == "output");
}

TEST_CASE("a --db path is a path: file: is not a URI, %00 and directories are refused") {
    CliFixture fx;
    // SQLite would read "file:q.db" as a URI for q.db; jobq opens the file it names.
    CHECK(fx.jobq_raw({"--db", "file:q.db", "migrate"}).exit_code == 0);
    CHECK(std::filesystem::exists(fx.dir() / "file:q.db"));
    CHECK_FALSE(std::filesystem::exists(fx.dir() / "q.db"));
    CHECK(fx.jobq_raw({"--db", "file:q.db", "enqueue", "k"}).exit_code == 0);
    CHECK(fx.jobq_raw({"--db", "file:q.db", "list"}).out.find(" k ") != std::string::npos);

    const ProcessResult nul = fx.jobq_raw({"--db", "sqlite:a%00b.db", "migrate"});
    CHECK(nul.exit_code == 2);
    CHECK(nul.err.find("%00 (a NUL byte)") != std::string::npos);
    CHECK_FALSE(std::filesystem::exists(fx.dir() / "a"));

    std::filesystem::create_directory(fx.dir() / "d");
    const ProcessResult dir = fx.jobq_raw({"--db", "d", "migrate"});
    CHECK(dir.exit_code == 1);
    CHECK(dir.err.find("open d: it is a directory") != std::string::npos);
}

TEST_CASE("a PostgreSQL URL libpq cannot parse is refused without showing its password") {
    CliFixture fx;
    for (const std::string& url : {std::string("postgresql://u:s3cret@[::1/db"),
                                   std::string("postgresql://u@[::1/db?password=s3cret")}) {
        const ProcessResult r = fx.jobq_raw({"--db", url, "list"});
        INFO(url, " -> ", r.err);
        CHECK(r.exit_code == 2);
        CHECK(r.err.find("not a valid PostgreSQL connection string") != std::string::npos);
        CHECK(r.err.find("s3cret") == std::string::npos);
    }
}
