// jobq.http end to end: a real Worker on a real SQLite file sends real requests to the test
// server (servers/http_server.py) on loopback, which the worker's options allow unless a test
// is about the guard.

#include <dirent.h>

#include <chrono>
#include <string>

#include <doctest/doctest.h>

#include "curl_multi.hpp"
#include "harness.hpp"
#include "http_test_server.hpp"
#include "job_checks.hpp"
#include "jobq/kinds/http_kind.hpp"
#include "jobq/kinds/webhook_signature.hpp"
#include "test_certificate.hpp"

using namespace std::chrono_literals;
using jobq::Job;
using jobq::JobSpec;
using jobq::JobState;
using jobq::kinds::HttpOptions;
using jobq::test::contains;
using jobq::test::Harness;
using jobq::test::HttpTestServer;
using jobq::test::last_error;
using nlohmann::json;

namespace {

HttpOptions loopback_allowed() {
    HttpOptions o;
    o.allow_hosts = {"127.0.0.1", "localhost"};
    return o;
}

// A harness with jobq.http registered; one attempt per job unless a test says otherwise.
struct HttpHarness : Harness {
    explicit HttpHarness(HttpOptions options = loopback_allowed(), int concurrency = 10) {
        jobq::kinds::add_http_kind(registry, std::move(options));
        start({.queues = {{"default", concurrency}}, .poll_interval = 20ms, .blocking_threads = 1});
    }
    jobq::JobId enqueue(json payload, int attempts = 1) {
        return queue.enqueue(jobq::kinds::http_job(std::move(payload)).max_attempts(attempts)).id;
    }
    Job finished(jobq::JobId id) {
        return wait_for(id, [](const Job& j) {
            return j.state == JobState::completed || j.state == JobState::discarded ||
                   j.state == JobState::retryable || j.state == JobState::cancelled;
        });
    }
};

// `s` percent-encoded for a query parameter.
std::string escaped(const std::string& s) {
    char* e = curl_easy_escape(nullptr, s.c_str(), static_cast<int>(s.size()));
    std::string out(e);
    curl_free(e);
    return out;
}

int thread_count() {
    int n = 0;
    if (DIR* d = opendir("/proc/self/task")) {
        while (dirent* e = readdir(d)) n += e->d_name[0] != '.';
        closedir(d);
    }
    return n;
}

}  // namespace

TEST_CASE("a 2xx answer completes the job with status, headers, body and timings") {
    HttpTestServer server;
    HttpHarness h;
    const auto id = h.enqueue({{"url", server.url("/status/201?body=made")}});
    const Job job = h.finished(id);
    REQUIRE(job.state == JobState::completed);
    CHECK(job.result["status"] == 201);
    CHECK(job.result["reason"] == "Created");
    CHECK(job.result["body"] == "made");
    CHECK(job.result["body_truncated"] == false);
    CHECK(job.result["headers"]["content-type"] == "text/plain");
    CHECK(job.result["timings_ms"]["total"].get<double>() > 0);
    CHECK(job.result["redirects"] == 0);
}

TEST_CASE("a JSON body is sent as JSON and a text body as text, with the method and headers") {
    HttpTestServer server;
    HttpHarness h;
    const auto js = h.enqueue({{"url", server.url("/echo")},
                               {"method", "PUT"},
                               {"headers", {{"X-Trace", "abc"}}},
                               {"body", {{"order", 7}}}});
    const auto text = h.enqueue({{"url", server.url("/echo")}, {"body", "plain words"}});
    const Job a = h.finished(js);
    const Job b = h.finished(text);
    REQUIRE(a.state == JobState::completed);
    REQUIRE(b.state == JobState::completed);
    const json seen_a = json::parse(a.result["body"].get<std::string>());
    CHECK(seen_a["method"] == "PUT");
    CHECK(seen_a["headers"]["content-type"] == "application/json");
    CHECK(seen_a["headers"]["x-trace"] == "abc");
    CHECK(json::parse(seen_a["body"].get<std::string>()) == json{{"order", 7}});
    const json seen_b = json::parse(b.result["body"].get<std::string>());
    CHECK(seen_b["method"] == "POST");
    CHECK(seen_b["headers"]["content-type"] == "text/plain; charset=utf-8");
    CHECK(seen_b["body"] == "plain words");
}

TEST_CASE("a 4xx answer other than 408 and 429 discards the job with status and body") {
    HttpTestServer server;
    HttpHarness h;
    const auto id = h.enqueue({{"url", server.url("/status/422?body=field%20x%20bad")}}, 5);
    const Job job = h.finished(id);
    CHECK(job.state == JobState::discarded);
    CHECK(job.attempt == 1);
    CHECK(contains(last_error(job), "HTTP 422"));
    CHECK(contains(last_error(job), "field x bad"));
}

