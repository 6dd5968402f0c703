// parse_http_request and http_job (http_request.hpp): the jobq.http payload, field by field.

#include "jobq/kinds/http_request.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <memory>

#include <fmt/format.h>

#include "ascii.hpp"
#include "curl_multi.hpp"
#include "jobq/error.hpp"
#include "jobq/json_input.hpp"

namespace jobq::kinds {

namespace {

using nlohmann::json;

// Bounds that hold whatever the worker allows; the worker's own (HttpOptions) are checked when
// the job runs.
constexpr std::size_t max_url_bytes = 8192;
constexpr std::size_t max_headers = 100;
constexpr std::size_t max_header_bytes = 8192;
constexpr std::int64_t max_timeout_ms = 24LL * 3600 * 1000;
constexpr std::size_t max_response_bytes_bound = std::size_t{1} << 30;

[[noreturn]] void bad(std::string field, std::string message) {
    throw Error(ErrorCode::invalid_argument, std::move(message), std::move(field));
}

// RFC 9110 token characters (method and header names).
bool is_token(std::string_view s) {
    if (s.empty()) return false;
    for (unsigned char c : s) {
        if (std::isalnum(c)) continue;
        if (std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) ==
            std::string_view::npos) {
            return false;
        }
    }
    return true;
}

// Headers the request itself decides (framing, connection, host): a payload setting them could
// smuggle a second request or confuse the server about where the body ends.
bool reserved_header(const std::string& name) {
    static const std::array<std::string_view, 9> reserved = {
        "host", "content-length", "transfer-encoding", "connection", "upgrade",
        "te",   "trailer",        "keep-alive",        "expect"};
    return std::find(reserved.begin(), reserved.end(), name) != reserved.end() ||
           name.starts_with("proxy-");
}

const json& string_field(const json& v, const std::string& field) {
    if (!v.is_string()) bad(field, fmt::format("{} must be a string", field));
    return v;
}

void check_url(const std::string& url) {
    if (url.empty()) bad("url", "url must not be empty");
    if (url.size() > max_url_bytes) {
        bad("url", fmt::format("url is {} bytes long; at most {}", url.size(), max_url_bytes));
    }
    for (unsigned char c : url) {
        if (c < 0x21 || c == 0x7f) {
            bad("url", "url must not contain spaces or control characters (percent-encode them)");
        }
    }
    ensure_curl_global_init();
    std::unique_ptr<CURLU, decltype(&curl_url_cleanup)> u(curl_url(), &curl_url_cleanup);
    if (!u) throw std::bad_alloc();
    if (CURLUcode rc = curl_url_set(u.get(), CURLUPART_URL, url.c_str(), 0); rc != CURLUE_OK) {
        bad("url", fmt::format("url '{}' is not a valid absolute URL: {}", printable(url),
                               curl_url_strerror(rc)));
    }
    char* scheme = nullptr;
    curl_url_get(u.get(), CURLUPART_SCHEME, &scheme, 0);
    const std::string s = scheme ? ascii_lower(scheme) : std::string{};
    curl_free(scheme);
    if (s != "http" && s != "https") {
        bad("url", fmt::format("url scheme must be http or https, not '{}'", printable(s)));
    }
    // Credentials in the URL would be copied into every error and result the job keeps.
    char* user = nullptr;
    const bool has_user = curl_url_get(u.get(), CURLUPART_USER, &user, 0) == CURLUE_OK;
    curl_free(user);
    if (has_user) {
        bad("url",
            "url must not carry credentials (user:password@); send them in an "
            "Authorization header");
    }
    char* host = nullptr;
    curl_url_get(u.get(), CURLUPART_HOST, &host, 0);
    const bool has_host = host && *host;
    curl_free(host);
    if (!has_host) bad("url", "url has no host");
}

StatusRange parse_status(const json& v, const std::string& field) {
    if (v.is_number_integer()) {
        const auto code = v.get<std::int64_t>();
        if (code < 100 || code > 599) {
            bad(field, fmt::format("{} must be a status code 100..599, not {}", field, code));
        }
        return {static_cast<int>(code), static_cast<int>(code)};
    }
    if (v.is_string()) {
        const std::string s = ascii_lower(v.get<std::string>());
        if (s.size() == 3 && s[0] >= '1' && s[0] <= '5' && s[1] == 'x' && s[2] == 'x') {
            const int lo = (s[0] - '0') * 100;
            return {lo, lo + 99};
        }
    }
    bad(field, fmt::format("{} must be a status code (200) or a class (\"2xx\")", field));
}

}  // namespace

