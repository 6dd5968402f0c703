// A SQLite database the user may not write (file 0444 in a 0555 directory): every reading
// command works, every writing command fails saying so, and nothing changes. As root the
// permissions would not bind, so the binary then runs as uid/gid 65534 under setpriv.

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "cli_fixture.hpp"

using jobq::JobId;
using jobq::OutcomeKind;
using jobq::test::CliFixture;
using jobq::test::ProcessOptions;
using jobq::test::ProcessResult;
namespace fs = std::filesystem;

namespace {

// Where the unprivileged runs start and leave their output: the case's directory is closed
// to them, so make this (writable by all) before closing it.
fs::path run_dir(const CliFixture& fx) {
    const fs::path dir = fx.dir() / "run";
    if (!fs::exists(dir)) {
        fs::create_directory(dir);
        fs::permissions(dir, fs::perms::all);
    }
    return dir;
}

// Runs `jobq --db DB ARGS...` as a user who cannot write the database.
ProcessResult jobq_unprivileged(const CliFixture& fx, const std::string& db,
                                const std::vector<std::string>& args) {
    std::vector<std::string> full{"--db", db};
    full.insert(full.end(), args.begin(), args.end());
    ProcessOptions options;
    options.work_dir = run_dir(fx);
    options.env.try_emplace("JOBQ_DATABASE_URL", std::nullopt);
    if (::geteuid() != 0) return jobq::test::run_process(jobq::test::jobq_binary(), full, options);
    std::vector<std::string> wrapped{"--reuid", "65534",          "--regid",
                                     "65534",   "--clear-groups", jobq::test::jobq_binary()};
    wrapped.insert(wrapped.end(), full.begin(), full.end());
    const std::string setpriv =
        fs::exists("/usr/bin/setpriv") ? "/usr/bin/setpriv" : "/bin/setpriv";
    return jobq::test::run_process(setpriv, wrapped, options);
}

// Makes the database file 0444 and its directory 0555 for the guard's life.
class ReadOnlyFiles {
  public:
    explicit ReadOnlyFiles(const CliFixture& fx) : fx_(fx) {
        // No process has the database open, so SQLite has merged and removed its log.
        REQUIRE_FALSE(fs::exists(fx_.db().string() + "-wal"));
        run_dir(fx_);
        REQUIRE(::chmod(fx_.db().c_str(), 0444) == 0);
        REQUIRE(::chmod(fx_.dir().c_str(), 0555) == 0);
    }
    ~ReadOnlyFiles() {
        ::chmod(fx_.dir().c_str(), 0700);
        ::chmod(fx_.db().c_str(), 0644);
    }
    ReadOnlyFiles(const ReadOnlyFiles&) = delete;
    ReadOnlyFiles& operator=(const ReadOnlyFiles&) = delete;

  private:
    const CliFixture& fx_;
};

bool says_read_only(const ProcessResult& r) {
    return r.exit_code == 1 && r.err.find("is open read-only") != std::string::npos &&
           r.err.find("this needs write access") != std::string::npos;
}

}  // namespace