TEST_CASE("5xx, 408 and 429 answers fail the attempt and are retried") {
    HttpTestServer server;
    HttpHarness h;
    for (int code : {500, 503, 408, 429}) {
        CAPTURE(code);
        const auto id =
            h.enqueue({{"url", server.url("/status/" + std::to_string(code) + "?body=later")}}, 3);
        const Job job = h.finished(id);
        CHECK(job.state == JobState::retryable);
        CHECK(contains(last_error(job), "HTTP " + std::to_string(code)));
        CHECK(contains(last_error(job), "later"));
    }
}

TEST_CASE("a status the payload counts as success completes, others do not") {
    HttpTestServer server;
    HttpHarness h;
    const auto gone = h.enqueue(
        {{"url", server.url("/status/404")}, {"success_statuses", json::array({"2xx", 404})}});
    const auto only_201 =
        h.enqueue({{"url", server.url("/status/200")}, {"success_statuses", json::array({201})}});
    CHECK(h.finished(gone).state == JobState::completed);
    const Job job = h.finished(only_201);
    CHECK(job.state == JobState::discarded);
    CHECK(contains(last_error(job), "HTTP 200"));
}

TEST_CASE("Retry-After in seconds on a 429 sets the next run, capped by the worker") {
    HttpTestServer server;
    HttpOptions capped = loopback_allowed();
    capped.max_retry_after = 1h;
    HttpHarness h(capped);
    const auto soon = h.enqueue({{"url", server.url("/retry-after/429?value=120")}}, 3);
    const auto late = h.enqueue({{"url", server.url("/retry-after/429?value=999999")}}, 3);
    const Job a = h.finished(soon);
    const Job b = h.finished(late);
    REQUIRE(a.state == JobState::retryable);
    CHECK(a.run_at == h.clock.now() + 120s);
    CHECK(contains(last_error(a), "Retry-After: 120"));
    REQUIRE(b.state == JobState::retryable);
    CHECK(b.run_at == h.clock.now() + 1h);
}

TEST_CASE("Retry-After as an HTTP date on a 503 sets the next run") {
    HttpTestServer server;
    HttpHarness h;
    // An hour from now, as an IMF-fixdate.
    const std::time_t at = std::time(nullptr) + 3600;
    char date[64];
    std::strftime(date, sizeof date, "%a,%%20%d%%20%b%%20%Y%%20%H:%M:%S%%20GMT", std::gmtime(&at));
    const auto id =
        h.enqueue({{"url", server.url(std::string("/retry-after/503?value=") + date)}}, 3);
    const Job job = h.finished(id);
    REQUIRE(job.state == JobState::retryable);
    const auto wait = job.run_at - h.clock.now();
    CHECK(wait > 3500s);
    CHECK(wait <= 3600s);
}

TEST_CASE("a body longer than the limit is cut, marked, and not read further") {
    HttpTestServer server;
    HttpHarness h;
    const auto id =
        h.enqueue({{"url", server.url("/large?bytes=5000000")}, {"max_response_bytes", 1000}});
    const auto whole = h.enqueue({{"url", server.url("/large?bytes=1000")}});
    const Job job = h.finished(id);
    REQUIRE(job.state == JobState::completed);
    CHECK(job.result["body"].get<std::string>() == std::string(1000, 'x'));
    CHECK(job.result["body_truncated"] == true);
    const Job w = h.finished(whole);
    CHECK(w.result["body"].get<std::string>().size() == 1000);
    CHECK(w.result["body_truncated"] == false);
}

TEST_CASE("a body that is not text is kept as base64") {
    HttpTestServer server;
    HttpHarness h;
    const Job job = h.finished(h.enqueue({{"url", server.url("/binary")}}));
    REQUIRE(job.state == JobState::completed);
    CHECK_FALSE(job.result.contains("body"));
    CHECK(job.result["body_base64"] == "AP/+IGJpbmFyeSCA");
}

TEST_CASE("redirects are followed to the final answer, and not when told not to") {
    HttpTestServer server;
    HttpHarness h;
    const std::string target = server.url("/status/200?body=arrived");
    const std::string hop1 = server.url("/redirect?code=307&to=") + escaped(target);
    const auto followed = h.enqueue({{"url", hop1}});
    const auto not_followed = h.enqueue({{"url", hop1}, {"follow_redirects", false}});
    const Job a = h.finished(followed);
    REQUIRE(a.state == JobState::completed);
    CHECK(a.result["body"] == "arrived");
    CHECK(a.result["redirects"] == 1);
    CHECK(a.result["url"] == target);
    const Job b = h.finished(not_followed);
    CHECK(b.state == JobState::discarded);
    CHECK(contains(last_error(b), "follow_redirects"));
}

