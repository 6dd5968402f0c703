// email_options_from_env and validate (email_options.hpp).

#include "jobq/kinds/email_options.hpp"

#include <curl/curl.h>

#include <charconv>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <utility>

#include <fmt/format.h>

#include "curl_multi.hpp"
#include "jobq/error.hpp"
#include "jobq/kinds/email_message.hpp"

namespace jobq::kinds {

namespace {

[[noreturn]] void refuse(std::string_view field, std::string_view why) {
    throw Error(ErrorCode::invalid_argument, fmt::format("{}: {}", field, why), std::string(field));
}

struct UrlDeleter {
    void operator()(CURLU* u) const noexcept { curl_url_cleanup(u); }
};

// One URL part as libcurl's own parser sees it (the parser that will use the URL), or empty.
std::string url_part(CURLU* u, CURLUPart part) {
    char* value = nullptr;
    if (curl_url_get(u, part, &value, 0) != CURLUE_OK || !value) return {};
    std::string out(value);
    curl_free(value);
    return out;
}

void check_url(const EmailOptions& o, std::string_view field) {
    if (o.url.empty()) refuse(field, "is required (smtp://host:port or smtps://host:port)");
    ensure_curl_global_init();
    std::unique_ptr<CURLU, UrlDeleter> u(curl_url());
    if (!u) throw std::bad_alloc();
    if (curl_url_set(u.get(), CURLUPART_URL, o.url.c_str(), 0) != CURLUE_OK) {
        refuse(field, fmt::format("'{}' is not a URL (smtp://host:port or smtps://host:port)",
                                  printable(o.url)));
    }
    const std::string scheme = url_part(u.get(), CURLUPART_SCHEME);
    if (scheme != "smtp" && scheme != "smtps") {
        refuse(field, fmt::format("scheme must be smtp or smtps, not '{}'", printable(scheme)));
    }
    if (url_part(u.get(), CURLUPART_HOST).empty()) refuse(field, "names no host");
    // An error message may quote the URL; a password in it would end up in the job's errors.
    if (!url_part(u.get(), CURLUPART_USER).empty() ||
        !url_part(u.get(), CURLUPART_PASSWORD).empty()) {
        refuse(field, "must not carry credentials: set user and password instead");
    }
    if (!url_part(u.get(), CURLUPART_QUERY).empty() ||
        !url_part(u.get(), CURLUPART_FRAGMENT).empty()) {
        refuse(field, "must not have a query or fragment");
    }
    if (scheme == "smtps" && o.tls == SmtpTls::none) {
        refuse("tls", "'none' contradicts an smtps:// URL, which is TLS from the first byte");
    }
}

std::int64_t env_integer(const char* name, std::string_view s, std::int64_t lo, std::int64_t hi) {
    std::int64_t v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc{} || end != s.data() + s.size() || v < lo || v > hi) {
        refuse(name, fmt::format("must be an integer {}..{}, not '{}'", lo, hi, printable(s)));
    }
    return v;
}

// The variable each setting comes from, so that an error names what the operator set.
std::string_view variable_of(std::string_view field) {
    static constexpr std::pair<std::string_view, std::string_view> names[] = {
        {"url", "JOBQ_SMTP_URL"},
        {"tls", "JOBQ_SMTP_TLS"},
        {"user", "JOBQ_SMTP_USER"},
        {"password", "JOBQ_SMTP_PASSWORD"},
        {"default_from", "JOBQ_SMTP_FROM"},
        {"ca_file", "JOBQ_SMTP_CA_FILE"},
        {"timeout", "JOBQ_SMTP_TIMEOUT_MS"},
        {"connect_timeout", "JOBQ_SMTP_CONNECT_TIMEOUT_MS"},
    };
    for (const auto& [f, v] : names) {
        if (f == field) return v;
    }
    return field;
}

}  // namespace

std::string_view to_string(SmtpTls tls) noexcept {
    switch (tls) {
        case SmtpTls::required:
            return "required";
        case SmtpTls::opportunistic:
            return "opportunistic";
        case SmtpTls::none:
            return "none";
    }
    return "required";
}

std::optional<SmtpTls> smtp_tls_from_string(std::string_view text) noexcept {
    for (SmtpTls t : {SmtpTls::required, SmtpTls::opportunistic, SmtpTls::none}) {
        if (text == to_string(t)) return t;
    }
    return std::nullopt;
}

EmailOptions email_options_from_env() {
    EmailOptions o;
    const char* url = std::getenv("JOBQ_SMTP_URL");
    if (!url || !*url)
        refuse("JOBQ_SMTP_URL", "is not set (smtp://host:port or smtps://host:port)");
    o.url = url;
    if (const char* tls = std::getenv("JOBQ_SMTP_TLS")) {
        const auto mode = smtp_tls_from_string(tls);
        if (!mode) {
            refuse("JOBQ_SMTP_TLS", fmt::format("must be required, opportunistic or none, not '{}'",
                                                printable(tls)));
        }
        o.tls = *mode;
    }
    if (const char* user = std::getenv("JOBQ_SMTP_USER")) o.user = user;
    if (const char* password = std::getenv("JOBQ_SMTP_PASSWORD")) o.password = password;
    if (const char* from = std::getenv("JOBQ_SMTP_FROM")) o.default_from = from;
    if (const char* ca = std::getenv("JOBQ_SMTP_CA_FILE")) o.ca_file = ca;
    if (const char* t = std::getenv("JOBQ_SMTP_TIMEOUT_MS")) {
        o.timeout = std::chrono::milliseconds{
            env_integer("JOBQ_SMTP_TIMEOUT_MS", t, 1, std::int64_t{24} * 3600 * 1000)};
    }
    if (const char* t = std::getenv("JOBQ_SMTP_CONNECT_TIMEOUT_MS")) {
        o.connect_timeout = std::chrono::milliseconds{
            env_integer("JOBQ_SMTP_CONNECT_TIMEOUT_MS", t, 1, std::int64_t{24} * 3600 * 1000)};
    }
    try {
        validate(o);
    } catch (const Error& e) {
        std::string why = e.what();
        if (why.starts_with(e.field() + ": ")) why.erase(0, e.field().size() + 2);
        refuse(variable_of(e.field()), why);
    }
    return o;
}

void validate(const EmailOptions& o) {
    check_url(o, "url");
    if (!o.password.empty() && o.user.empty()) refuse("user", "is required with a password");
    if (!o.password.empty() && o.tls == SmtpTls::none) {
        refuse("tls", "'none' would send the password in clear: use required (or smtps://)");
    }
    if (o.user.find_first_of("\r\n", 0) != std::string::npos ||
        o.user.find('\0') != std::string::npos) {
        refuse("user", "must not contain CR, LF or NUL");
    }
    if (!o.default_from.empty()) (void)parse_email_address(o.default_from, "default_from");
    if (!o.ca_file.empty() && !std::ifstream(o.ca_file)) {
        refuse("ca_file", fmt::format("cannot read '{}'", printable(o.ca_file)));
    }
    const Duration longest = std::chrono::hours{24};
    if (o.connect_timeout <= Duration::zero() || o.connect_timeout > longest) {
        refuse("connect_timeout", "must be positive and at most 24h");
    }
    if (o.timeout <= Duration::zero() || o.timeout > longest) {
        refuse("timeout", "must be positive and at most 24h");
    }
    if (o.max_recipients < 1) refuse("max_recipients", "must be at least 1");
    if (o.max_attachment_bytes > (std::size_t{1} << 30)) {
        refuse("max_attachment_bytes", "must be at most 1 GiB");
    }
}

}  // namespace jobq::kinds