TEST_CASE("a database the user may not write can be read; writes fail clearly and change nothing") {
    CliFixture fx;
    fx.migrate();
    const JobId waiting = fx.enqueue({"email.send", "--queue", "mail", "--tag", "t1"});
    const JobId dead = fx.enqueue({"report.build", "--queue", "reports"});
    fx.finish_attempts("reports", OutcomeKind::discard, "no such report");
    REQUIRE(fx.jobq({"limit", "set", "queue:mail", "--max-running", "3"}).exit_code == 0);
    REQUIRE(fx.jobq({"cron", "add", "nightly", "0 3 * * *", "report.build"}).exit_code == 0);
    const std::string before = fx.jobq({"--json", "list"}).out;
    const std::string db = fx.db().string();
    const std::string w = std::to_string(waiting);

    {
        ReadOnlyFiles guard(fx);

        struct Read {
            std::vector<std::string> args;
            std::string expect;  // text the output must contain
        };
        const std::vector<Read> reads{
            {{"list"}, "email.send"},
            {{"list", "--tag", "t1"}, "email.send"},
            {{"--json", "list"}, "\"jobs\""},
            {{"show", w}, "email.send"},
            {{"--json", "show", w}, "\"kind\": \"email.send\""},
            {{"stats"}, "reports"},
            {{"dlq"}, "no such report"},
            {{"--json", "dlq"}, std::to_string(dead)},
            {{"explain", w}, "no_worker"},
            {{"explain", "--summary"}, "no_worker"},
            {{"queue", "list"}, "mail"},
            {{"limit", "list"}, "queue:mail"},
            {{"cron", "list"}, "nightly"},
            {{"cron", "history", "nightly"}, ""},
            {{"migrate"}, "up to date"},
        };
        for (const Read& read : reads) {
            const ProcessResult r = jobq_unprivileged(fx, db, read.args);
            INFO("jobq ", read.args.front(), " ", read.args.size() > 1 ? read.args[1] : "", " -> ",
                 r.exit_code, " stdout: ", r.out, " stderr: ", r.err);
            CHECK(r.exit_code == 0);
            CHECK(r.out.find(read.expect) != std::string::npos);
        }

        const std::vector<std::vector<std::string>> writes{
            {"enqueue", "email.send"},
            {"cancel", w},
            {"retry", std::to_string(dead)},
            {"delete", w},
            {"dlq", "replay", "--all"},
            {"queue", "pause", "mail"},
            {"limit", "set", "queue:mail", "--max-running", "5"},
            {"limit", "remove", "queue:mail"},
            {"cron", "add", "hourly", "0 * * * *", "report.build"},
            {"cron", "pause", "nightly"},
            {"cron", "remove", "nightly"},
        };
        for (const auto& args : writes) {
            const ProcessResult r = jobq_unprivileged(fx, db, args);
            INFO("jobq ", args.front(), " ", args.size() > 1 ? args[1] : "", " -> ", r.exit_code,
                 " stderr: ", r.err);
            CHECK(says_read_only(r));
            CHECK(r.err.find("not writable by this process") != std::string::npos);
        }

        // --json: the same failure as a JSON object naming the code.
        const ProcessResult r = jobq_unprivileged(fx, db, {"--json", "enqueue", "email.send"});
        CHECK(r.exit_code == 1);
        const auto error = nlohmann::json::parse(r.err).at("error");
        CHECK(error.at("code") == "storage");
        CHECK(error.at("message").get<std::string>().find("read-only") != std::string::npos);

        // mode=rw refuses to open what it cannot write, and says how to read it instead.
        const ProcessResult rw = jobq_unprivileged(fx, "sqlite:" + db + "?mode=rw", {"list"});
        CHECK(rw.exit_code == 1);
        CHECK(rw.err.find("not writable by this process") != std::string::npos);
        CHECK(rw.err.find("mode=ro") != std::string::npos);

        // Nothing was left behind in the directory (no -wal or -shm from a failed write).
        std::vector<std::string> names;
        for (const auto& entry : fs::directory_iterator(fx.dir())) {
            names.push_back(entry.path().filename().string());
        }
        CHECK(names.size() == 2);  // jobs.db and run/
        for (const std::string& name : names) CHECK_FALSE(name.starts_with("jobs.db-"));
    }

    CHECK(fx.jobq({"--json", "list"}).out == before);
    CHECK(fx.json({"limit", "list"}).at("limits").dump().find("\"max_running\":3") !=
          std::string::npos);
}

TEST_CASE("a database whose directory alone is not writable is read, and writes say why not") {
    CliFixture fx;
    fx.migrate();
    const JobId id = fx.enqueue({"email.send"});
    // The file stays writable for its owner; only the directory (where SQLite keeps the
    // write-ahead log) is closed. As root the file is handed to the unprivileged user.
    if (::geteuid() == 0) REQUIRE(::chown(fx.db().c_str(), 65534, 65534) == 0);
    run_dir(fx);
    REQUIRE(::chmod(fx.dir().c_str(), 0555) == 0);
    const std::string db = fx.db().string();

    const ProcessResult list = jobq_unprivileged(fx, db, {"--json", "list"});
    CHECK(list.exit_code == 0);
    CHECK(nlohmann::json::parse(list.out).at("jobs").at(0).at("id") == id);
    const ProcessResult enqueue = jobq_unprivileged(fx, db, {"enqueue", "email.send"});
    CHECK(says_read_only(enqueue));
    CHECK(enqueue.err.find("directory") != std::string::npos);

    ::chmod(fx.dir().c_str(), 0700);
    if (::geteuid() == 0) REQUIRE(::chown(fx.db().c_str(), 0, 0) == 0);
    CHECK(fx.count_jobs() == 1);
}

TEST_CASE("mode=ro never writes, even to a database it could write") {
    CliFixture fx;
    fx.migrate();
    fx.enqueue({"email.send"});
    const std::string ro = "sqlite:" + fx.db().string() + "?mode=ro";
    const ProcessResult list = fx.jobq_raw({"--db", ro, "list"});
    CHECK(list.exit_code == 0);
    CHECK(list.out.find("email.send") != std::string::npos);
    const ProcessResult enqueue = fx.jobq_raw({"--db", ro, "enqueue", "email.send"});
    CHECK(says_read_only(enqueue));
    CHECK(enqueue.err.find("opened read-only") != std::string::npos);
    CHECK(fx.count_jobs() == 1);

    const ProcessResult bad = fx.jobq_raw({"--db", "sqlite:x.db?mode=readonly", "list"});
    CHECK(bad.exit_code == 2);
    CHECK(bad.err.find("mode: expected 'rw', 'ro' or 'auto' (got 'readonly')") !=
          std::string::npos);
}