TEST_CASE("a redirect loop ends after the worker's hop limit") {
    HttpTestServer server;
    HttpOptions o = loopback_allowed();
    o.max_redirects = 3;
    HttpHarness h(o);
    const Job job = h.finished(h.enqueue({{"url", server.url("/loop")}}));
    CHECK(job.state == JobState::discarded);
    CHECK_MESSAGE(contains(last_error(job), "more than 3 times"), last_error(job));
}

TEST_CASE("a request that outlives its timeout fails the attempt as a timeout") {
    HttpTestServer server;
    HttpHarness h;
    const Job job = h.finished(h.enqueue({{"url", server.url("/hang")}, {"timeout_ms", 300}}, 2));
    CHECK(job.state == JobState::retryable);
    CHECK(contains(last_error(job), "timed out"));
}

TEST_CASE("a job's own timeout aborts the transfer at once") {
    HttpTestServer server;
    HttpHarness h;
    // The request itself would wait ten minutes; the job allows 300 ms.
    const auto id =
        h.queue
            .enqueue(jobq::kinds::http_job({{"url", server.url("/hang")}, {"timeout_ms", 600000}})
                         .timeout(300ms)
                         .max_attempts(1))
            .id;
    const Job job = h.finished(id);
    CHECK(job.state == JobState::discarded);
    CHECK(job.errors.back().kind == "timeout");
    // The server sees the connection closed: the transfer was aborted, not left hanging.
    h.wait_until([&] { return server.stats()["open"].get<int>() <= 1; },
                 "the server to see the "
                 "connection closed");
}

TEST_CASE("cancelling a running job aborts its transfer") {
    HttpTestServer server;
    HttpHarness h;
    const auto id = h.enqueue({{"url", server.url("/hang")}, {"timeout_ms", 600000}});
    h.wait_for_state(id, JobState::running);
    h.wait_until([&] { return server.stats()["requests"].size() == 1; }, "the request to arrive");
    h.queue.cancel(id);
    const Job job = h.finished(id);
    CHECK(job.state == JobState::cancelled);
    h.wait_until([&] { return server.stats()["open"].get<int>() <= 1; },
                 "the server to see the connection closed");
}

TEST_CASE("signed requests carry Standard Webhooks headers the server can verify") {
    const std::string secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    HttpTestServer server({"--secret", secret});
    HttpOptions o = loopback_allowed();
    o.secrets["orders"] = secret;
    HttpHarness h(o);
    const auto id = h.enqueue({{"url", server.url("/echo")},
                               {"body", {{"event", "order.paid"}}},
                               {"signing_secret", "Orders"}});
    const Job job = h.finished(id);
    REQUIRE(job.state == JobState::completed);
    const json seen = json::parse(job.result["body"].get<std::string>());
    CHECK(seen["signature_valid"] == true);
    CHECK(seen["headers"]["webhook-id"] == "msg_" + std::to_string(id));
    // The secret itself is nowhere in the stored job.
    CHECK_FALSE(contains(jobq::to_json(job).dump(), "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"));
}

TEST_CASE("a payload naming a secret the worker does not hold is discarded, saying which") {
    HttpTestServer server;
    HttpHarness h;
    const Job job =
        h.finished(h.enqueue({{"url", server.url("/echo")}, {"signing_secret", "billing"}}, 3));
    CHECK(job.state == JobState::discarded);
    CHECK(contains(last_error(job), "JOBQ_WEBHOOK_SECRET_BILLING"));
    CHECK(server.stats()["requests"].empty());
}

TEST_CASE("a bad payload that reached the store is discarded with its field") {
    HttpHarness h;
    const auto id =
        h.queue.enqueue(JobSpec("jobq.http", {{"url", "ftp://example.com/"}}).max_attempts(5)).id;
    const Job job = h.finished(id);
    CHECK(job.state == JobState::discarded);
    CHECK(contains(last_error(job), "(url)"));
    CHECK(contains(last_error(job), "http or https"));
}

TEST_CASE("loopback is refused unless allowed, by address and by a name resolving to it") {
    HttpTestServer server;
    HttpHarness h(HttpOptions{});
    const Job by_address = h.finished(h.enqueue({{"url", server.url("/echo")}}, 3));
    CHECK(by_address.state == JobState::discarded);
    CHECK(contains(last_error(by_address), "127.0.0.1 (loopback)"));
    const Job by_name = h.finished(
        h.enqueue({{"url", "http://localhost:" + std::to_string(server.port()) + "/echo"}}, 3));
    CHECK(by_name.state == JobState::discarded);
    CHECK(contains(last_error(by_name), "loopback"));
    CHECK(server.stats()["requests"].empty());
}

