// parse_http_request and http_job: the jobq.http payload, and every refusal naming its field.

#include <cstdlib>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "jobq/error.hpp"
#include "jobq/kinds/http_options.hpp"
#include "jobq/kinds/http_request.hpp"

using namespace jobq::kinds;
using nlohmann::json;

namespace {

// The field a payload is refused for (fails the test when it is accepted).
std::string refused_field(const json& payload) {
    try {
        (void)parse_http_request(payload);
    } catch (const jobq::Error& e) {
        CHECK(e.code() == jobq::ErrorCode::invalid_argument);
        return e.field();
    }
    FAIL("accepted " << payload.dump());
    return {};
}

}  // namespace

TEST_CASE("a payload with only a url is a GET expecting 2xx, following redirects") {
    const HttpRequest r = parse_http_request({{"url", "https://example.com/hook"}});
    CHECK(r.method == "GET");
    CHECK(r.url == "https://example.com/hook");
    CHECK_FALSE(r.body);
    CHECK(r.success == std::vector<StatusRange>{{200, 299}});
    CHECK(r.follow_redirects);
    CHECK_FALSE(r.timeout);
}

TEST_CASE("a body makes a POST; a string is text and other JSON is sent as JSON") {
    const HttpRequest text = parse_http_request({{"url", "http://h/"}, {"body", "hi"}});
    CHECK(text.method == "POST");
    CHECK(text.body == "hi");
    CHECK_FALSE(text.body_is_json);
    const HttpRequest js =
        parse_http_request({{"url", "http://h/"}, {"method", "put"}, {"body", {{"a", 1}}}});
    CHECK(js.method == "PUT");
    CHECK(js.body == R"({"a":1})");
    CHECK(js.body_is_json);
}

TEST_CASE("success statuses take codes and classes") {
    const HttpRequest r = parse_http_request(
        {{"url", "http://h/"}, {"success_statuses", json::array({204, "4xx", "3XX"})}});
    CHECK(r.success == std::vector<StatusRange>{{204, 204}, {400, 499}, {300, 399}});
}

TEST_CASE("every bad field is refused by name") {
    const json ok = {{"url", "http://h/"}};
    auto with = [&](const char* key, json v) {
        json p = ok;
        p[key] = std::move(v);
        return p;
    };
    CHECK(refused_field(json::object()) == "url");
    CHECK(refused_field(json::array()) == "payload");
    CHECK(refused_field({{"url", "ftp://h/"}}) == "url");
    CHECK(refused_field({{"url", "file:///etc/passwd"}}) == "url");
    CHECK(refused_field({{"url", "gopher://h:70/"}}) == "url");
    CHECK(refused_field({{"url", "http://h/a b"}}) == "url");
    CHECK(refused_field({{"url", "/relative"}}) == "url");
    CHECK(refused_field({{"url", 5}}) == "url");
    CHECK(refused_field({{"url", "http://h/" + std::string(9000, 'a')}}) == "url");
    CHECK(refused_field(with("method", "TRACE")) == "method");
    CHECK(refused_field(with("method", "GET\r\nX: y")) == "method");
    CHECK(refused_field(with("headers", {{"X-Ok", "a\r\nInjected: 1"}})) == "headers.X-Ok");
    CHECK(refused_field(with("headers", {{"Bad Name", "v"}})) == "headers.Bad Name");
    CHECK(refused_field(with("headers", {{"X-Esc", "a\x1b" "b"}})) == "headers.X-Esc");
    CHECK(refused_field(with("headers", {{"X-Del", "a\x7f"}})) == "headers.X-Del");
    CHECK(refused_field(with("headers", {{"x-a", "1"}, {"X-A", "2"}})) == "headers.x-a");
    CHECK(refused_field({{"url", "http://user:secret@h/"}}) == "url");
    CHECK(refused_field(with("headers", {{"Content-Length", "5"}})) == "headers.Content-Length");
    CHECK(refused_field(with("headers", {{"Transfer-Encoding", "chunked"}})) ==
          "headers.Transfer-Encoding");
    CHECK(refused_field(with("headers", {{"Host", "evil"}})) == "headers.Host");
    CHECK(refused_field(with("headers", {{"X-N", 5}})) == "headers.X-N");
    CHECK(refused_field(with("headers", "x")) == "headers");
    CHECK(refused_field(with("timeout_ms", 0)) == "timeout_ms");
    CHECK(refused_field(with("timeout_ms", "5")) == "timeout_ms");
    CHECK(refused_field(with("success_statuses", json::array())) == "success_statuses");
    CHECK(refused_field(with("success_statuses", json::array({200, 700}))) ==
          "success_statuses[1]");
    CHECK(refused_field(with("success_statuses", json::array({"2xy"}))) == "success_statuses[0]");
    CHECK(refused_field(with("follow_redirects", "yes")) == "follow_redirects");
    CHECK(refused_field(with("max_response_bytes", -1)) == "max_response_bytes");
    CHECK(refused_field(with("response_headers", json::array({"ok", "not ok"}))) ==
          "response_headers[1]");
    CHECK(refused_field(with("signing_secret", "")) == "signing_secret");
    CHECK(refused_field(with("signing_secret", "whsec_abc=")) == "signing_secret");
    CHECK(refused_field(with("webhook_id", "a.b")) == "webhook_id");
    CHECK(refused_field(with("surprise", 1)) == "surprise");
    json head = with("method", "HEAD");
    head["body"] = "x";
    CHECK(refused_field(head) == "body");
    json signed_with_header = with("signing_secret", "orders");
    signed_with_header["headers"] = {{"Webhook-Id", "mine"}};
    CHECK(refused_field(signed_with_header) == "headers.Webhook-Id");
}

