// FailureNotifier: coalesced notices, counted in the store when the window closes and delivered
// by jobq.http to the test server, on a real Worker and SQLite file (the harness's manual clock
// cuts the windows, so a test moves time instead of waiting for it).

#include <cstdlib>
#include <string>

#include <doctest/doctest.h>

#include "harness.hpp"
#include "http_test_server.hpp"
#include "jobq/error.hpp"
#include "jobq/kinds/failure_notifier.hpp"
#include "jobq/kinds/http_kind.hpp"
#include "jobq/signals.hpp"

using namespace std::chrono_literals;
using jobq::Job;
using jobq::JobSpec;
using jobq::JobState;
using jobq::kinds::FailureNotifier;
using jobq::kinds::NotifierOptions;
using jobq::kinds::NotifyChannel;
using jobq::test::Harness;
using jobq::test::HttpTestServer;
using nlohmann::json;

namespace {

struct NotifyHarness : Harness {
    std::unique_ptr<FailureNotifier> notifier;

    NotifyHarness(HttpTestServer& server, NotifierOptions options) {
        // Start a second into a fresh minute, so a test's few seconds stay in one window.
        const auto minute = std::chrono::floor<std::chrono::minutes>(clock.now());
        clock.set(std::chrono::time_point_cast<jobq::Duration>(minute + 1min + 1s));
        options.clock = &clock;
        if (options.channels.empty()) {
            options.channels["ops"] = {NotifyChannel::Via::webhook, server.url("/echo"), "", {}};
            options.channels["chat"] = {NotifyChannel::Via::slack, server.url("/echo"), "", {}};
        }
        jobq::kinds::HttpOptions http;
        http.allow_hosts = {"127.0.0.1"};
        jobq::kinds::add_http_kind(registry, http);
        registry.add("charge",
                     [](jobq::JobContext&) -> json { throw jobq::Discard("card declined"); });
        registry.add("flaky", [](jobq::JobContext&) -> json {
            throw std::runtime_error("upstream timeout");
        });
        notifier = std::make_unique<FailureNotifier>(queue, std::move(options));
        notifier->add_to(registry);
        jobq::WorkerOptions w{.queues = {{"default", 10}}, .poll_interval = 20ms};
        notifier->attach(w);
        start(std::move(w));
    }

    std::vector<Job> jobs_of(const std::string& kind) {
        jobq::JobFilter f;
        f.kind = kind;
        f.limit = 1000;
        return queue.list(f).jobs;
    }

    // The notices enqueued so far, once there are `n` (they are enqueued without blocking the
    // worker, so a moment after the failure that caused them).
    std::vector<Job> notices(std::size_t n) {
        wait_until([&] { return jobs_of("jobq.notice").size() >= n; }, "the notices");
        return jobs_of("jobq.notice");
    }

    // Moves past every window the test used and waits for the notices and their deliveries.
    void close_windows() {
        clock.advance(1h);
        wait_until(
            [&] {
                for (const Job& n : jobs_of("jobq.notice")) {
                    if (n.state != JobState::completed) return false;
                }
                for (const Job& d : jobs_of("jobq.http")) {
                    if (d.state != JobState::completed) return false;
                }
                return true;
            },
            "every notice and delivery to complete");
    }
};

NotifierOptions rule(const std::string& kind, const std::string& channel, int after = 0) {
    NotifierOptions o;
    o.window = 1min;
    o.rules = {{kind, channel, after}};
    return o;
}

std::vector<json> received(HttpTestServer& server) {
    std::vector<json> bodies;
    const json stats = server.stats();
    for (const json& r : stats["requests"]) {
        bodies.push_back(json::parse(r["body"].get<std::string>()));
    }
    return bodies;
}

}  // namespace

