#pragma once
// ResponseCollector: what libcurl's header and body callbacks hand over for one response,
// bounded (headers kept by name, the body cut at a limit); parse_retry_after for 429 and 503.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "jobq/clock.hpp"

namespace jobq::kinds {

/// Headers kept in every result, beside those a payload asks for.
inline constexpr std::string_view default_response_headers[] = {
    "content-type", "content-length", "location", "retry-after",
    "etag",         "last-modified",  "date",     "x-request-id"};

struct ResponseCollector {
    std::size_t limit = 0;          ///< body bytes kept
    std::vector<std::string> keep;  ///< header names kept (lower case)

    int status = 0;
    std::string reason;
    std::vector<std::pair<std::string, std::string>> headers;  ///< of the last response
    std::string retry_after;
    std::string body;
    bool truncated = false;  ///< the body went on past `limit` (and was not read further)

    /// For CURLOPT_HEADERFUNCTION / CURLOPT_WRITEFUNCTION with this as the data pointer.
    static std::size_t on_header(char* data, std::size_t size, std::size_t n, void* self);
    static std::size_t on_body(char* data, std::size_t size, std::size_t n, void* self);

    /// "body" as text when it is UTF-8 without NUL, else "body_base64"; and "body_truncated".
    void put_body(nlohmann::json& out) const;
    /// Kept headers as an object (repeated names joined with ", ").
    nlohmann::json headers_json() const;
    /// The start of the body, printable, for an error message.
    std::string body_excerpt(std::size_t max = 1024) const;
};

/// The wait a Retry-After value asks for: delay-seconds ("120") or an HTTP-date, measured from
/// `now` (a date in the past: zero). nullopt when the value is neither.
std::optional<Duration> parse_retry_after(std::string_view value, Timestamp now);

}  // namespace jobq::kinds
