// ResponseCollector and parse_retry_after (http_response.hpp).

#include "http_response.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <charconv>

#include "ascii.hpp"
#include "base64.hpp"
#include "jobq/error.hpp"
#include "jobq/json_input.hpp"

namespace jobq::kinds {

namespace {

constexpr std::size_t max_kept_headers = 64;
constexpr std::size_t max_header_value = 8192;

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() &&
           (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
        s.remove_suffix(1);
    }
    return s;
}

}  // namespace

std::size_t ResponseCollector::on_header(char* data, std::size_t size, std::size_t n, void* p) {
    auto* self = static_cast<ResponseCollector*>(p);
    const std::size_t len = size * n;
    std::string_view line(data, len);
    if (line.starts_with("HTTP/")) {
        // A new response (an interim 1xx, or the final one): what came before does not count.
        self->headers.clear();
        self->retry_after.clear();
        self->reason.clear();
        self->status = 0;
        const auto sp = line.find(' ');
        if (sp != std::string_view::npos) {
            std::string_view rest = line.substr(sp + 1);
            std::from_chars(rest.data(), rest.data() + std::min<std::size_t>(3, rest.size()),
                            self->status);
            if (rest.size() > 4) self->reason = std::string(trim(rest.substr(4)).substr(0, 200));
        }
        return len;
    }
    const auto colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) return len;
    std::string name = ascii_lower(trim(line.substr(0, colon)));
    std::string_view value = trim(line.substr(colon + 1));
    if (value.size() > max_header_value) value = value.substr(0, max_header_value);
    if (name == "retry-after") self->retry_after = std::string(value);
    if (self->headers.size() < max_kept_headers &&
        std::find(self->keep.begin(), self->keep.end(), name) != self->keep.end()) {
        self->headers.emplace_back(std::move(name), std::string(value));
    }
    return len;
}

std::size_t ResponseCollector::on_body(char* data, std::size_t size, std::size_t n, void* p) {
    auto* self = static_cast<ResponseCollector*>(p);
    const std::size_t len = size * n;
    const std::size_t room = self->limit - std::min(self->limit, self->body.size());
    self->body.append(data, std::min(room, len));
    if (len > room) {
        // Enough is kept; stop the download instead of reading (and discarding) the rest.
        self->truncated = true;
        return 0;
    }
    return len;
}

void ResponseCollector::put_body(nlohmann::json& out) const {
    bool text = body.find('\0') == std::string::npos;
    if (text) {
        try {
            check_json_input(nlohmann::json(body), "body");
        } catch (const Error&) {
            text = false;  // not UTF-8 (or cut inside a character): keep the bytes as they are
        }
    }
    if (text) {
        out["body"] = body;
    } else {
        out["body_base64"] = base64_encode(body);
    }
    out["body_truncated"] = truncated;
}

nlohmann::json ResponseCollector::headers_json() const {
    nlohmann::json h = nlohmann::json::object();
    for (const auto& [name, value] : headers) {
        std::string v = value;
        try {
            check_json_input(nlohmann::json(v), "header");
        } catch (const Error&) {
            v = printable(value);
        }
        if (h.contains(name)) {
            h[name] = h[name].get<std::string>() + ", " + v;
        } else {
            h[name] = v;
        }
    }
    return h;
}

std::string ResponseCollector::body_excerpt(std::size_t max) const {
    std::string s = printable(std::string_view(body).substr(0, max));
    if (body.size() > max || truncated) s += "...";
    return s;
}

std::optional<Duration> parse_retry_after(std::string_view value, Timestamp now) {
    value = trim(value);
    if (value.empty()) return std::nullopt;
    if (std::all_of(value.begin(), value.end(),
                    [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
        std::int64_t seconds = 0;
        auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
        if (ec == std::errc::result_out_of_range) return std::chrono::seconds{1'000'000'000};
        if (ec != std::errc{} || end != value.data() + value.size()) return std::nullopt;
        // Bounded before the conversion to microseconds can overflow; callers cap far lower.
        return std::chrono::seconds{std::min<std::int64_t>(seconds, 1'000'000'000)};
    }
    const std::string date(value);
    const time_t at = curl_getdate(date.c_str(), nullptr);
    if (at == -1) return std::nullopt;
    const auto when = std::chrono::system_clock::from_time_t(at);
    if (when <= now) return Duration::zero();
    return std::chrono::duration_cast<Duration>(when - now);
}

}  // namespace jobq::kinds