HttpRequest parse_http_request(const json& payload) {
    if (!payload.is_object()) bad("payload", "a jobq.http payload must be a JSON object");
    HttpRequest r;
    bool method_given = false;
    for (const auto& [key, v] : payload.items()) {
        if (key == "url") {
            r.url = string_field(v, "url").get<std::string>();
        } else if (key == "method") {
            std::string m = string_field(v, "method").get<std::string>();
            for (char& c : m) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
            static const std::array<std::string_view, 7> methods = {
                "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"};
            if (std::find(methods.begin(), methods.end(), m) == methods.end()) {
                bad("method", fmt::format("method must be one of GET, HEAD, POST, PUT, PATCH, "
                                          "DELETE, OPTIONS, not '{}'",
                                          printable(v.get<std::string>())));
            }
            r.method = m;
            method_given = true;
        } else if (key == "headers") {
            if (!v.is_object()) bad("headers", "headers must be an object of name: value strings");
            if (v.size() > max_headers) {
                bad("headers", fmt::format("at most {} headers, not {}", max_headers, v.size()));
            }
            for (const auto& [name, value] : v.items()) {
                const std::string field = "headers." + printable(name);
                if (!is_token(name)) {
                    bad(field,
                        fmt::format("header name '{}' is not a valid HTTP token", printable(name)));
                }
                if (reserved_header(ascii_lower(name))) {
                    bad(field, fmt::format("header '{}' is set by the request itself and may not "
                                           "be given",
                                           name));
                }
                if (!value.is_string()) bad(field, fmt::format("{} must be a string", field));
                const auto& text = value.get_ref<const std::string&>();
                if (text.size() > max_header_bytes) {
                    bad(field, fmt::format("{} is {} bytes; at most {}", field, text.size(),
                                           max_header_bytes));
                }
                for (unsigned char c : text) {
                    // RFC 9110 field values: visible characters, spaces and tabs only.
                    if ((c < 0x20 && c != '\t') || c == 0x7f) {
                        bad(field, fmt::format("{} must not contain control characters (CR, LF, "
                                               "NUL, ESC, DEL, ...)",
                                               field));
                    }
                }
                for (const auto& [earlier, ignored] : r.headers) {
                    if (ascii_lower(earlier) == ascii_lower(name)) {
                        bad(field, fmt::format("header '{}' is given twice (names are "
                                               "case-insensitive); servers disagree on which wins",
                                               printable(name)));
                    }
                }
                r.headers.emplace_back(name, text);
            }
        } else if (key == "body") {
            if (v.is_string()) {
                r.body = v.get<std::string>();
            } else if (!v.is_null()) {
                r.body = v.dump();
                r.body_is_json = true;
            }
        } else if (key == "timeout_ms") {
            if (!v.is_number_integer() || v.get<std::int64_t>() < 1 ||
                v.get<std::int64_t>() > max_timeout_ms) {
                bad("timeout_ms",
                    fmt::format("timeout_ms must be an integer 1..{}", max_timeout_ms));
            }
            r.timeout = std::chrono::milliseconds{v.get<std::int64_t>()};
        } else if (key == "success_statuses") {
            if (!v.is_array() || v.empty() || v.size() > 100) {
                bad("success_statuses",
                    "success_statuses must be a non-empty array (at most 100) of status codes "
                    "and classes, e.g. [200, \"2xx\"]");
            }
            r.success.clear();
            for (std::size_t i = 0; i < v.size(); ++i) {
                r.success.push_back(parse_status(v[i], fmt::format("success_statuses[{}]", i)));
            }
        } else if (key == "follow_redirects") {
            if (!v.is_boolean()) bad("follow_redirects", "follow_redirects must be true or false");
            r.follow_redirects = v.get<bool>();
        } else if (key == "max_response_bytes") {
            if (!v.is_number_integer() || v.get<std::int64_t>() < 0 ||
                static_cast<std::uint64_t>(v.get<std::int64_t>()) > max_response_bytes_bound) {
                bad("max_response_bytes", fmt::format("max_response_bytes must be an integer 0..{}",
                                                      max_response_bytes_bound));
            }
            r.max_response_bytes = static_cast<std::size_t>(v.get<std::int64_t>());
        } else if (key == "response_headers") {
            if (!v.is_array() || v.size() > max_headers) {
                bad("response_headers", fmt::format("response_headers must be an array of at "
                                                    "most {} header names",
                                                    max_headers));
            }
            for (std::size_t i = 0; i < v.size(); ++i) {
                const std::string field = fmt::format("response_headers[{}]", i);
                if (!v[i].is_string() || !is_token(v[i].get<std::string>())) {
                    bad(field, fmt::format("{} must be a header name", field));
                }
                r.response_headers.push_back(ascii_lower(v[i].get<std::string>()));
            }
        } else if (key == "signing_secret") {
            r.signing_secret = ascii_lower(string_field(v, "signing_secret").get<std::string>());
            if (r.signing_secret.empty() || r.signing_secret.size() > 100 ||
                !std::all_of(r.signing_secret.begin(), r.signing_secret.end(), [](char c) {
                    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
                })) {
                bad("signing_secret",
                    "signing_secret must name a secret the worker holds "
                    "(letters, digits, _ and -; the secret itself never goes "
                    "in a payload)");
            }
        } else if (key == "webhook_id") {
            r.webhook_id = string_field(v, "webhook_id").get<std::string>();
            if (r.webhook_id.empty() || r.webhook_id.size() > 200 ||
                !std::all_of(r.webhook_id.begin(), r.webhook_id.end(),
                             [](char c) { return c > 0x20 && c < 0x7f && c != '.'; })) {
                bad("webhook_id",
                    "webhook_id must be 1..200 printable ASCII characters without "
                    "spaces or dots");
            }
        } else {
            bad(printable(key),
                fmt::format("unknown field '{}' in a jobq.http payload (known: url, method, "
                            "headers, body, timeout_ms, success_statuses, follow_redirects, "
                            "max_response_bytes, response_headers, signing_secret, webhook_id)",
                            printable(key)));
        }
    }
    if (!payload.contains("url")) bad("url", "a jobq.http payload needs a url");
    check_url(r.url);
    if (!method_given && r.body) r.method = "POST";
    if (r.method == "HEAD" && r.body) bad("body", "a HEAD request cannot carry a body");
    if (!r.signing_secret.empty()) {
        for (const auto& [name, value] : r.headers) {
            if (ascii_lower(name).starts_with("webhook-")) {
                bad("headers." + name, fmt::format("header '{}' is set by signing and may not be "
                                                   "given with signing_secret",
                                                   name));
            }
        }
    }
    return r;
}

JobSpec http_job(json payload) {
    check_json_input(payload, "payload");
    (void)parse_http_request(payload);
    return JobSpec(std::string(http_kind), std::move(payload));
}

}  // namespace jobq::kinds
