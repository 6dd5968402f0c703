// http_options_from_env and validate (http_options.hpp).

#include "jobq/kinds/http_options.hpp"

#include <cctype>
#include <charconv>
#include <cstdlib>
#include <string_view>

#include <fmt/format.h>

#include "address_guard.hpp"
#include "ascii.hpp"
#include "environment.hpp"
#include "jobq/error.hpp"
#include "jobq/kinds/webhook_signature.hpp"

extern char** environ;

namespace jobq::kinds {

namespace {

constexpr std::string_view secret_prefix = "JOBQ_WEBHOOK_SECRET_";

}  // namespace

HttpOptions http_options_from_env() {
    HttpOptions o;
    if (const char* hosts = std::getenv("JOBQ_HTTP_ALLOW_HOSTS")) {
        o.allow_hosts = env_list(hosts);
        try {
            AddressGuard check(o.allow_hosts);
        } catch (const Error& e) {
            throw Error(ErrorCode::invalid_argument,
                        fmt::format("JOBQ_HTTP_ALLOW_HOSTS: {}", e.what()),
                        "JOBQ_HTTP_ALLOW_HOSTS");
        }
    }
    for (char** e = environ; e && *e; ++e) {
        std::string_view entry(*e);
        if (!entry.starts_with(secret_prefix)) continue;
        const auto eq = entry.find('=');
        if (eq == std::string_view::npos) continue;
        const std::string name =
            ascii_lower(entry.substr(secret_prefix.size(), eq - secret_prefix.size()));
        const std::string variable(entry.substr(0, eq));
        if (name.empty()) {
            throw Error(ErrorCode::invalid_argument,
                        "JOBQ_WEBHOOK_SECRET_ needs a name after it (JOBQ_WEBHOOK_SECRET_ORDERS)",
                        variable);
        }
        o.secrets[name] = std::string(entry.substr(eq + 1));
    }
    if (const char* ca = std::getenv("JOBQ_HTTP_CA_FILE")) o.ca_file = ca;
    if (const char* t = std::getenv("JOBQ_HTTP_TIMEOUT_MS")) {
        o.default_timeout =
            std::chrono::milliseconds{env_integer("JOBQ_HTTP_TIMEOUT_MS", t, 1, 3600 * 1000)};
        if (o.default_timeout > o.max_timeout) o.max_timeout = o.default_timeout;
    }
    if (const char* m = std::getenv("JOBQ_HTTP_MAX_RESPONSE_BYTES")) {
        o.max_response_bytes =
            static_cast<std::size_t>(env_integer("JOBQ_HTTP_MAX_RESPONSE_BYTES", m, 0, 1LL << 30));
        if (o.max_response_bytes > o.max_response_bytes_limit) {
            o.max_response_bytes_limit = o.max_response_bytes;
        }
    }
    validate(o);
    return o;
}

void validate(const HttpOptions& o) {
    AddressGuard check(o.allow_hosts);  // throws naming allow_hosts[i]
    for (const auto& [name, secret] : o.secrets) {
        const std::string field = "secrets." + printable(name);
        if (secret.empty()) {
            throw Error(ErrorCode::invalid_argument, fmt::format("{} is empty", field), field);
        }
        try {
            (void)webhook_signature(secret, "check", 0, "");
        } catch (const Error& e) {
            throw Error(ErrorCode::invalid_argument, fmt::format("{}: {}", field, e.what()), field);
        }
    }
    auto positive = [](Duration d, const char* field) {
        if (d <= Duration::zero()) {
            throw Error(ErrorCode::invalid_argument, fmt::format("{} must be positive", field),
                        field);
        }
    };
    positive(o.default_timeout, "default_timeout");
    positive(o.max_timeout, "max_timeout");
    positive(o.connect_timeout, "connect_timeout");
    if (o.default_timeout > o.max_timeout) {
        throw Error(ErrorCode::invalid_argument, "default_timeout exceeds max_timeout",
                    "default_timeout");
    }
    if (o.max_response_bytes > o.max_response_bytes_limit) {
        throw Error(ErrorCode::invalid_argument,
                    "max_response_bytes exceeds max_response_bytes_limit", "max_response_bytes");
    }
    if (o.max_redirects < 0 || o.max_redirects > 50) {
        throw Error(ErrorCode::invalid_argument, "max_redirects must be 0..50", "max_redirects");
    }
    if (o.max_retry_after < Duration::zero()) {
        throw Error(ErrorCode::invalid_argument, "max_retry_after must not be negative",
                    "max_retry_after");
    }
    for (char c : o.user_agent) {
        if (c == '\r' || c == '\n' || c == '\0') {
            throw Error(ErrorCode::invalid_argument, "user_agent must not contain CR, LF or NUL",
                        "user_agent");
        }
    }
}

}  // namespace jobq::kinds