TEST_CASE("http_job checks the payload before anything is enqueued") {
    CHECK_THROWS_AS(http_job({{"url", "ftp://h/"}}), jobq::Error);
    const jobq::JobSpec spec = http_job({{"url", "https://example.com/"}});
    CHECK(spec.kind() == "jobq.http");
    CHECK(spec.payload()["url"] == "https://example.com/");
}

TEST_CASE("HttpOptions come from the environment, and a bad variable is named") {
    ::setenv("JOBQ_HTTP_ALLOW_HOSTS", " hooks.internal, 10.0.0.0/8 ,", 1);
    ::setenv("JOBQ_WEBHOOK_SECRET_ORDERS", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", 1);
    ::setenv("JOBQ_HTTP_TIMEOUT_MS", "2500", 1);
    const jobq::kinds::HttpOptions o = jobq::kinds::http_options_from_env();
    CHECK(o.allow_hosts == std::vector<std::string>{"hooks.internal", "10.0.0.0/8"});
    CHECK(o.secrets.at("orders") == "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
    CHECK(o.default_timeout == std::chrono::milliseconds{2500});
    auto refused_variable = [] {
        try {
            (void)jobq::kinds::http_options_from_env();
        } catch (const jobq::Error& e) {
            return e.field();
        }
        return std::string("accepted");
    };
    ::setenv("JOBQ_HTTP_TIMEOUT_MS", "soon", 1);
    CHECK(refused_variable() == "JOBQ_HTTP_TIMEOUT_MS");
    ::unsetenv("JOBQ_HTTP_TIMEOUT_MS");
    ::setenv("JOBQ_HTTP_ALLOW_HOSTS", "10.0.0.0/99", 1);
    CHECK(refused_variable() == "JOBQ_HTTP_ALLOW_HOSTS");
    ::unsetenv("JOBQ_HTTP_ALLOW_HOSTS");
    ::setenv("JOBQ_WEBHOOK_SECRET_ORDERS", "whsec_!!", 1);
    CHECK(refused_variable() == "secrets.orders");
    ::unsetenv("JOBQ_WEBHOOK_SECRET_ORDERS");
}