TEST_CASE("a storm of discards of one kind becomes one notice with the count and first ids") {
    HttpTestServer server;
    NotifyHarness h(server, rule("charge", "ops"));
    std::vector<jobq::JobId> ids;
    for (int i = 0; i < 30; ++i)
        ids.push_back(h.queue.enqueue(JobSpec("charge").max_attempts(3)).id);
    for (auto id : ids) h.wait_for_state(id, JobState::discarded);
    const auto notices = h.notices(1);
    REQUIRE(notices.size() == 1);
    CHECK(notices[0].state == JobState::scheduled);  // due when the window closes
    CHECK(server.stats()["requests"].empty());

    h.close_windows();
    const auto bodies = received(server);
    REQUIRE(bodies.size() == 1);
    const json& notice = bodies[0];
    CHECK(notice["type"] == "jobq.notice");
    CHECK(notice["event"] == "discarded");
    CHECK(notice["kind"] == "charge");
    CHECK(notice["count"] == 30);
    CHECK(notice["job_ids"] == json(std::vector<jobq::JobId>(ids.begin(), ids.begin() + 5)));
    CHECK(notice["first_error"] == "card declined");
    CHECK(notice["text"].get<std::string>().find("30 jobs of kind charge were discarded") !=
          std::string::npos);
}

TEST_CASE("failures in two windows make two notices, other kinds none") {
    HttpTestServer server;
    NotifyHarness h(server, rule("charge", "ops"));
    const auto a = h.queue.enqueue(JobSpec("charge")).id;
    h.wait_for_state(a, JobState::discarded);
    h.clock.advance(2min);
    const auto b = h.queue.enqueue(JobSpec("charge")).id;
    const auto other = h.queue.enqueue(JobSpec("flaky").max_attempts(1)).id;
    h.wait_for_state(b, JobState::discarded);
    h.wait_for_state(other, JobState::discarded);
    CHECK(h.notices(2).size() == 2);
    h.close_windows();
    const auto bodies = received(server);
    REQUIRE(bodies.size() == 2);
    for (const json& n : bodies) {
        CHECK(n["kind"] == "charge");
        CHECK(n["count"] == 1);
    }
}

TEST_CASE("a job's tag sends its failures to another channel, or nowhere") {
    HttpTestServer server;
    NotifyHarness h(server, rule("*", "ops"));
    const auto quiet = h.queue.enqueue(JobSpec("charge").tag("notify:off")).id;
    h.wait_for_state(quiet, JobState::discarded);
    CHECK(h.jobs_of("jobq.notice").empty());
    const auto to_chat = h.queue.enqueue(JobSpec("flaky").max_attempts(1).tag("notify:chat")).id;
    h.wait_for_state(to_chat, JobState::discarded);
    CHECK(h.notices(1).size() == 1);  // the tagged one only: notify:off made none
    h.close_windows();
    const auto bodies = received(server);
    REQUIRE(bodies.size() == 1);
    // Slack's incoming-webhook shape: one "text" field.
    CHECK(bodies[0].size() == 1);
    CHECK(bodies[0]["text"].get<std::string>().find("1 job of kind flaky was discarded") !=
          std::string::npos);
}

TEST_CASE("a job failing its Nth attempt notifies when the rule asks for it") {
    HttpTestServer server;
    NotifyHarness h(server, rule("flaky", "ops", 2));
    const auto id =
        h.queue
            .enqueue(JobSpec("flaky").max_attempts(10).retry_policy(jobq::test::exact_policy(1s)))
            .id;
    h.wait_for_attempt_end(id, 1);
    CHECK(h.jobs_of("jobq.notice").empty());  // one failed attempt: not yet
    h.clock.advance(1s);
    h.wait_for_attempt_end(id, 2);
    REQUIRE(h.notices(1).size() == 1);
    h.queue.cancel(id);  // stop it failing; the notice counts what is still retrying
    const auto again =
        h.queue
            .enqueue(JobSpec("flaky").max_attempts(10).retry_policy(jobq::test::exact_policy(1s)))
            .id;
    h.wait_for_attempt_end(again, 1);
    h.clock.advance(1s);
    h.wait_for_attempt_end(again, 2);
    h.close_windows();
    const auto bodies = received(server);
    REQUIRE(bodies.size() == 1);
    CHECK(bodies[0]["event"] == "failing");
    CHECK(bodies[0]["first_job"] == id);
}

