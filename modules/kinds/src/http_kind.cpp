// jobq.http (http_kind.hpp): one HTTP request per attempt on the kind's shared CurlMulti, every
// connection checked by the AddressGuard, redirects followed here (not by libcurl) so each hop
// is checked and bounded like the first request.

#include "jobq/kinds/http_kind.hpp"

#include <curl/curl.h>
#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <stdexcept>

#include <fmt/format.h>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/this_coro.hpp>
#include <nlohmann/json.hpp>

#include "address_guard.hpp"
#include "ascii.hpp"
#include "curl_multi.hpp"
#include "easy_handle.hpp"
#include "http_response.hpp"
#include "jobq/error.hpp"
#include "jobq/kinds/webhook_signature.hpp"
#include "jobq/signals.hpp"
#include "jobq/time_format.hpp"

namespace asio = boost::asio;
using nlohmann::json;

namespace jobq::kinds {

namespace {

// What the socket-opening callback needs for one hop: the guard, the URL's host, and where to
// say why it refused.
struct HopGuard {
    const AddressGuard* guard = nullptr;
    std::string host;
    std::vector<std::string> refusals;
};

curl_socket_t open_socket(void* p, curlsocktype purpose, curl_sockaddr* address) {
    auto* hop = static_cast<HopGuard*>(p);
    if (purpose == CURLSOCKTYPE_IPCXN) {
        std::string why = hop->guard->refusal(&address->addr, hop->host);
        if (!why.empty()) {
            hop->refusals.push_back(std::move(why));
            return CURL_SOCKET_BAD;  // curl tries the host's next address, if it has one
        }
    }
    return ::socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
}

struct UrlParts {
    std::string scheme, host, port;
};

// Parts of an absolute URL, or nullopt when curl cannot parse it.
std::optional<UrlParts> parts_of(const std::string& url) {
    std::unique_ptr<CURLU, decltype(&curl_url_cleanup)> u(curl_url(), &curl_url_cleanup);
    if (!u || curl_url_set(u.get(), CURLUPART_URL, url.c_str(), 0) != CURLUE_OK) {
        return std::nullopt;
    }
    UrlParts out;
    auto get = [&](CURLUPart part, std::string& into, unsigned flags) {
        char* v = nullptr;
        if (curl_url_get(u.get(), part, &v, flags) == CURLUE_OK && v) into = ascii_lower(v);
        curl_free(v);
    };
    get(CURLUPART_SCHEME, out.scheme, 0);
    get(CURLUPART_HOST, out.host, 0);
    get(CURLUPART_PORT, out.port, CURLU_DEFAULT_PORT);
    // The guard compares bare addresses: "[::1]" is "::1".
    if (out.host.size() > 2 && out.host.front() == '[' && out.host.back() == ']') {
        out.host = out.host.substr(1, out.host.size() - 2);
    }
    return out;
}

bool is_redirect(long status) {
    return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

bool retryable_status(long status) {
    return status == 408 || status == 429 || (status >= 500 && status <= 599);
}

double ms_of(CURL* easy, CURLINFO info) {
    curl_off_t us = 0;
    curl_easy_getinfo(easy, info, &us);
    return static_cast<double>(us) / 1000.0;
}

std::string describe(const std::string& method, const std::string& url) {
    return fmt::format("{} {}", method, printable(url));
}

class HttpKind {
  public:
    explicit HttpKind(HttpOptions options)
        : options_(std::move(options)), guard_(options_.allow_hosts) {}

    asio::awaitable<json> run(JobContext& ctx);

  private:
    HttpOptions options_;
    AddressGuard guard_;
    LazyMulti multi_;
};

asio::awaitable<json> HttpKind::run(JobContext& ctx) {
    HttpRequest req;
    try {
        req = parse_http_request(ctx.payload());
    } catch (const Error& e) {
        // Retrying cannot fix the payload: straight to the dead-letter queue, saying why.
        throw Discard(fmt::format("invalid jobq.http payload ({}): {}", e.field(), e.what()));
    }
    const Duration timeout = req.timeout.value_or(options_.default_timeout);
    if (timeout > options_.max_timeout) {
        throw Discard(
            fmt::format("timeout_ms {} exceeds this worker's limit of {}",
                        std::chrono::duration_cast<std::chrono::milliseconds>(timeout).count(),
                        format_duration(options_.max_timeout)));
    }
    const std::size_t keep_bytes = req.max_response_bytes.value_or(options_.max_response_bytes);
    if (keep_bytes > options_.max_response_bytes_limit) {
        throw Discard(fmt::format("max_response_bytes {} exceeds this worker's limit of {}",
                                  keep_bytes, options_.max_response_bytes_limit));
    }
    std::vector<std::string> signing_headers;
    if (!req.signing_secret.empty()) {
        auto it = options_.secrets.find(req.signing_secret);
        if (it == options_.secrets.end()) {
            throw Discard(fmt::format(
                "this worker holds no signing secret named '{}' (HttpOptions::secrets, or "
                "JOBQ_WEBHOOK_SECRET_{})",
                req.signing_secret, [&] {
                    std::string up = req.signing_secret;
                    for (char& c : up)
                        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
                    return up;
                }()));
        }
        // The id stays the same on every attempt, so the receiver can drop a repeat; the
        // timestamp is this attempt's, as receivers reject old ones.
        const std::string id =
            req.webhook_id.empty() ? fmt::format("msg_{}", ctx.id()) : req.webhook_id;
        const std::int64_t ts = std::chrono::duration_cast<std::chrono::seconds>(
                                    std::chrono::system_clock::now().time_since_epoch())
                                    .count();
        signing_headers = {
            "webhook-id: " + id, fmt::format("webhook-timestamp: {}", ts),
            "webhook-signature: " + webhook_signature(it->second, id, ts, req.body.value_or(""))};
    }
    std::vector<std::string> keep(std::begin(default_response_headers),
                                  std::end(default_response_headers));
    keep.insert(keep.end(), req.response_headers.begin(), req.response_headers.end());

    const asio::any_io_executor executor = co_await asio::this_coro::executor;
    const std::shared_ptr<CurlMulti> multi = multi_.get(executor);
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::string url = req.url;
    std::string method = req.method;
    std::optional<std::string> body = req.body;
    bool json_body = req.body_is_json;
    auto headers = req.headers;
    std::optional<UrlParts> first;  // the origin of the request as given: the first hop's

    for (int hop = 0;; ++hop) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            throw std::runtime_error(
                fmt::format("{} timed out after {} (while following "
                            "redirects)",
                            describe(method, url), format_duration(timeout)));
        }
        const auto here = parts_of(url);
        if (hop == 0) first = here;
        HopGuard hop_guard{&guard_, here ? here->host : std::string{}, {}};
        ResponseCollector resp;
        resp.limit = keep_bytes;
        resp.keep = keep;
        char errbuf[CURL_ERROR_SIZE] = {};

        EasyHandle easy = make_easy();
        CURL* e = easy.get();
        curl_easy_setopt(e, CURLOPT_URL, url.c_str());
        curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
        curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
        // No proxy from the environment: the guard must see the real destination's address.
        curl_easy_setopt(e, CURLOPT_PROXY, "");
        curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, &open_socket);
        curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, &hop_guard);
        curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, static_cast<long>(left.count()));
        curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
                         static_cast<long>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                               options_.connect_timeout)
                                               .count()));
        curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, &ResponseCollector::on_header);
        curl_easy_setopt(e, CURLOPT_HEADERDATA, &resp);
        curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &ResponseCollector::on_body);
        curl_easy_setopt(e, CURLOPT_WRITEDATA, &resp);
        curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf);
        curl_easy_setopt(e, CURLOPT_USERAGENT, options_.user_agent.c_str());
        // Any encoding libcurl can decode; the body limit applies to the decoded bytes, so a
        // compressed bomb is cut like any other long body.
        curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
        if (!options_.ca_file.empty())
            curl_easy_setopt(e, CURLOPT_CAINFO, options_.ca_file.c_str());
        if (method == "HEAD") {
            curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
        } else if (method == "GET" && !body) {
            curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
        } else {
            if (method != "POST") curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method.c_str());
            const std::string& bytes = body ? *body : std::string{};
            if (body || method == "POST") {
                curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
                                 static_cast<curl_off_t>(bytes.size()));
                curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS, bytes.c_str());
            }
        }
        Slist header_list;
        bool has_content_type = false;
        for (const auto& [name, value] : headers) {
            if (ascii_lower(name) == "content-type") has_content_type = true;
            // "Name:" alone would tell libcurl to drop the header; "Name;" sends it empty.
            append(header_list, value.empty() ? name + ";" : name + ": " + value);
        }
        if (body && !has_content_type) {
            append(header_list, json_body ? "Content-Type: application/json"
                                          : "Content-Type: text/plain; charset=utf-8");
        }
        append(header_list, "Expect:");  // no 100-continue round trip before the body
        for (const auto& h : signing_headers) append(header_list, h);
        curl_easy_setopt(e, CURLOPT_HTTPHEADER, header_list.get());

        const CURLcode code = co_await multi->perform(e);

        if (code != CURLE_OK && !(code == CURLE_WRITE_ERROR && resp.truncated)) {
            const std::string detail = errbuf[0] ? printable(errbuf) : curl_easy_strerror(code);
            if (!hop_guard.refusals.empty()) throw Discard(hop_guard.refusals.front());
            // A malformed URL stays malformed. (CURLE_UNSUPPORTED_PROTOCOL is retried: the
            // scheme was checked already, and libcurl also reports a reused connection that a
            // bad earlier response left garbage on as "HTTP/0.9 not allowed" this way.)
            if (code == CURLE_URL_MALFORMAT) {
                throw Discard(fmt::format("{}: {}", describe(method, url), detail));
            }
            if (code == CURLE_OPERATION_TIMEDOUT) {
                throw std::runtime_error(fmt::format("{} timed out after {}: {}",
                                                     describe(method, url),
                                                     format_duration(timeout), detail));
            }
            // Connection, DNS, TLS and protocol errors may pass: the attempt fails, the policy
            // retries.
            throw std::runtime_error(fmt::format("{} failed: {} ({})", describe(method, url),
                                                 detail, curl_easy_strerror(code)));
        }
        long status = 0;
        curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);

        if (req.follow_redirects && is_redirect(status)) {
            char* next_raw = nullptr;
            curl_easy_getinfo(e, CURLINFO_REDIRECT_URL, &next_raw);
            if (next_raw) {
                const std::string next = next_raw;
                if (hop >= options_.max_redirects) {
                    throw Discard(fmt::format("{} redirected more than {} times (last to {})",
                                              describe(req.method, req.url), options_.max_redirects,
                                              printable(next)));
                }
                const auto to = parts_of(next);
                if (!to || (to->scheme != "http" && to->scheme != "https")) {
                    throw Discard(
                        fmt::format("{} redirected to {}: only http and https are "
                                    "followed",
                                    describe(method, url), printable(next)));
                }
                // 303, and 301/302 after a POST, continue as GET without the body (as browsers
                // and libcurl do); 307 and 308 repeat the request as it was.
                if ((status == 303 && method != "HEAD") ||
                    ((status == 301 || status == 302) && method == "POST")) {
                    method = "GET";
                    body.reset();
                    json_body = false;
                    std::erase_if(headers, [](const auto& h) {
                        return ascii_lower(h.first) == "content-type";
                    });
                }
                // Credentials meant for one origin do not travel to another.
                if (!first || to->scheme != first->scheme || to->host != first->host ||
                    to->port != first->port) {
                    std::erase_if(headers, [](const auto& h) {
                        const std::string n = ascii_lower(h.first);
                        return n == "authorization" || n == "cookie";
                    });
                }
                url = next;
                continue;
            }
        }

        const bool success = std::any_of(req.success.begin(), req.success.end(),
                                         [&](auto r) { return status >= r.lo && status <= r.hi; });
        if (success) {
            json result = {{"status", status},
                           {"url", url},
                           {"redirects", hop},
                           {"headers", resp.headers_json()}};
            if (!resp.reason.empty()) result["reason"] = printable(resp.reason);
            resp.put_body(result);
            result["timings_ms"] = {{"dns", ms_of(e, CURLINFO_NAMELOOKUP_TIME_T)},
                                    {"connect", ms_of(e, CURLINFO_CONNECT_TIME_T)},
                                    {"tls", ms_of(e, CURLINFO_APPCONNECT_TIME_T)},
                                    {"first_byte", ms_of(e, CURLINFO_STARTTRANSFER_TIME_T)},
                                    {"total", ms_of(e, CURLINFO_TOTAL_TIME_T)}};
            co_return result;
        }
        const std::string what =
            fmt::format("HTTP {}{}{} from {}", status, resp.reason.empty() ? "" : " ",
                        printable(resp.reason), describe(method, url));
        const std::string message =
            resp.body.empty() ? what : fmt::format("{}: {}", what, resp.body_excerpt());
        if (retryable_status(status)) {
            if ((status == 429 || status == 503) && !resp.retry_after.empty()) {
                if (auto wait = parse_retry_after(
                        resp.retry_after,
                        std::chrono::time_point_cast<Duration>(std::chrono::system_clock::now()))) {
                    throw RetryAfter(
                        std::min(*wait, options_.max_retry_after),
                        fmt::format("{} (Retry-After: {})", message, printable(resp.retry_after)));
                }
            }
            throw std::runtime_error(message);
        }
        if (is_redirect(status) && !req.follow_redirects) {
            throw Discard(
                fmt::format("{} (redirects are not followed: follow_redirects is false)", message));
        }
        // Another 4xx (or a status the payload does not count as success): the same request
        // would get the same answer.
        throw Discard(message);
    }
}

}  // namespace

void add_http_kind(Registry& registry, HttpOptions options, HandlerOptions handler) {
    validate(options);
    auto kind = std::make_shared<HttpKind>(std::move(options));
    registry.add(
        std::string(http_kind), [kind](JobContext& ctx) { return kind->run(ctx); },
        std::move(handler));
}

}  // namespace jobq::kinds