TEST_CASE("private, link-local and metadata addresses are refused before connecting") {
    HttpHarness h(HttpOptions{});
    for (const char* url : {"http://169.254.169.254/latest/meta-data/", "http://10.0.0.1/",
                            "http://192.168.0.1:8080/", "http://[::1]/", "http://[fd00:ec2::254]/",
                            "http://0.0.0.0/"}) {
        CAPTURE(url);
        const Job job = h.finished(h.enqueue({{"url", url}}, 3));
        CHECK(job.state == JobState::discarded);
        CHECK(contains(last_error(job), "refused to connect"));
    }
}

TEST_CASE("a redirect to an internal address is refused at that hop") {
    HttpTestServer server;
    HttpOptions o;
    o.allow_hosts = {"localhost"};  // the first hop, by name; not 127.0.0.1 itself
    HttpHarness h(o);
    const std::string inner = server.url("/status/200?body=secret");
    const std::string start =
        "http://localhost:" + std::to_string(server.port()) + "/redirect?to=" + escaped(inner);
    const Job job = h.finished(h.enqueue({{"url", start}}, 3));
    CHECK(job.state == JobState::discarded);
    CHECK(contains(last_error(job), "127.0.0.1 (loopback)"));
    const json seen = server.stats()["requests"];
    REQUIRE(seen.size() == 1);  // the redirect, and never the internal target
    CHECK(contains(seen[0]["path"].get<std::string>(), "/redirect"));
}

TEST_CASE("a redirect to another scheme is not followed") {
    HttpTestServer server;
    HttpHarness h;
    const Job job = h.finished(
        h.enqueue({{"url", server.url("/redirect?to=file%3A%2F%2F%2Fetc%2Fpasswd")}}, 3));
    CHECK(job.state == JobState::discarded);
    CHECK(contains(last_error(job), "only http and https"));
}

TEST_CASE("credentials do not follow a redirect to another origin") {
    HttpTestServer server;
    HttpHarness h;
    const std::string other = "http://localhost:" + std::to_string(server.port()) + "/echo";
    const Job job =
        h.finished(h.enqueue({{"url", server.url("/redirect?to=") + escaped(other)},
                              {"headers", {{"Authorization", "Bearer t0k3n"}, {"X-Keep", "1"}}}}));
    REQUIRE(job.state == JobState::completed);
    const json seen = json::parse(job.result["body"].get<std::string>());
    CHECK_FALSE(seen["headers"].contains("authorization"));
    CHECK(seen["headers"]["x-keep"] == "1");
}

TEST_CASE("TLS is verified: an unknown certificate fails the attempt, a trusted one passes") {
    const auto& cert = jobq::test::test_certificate();
    HttpTestServer server({"--cert", cert.cert, "--key", cert.key});
    {
        HttpHarness h;
        const Job job = h.finished(h.enqueue({{"url", server.url("/status/200", "https")}}, 3));
        CHECK(job.state == JobState::retryable);
        CHECK(contains(last_error(job), "certificate"));
    }
    HttpOptions o = loopback_allowed();
    o.ca_file = cert.cert;
    HttpHarness h(o);
    const Job job = h.finished(h.enqueue({{"url", server.url("/status/200?body=tls", "https")}}));
    CHECK(job.state == JobState::completed);
    CHECK(job.result["body"] == "tls");
}

TEST_CASE("a refused connection fails the attempt and is retried") {
    int port = 0;
    {
        HttpTestServer gone;  // a port nobody listens on once it is gone
        port = gone.port();
    }
    HttpHarness h;
    const Job job =
        h.finished(h.enqueue({{"url", "http://127.0.0.1:" + std::to_string(port) + "/"}}, 3));
    CHECK(job.state == JobState::retryable);
    CHECK(contains(last_error(job), "failed"));
}

TEST_CASE("500 requests are in flight at once on the worker's few threads") {
    HttpTestServer server;
    constexpr int n = 500;
    HttpHarness h(loopback_allowed(), n);
    std::vector<jobq::JobId> ids;
    std::vector<JobSpec> specs;
    for (int i = 0; i < n; ++i) {
        specs.push_back(jobq::kinds::http_job(
            {{"url", server.url("/hold?n=" + std::to_string(n))}, {"timeout_ms", 600000}}));
    }
    for (const auto& r : h.queue.enqueue_many(specs)) ids.push_back(r.id);
    int most_threads = 0;
    h.wait_until(
        [&] {
            most_threads = std::max(most_threads, thread_count());
            return server.stats()["max_held"].get<int>() >= n;
        },
        "all requests to be held by the server at once");
    for (auto id : ids) CHECK(h.finished(id).state == JobState::completed);
    MESSAGE("threads in the test process while 500 requests were in flight: " << most_threads);
    // The io thread, the worker's store threads, one handler thread: not one per request.
    CHECK(most_threads < 32);
}
