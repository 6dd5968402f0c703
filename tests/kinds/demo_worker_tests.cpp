// The built-in kinds through the programs, as a user meets them: `jobq enqueue jobq.http ...`
// on a fresh database, then a demo_worker configured only by JOBQ_* variables delivers it.

#include <cstdlib>

#include <doctest/doctest.h>

#include "http_test_server.hpp"
#include "jobq/sqlite/sqlite_store.hpp"
#include "process_harness.hpp"

using jobq::JobState;
using jobq::itest::ChildProcess;
using jobq::itest::WorkerProcess;
using jobq::test::HttpTestServer;
using nlohmann::json;

namespace {

// Runs the jobq CLI to its end; returns its stdout.
std::string run_cli(const std::filesystem::path& dir, const std::string& name,
                    std::vector<std::string> args, int expected_status = 0) {
    args.insert(args.begin(), JOBQ_CLI);
    ChildProcess cli(dir, name, std::move(args), {.null_stdin = true});
    const int status = cli.wait_exit();
    INFO(cli.describe());
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == expected_status);
    return cli.stdout_text();
}

// Sets an environment variable for the children started while it lives.
struct ScopedEnv {
    std::string name;
    ScopedEnv(std::string n, const std::string& value) : name(std::move(n)) {
        ::setenv(name.c_str(), value.c_str(), 1);
    }
    ~ScopedEnv() { ::unsetenv(name.c_str()); }
};

}  // namespace

TEST_CASE("jobq enqueue jobq.http, then a demo_worker configured by JOBQ_* delivers it signed") {
    const std::string secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    HttpTestServer server({"--secret", secret});
    jobq::test::TempDir dir;
    const std::string db = (dir.path() / "jobs.db").string();
    run_cli(dir.path(), "migrate", {"--db", db, "migrate"});
    run_cli(dir.path(), "enqueue",
            {"--db", db, "enqueue", "jobq.http",
             json{{"url", server.url("/echo")},
                  {"body", {{"event", "signup"}}},
                  {"signing_secret", "hooks"}}
                 .dump()});

    ScopedEnv allow("JOBQ_HTTP_ALLOW_HOSTS", "127.0.0.1");
    ScopedEnv key("JOBQ_WEBHOOK_SECRET_HOOKS", secret);
    WorkerProcess worker(dir.path(), "worker", {"--db", db, "--poll-ms", "50"});
    worker.wait_ready();
    CHECK(worker.stdout_text().find("builtin=jobq.http") != std::string::npos);

    jobq::SqliteStore store(db);
    jobq::itest::wait_until(
        [&] {
            auto job = store.get(1);
            return job && job->state == JobState::completed;
        },
        "the jobq.http job to complete", [&] { return worker.describe(); });
    const json seen = json::parse(store.get(1)->result["body"].get<std::string>());
    CHECK(seen["signature_valid"] == true);
    CHECK(json::parse(seen["body"].get<std::string>()) == json{{"event", "signup"}});
    worker.stop_gracefully();
}

TEST_CASE("demo_worker refuses a bad JOBQ_HTTP_ALLOW_HOSTS and names it") {
    jobq::test::TempDir dir;
    const std::string db = (dir.path() / "jobs.db").string();
    ScopedEnv allow("JOBQ_HTTP_ALLOW_HOSTS", "10.0.0.0/99");
    WorkerProcess worker(dir.path(), "worker", {"--db", db});
    const int status = worker.wait_exit();
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 2);
    CHECK(worker.stderr_text().find("JOBQ_HTTP_ALLOW_HOSTS") != std::string::npos);
}

TEST_CASE("jobq enqueue refuses a bad jobq.http payload by field and writes nothing") {
    jobq::test::TempDir dir;
    const std::string db = (dir.path() / "jobs.db").string();
    run_cli(dir.path(), "migrate", {"--db", db, "migrate"});
    for (const auto& [payload, field] : std::vector<std::pair<json, std::string>>{
             {{{"url", "file:///etc/passwd"}}, "payload.url"},
             {{{"url", "http://h/"}, {"headers", {{"X", "a\r\nB: c"}}}}, "payload.headers.X"},
             {{{"url", "http://h/"}, {"timeout", 5}}, "payload.timeout"}}) {
        (void)field;
        std::vector<std::string> args{"--db", db, "enqueue", "jobq.http", payload.dump()};
        args.insert(args.begin(), JOBQ_CLI);
        ChildProcess cli(dir.path(), "bad", std::move(args), {.null_stdin = true});
        const int status = cli.wait_exit();
        REQUIRE(WIFEXITED(status));
        CHECK(WEXITSTATUS(status) == 2);
        CHECK(cli.stderr_text().find("jobq.http") != std::string::npos);
    }
    // jobq.email too: an injected header in the subject is refused before anything is written.
    std::vector<std::string> mail{
        JOBQ_CLI,
        "--db",
        db,
        "enqueue",
        "jobq.email",
        json{{"to", "a@example.com"}, {"subject", "hi\r\nBcc: x@evil.example"}, {"text", "t"}}
            .dump()};
    ChildProcess cli(dir.path(), "bad-mail", std::move(mail), {.null_stdin = true});
    const int status = cli.wait_exit();
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 2);
    CHECK(cli.stderr_text().find("jobq.email") != std::string::npos);
    jobq::SqliteStore store(db);
    CHECK(store.list({}).jobs.empty());
}