TEST_CASE("an e-mail channel's notice is delivered as a jobq.email job") {
    HttpTestServer server;
    NotifierOptions o = rule("charge", "mail");
    o.channels["mail"] = {NotifyChannel::Via::email, "", "", {"ops@example.com"}};
    NotifyHarness h(server, o);
    h.wait_for_state(h.queue.enqueue(JobSpec("charge")).id, JobState::discarded);
    h.clock.advance(1h);
    h.wait_until([&] { return h.jobs_of("jobq.email").size() == 1; }, "the e-mail delivery job");
    const Job mail = h.jobs_of("jobq.email")[0];
    CHECK(mail.payload["to"] == json::array({"ops@example.com"}));
    CHECK(mail.payload["subject"] == "[jobq] 1 charge job discarded");
}

TEST_CASE("notifier options are checked field by field") {
    jobq::Queue* no_queue = nullptr;
    auto refused = [&](NotifierOptions o) {
        jobq::test::TempDir dir;
        jobq::SqliteStore store((dir.path() / "q.db").string(),
                                jobq::SqliteOptions{.migrate = true});
        jobq::Queue queue(store);
        try {
            FailureNotifier n(queue, std::move(o));
        } catch (const jobq::Error& e) {
            return e.field();
        }
        FAIL("accepted");
        return std::string{};
    };
    (void)no_queue;
    NotifierOptions unknown = rule("x", "nowhere");
    CHECK(refused(unknown) == "rules[0].channel");
    NotifierOptions ftp = rule("x", "w");
    ftp.channels["w"] = {NotifyChannel::Via::webhook, "ftp://example.com/", "", {}};
    CHECK(refused(ftp) == "channels.w.url");
    NotifierOptions empty_mail = rule("x", "m");
    empty_mail.channels["m"] = {NotifyChannel::Via::email, "", "", {}};
    CHECK(refused(empty_mail) == "channels.m.to");
    NotifierOptions bad_mail = rule("x", "m");
    bad_mail.channels["m"] = {
        NotifyChannel::Via::email, "", "", {"ops@example.com", "not an address"}};
    CHECK(refused(bad_mail) == "channels.m.to[1]");
    NotifierOptions zero = rule("x", "m");
    zero.channels["m"] = {NotifyChannel::Via::email, "", "", {"a@b.c"}};
    zero.window = 0s;
    CHECK(refused(zero) == "window");
}

TEST_CASE("notifier options come from the environment") {
    ::setenv("JOBQ_NOTIFY_SLACK_URL", "https://hooks.slack.com/services/T/B/X", 1);
    ::setenv("JOBQ_NOTIFY_KINDS", "billing.charge, mail.send", 1);
    ::setenv("JOBQ_NOTIFY_WINDOW_S", "120", 1);
    const NotifierOptions o = jobq::kinds::notifier_options_from_env();
    ::setenv("JOBQ_NOTIFY_WINDOW_S", "0", 1);
    CHECK_THROWS_AS(jobq::kinds::notifier_options_from_env(), jobq::Error);
    ::unsetenv("JOBQ_NOTIFY_SLACK_URL");
    ::unsetenv("JOBQ_NOTIFY_KINDS");
    ::unsetenv("JOBQ_NOTIFY_WINDOW_S");
    REQUIRE(o.channels.count("slack"));
    CHECK(o.channels.at("slack").via == NotifyChannel::Via::slack);
    REQUIRE(o.rules.size() == 2);
    CHECK(o.rules[0].kind == "billing.charge");
    CHECK(o.rules[1].kind == "mail.send");
    CHECK(o.window == 120s);
}
