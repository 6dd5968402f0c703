#pragma once
// HttpRequest: the payload of a jobq.http job, read and checked field by field.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "jobq/clock.hpp"
#include "jobq/job_spec.hpp"

namespace jobq::kinds {

/// The name jobq.http jobs are registered and enqueued under.
inline constexpr std::string_view http_kind = "jobq.http";

/// Status codes lo..hi (inclusive) that count as success.
struct StatusRange {
    int lo = 200;
    int hi = 299;
    friend bool operator==(const StatusRange&, const StatusRange&) = default;
};

/// One HTTP request, as a jobq.http payload describes it.
struct HttpRequest {
    std::string method = "GET";  ///< upper case; POST by default when there is a body
    std::string url;             ///< http or https
    std::vector<std::pair<std::string, std::string>> headers;  ///< in order, as given
    std::optional<std::string> body;                           ///< the bytes sent
    bool body_is_json = false;        ///< sent as application/json unless a header says otherwise
    std::optional<Duration> timeout;  ///< whole request, all redirect hops
    std::vector<StatusRange> success{StatusRange{}};  ///< 2xx unless the payload says
    bool follow_redirects = true;
    std::optional<std::size_t> max_response_bytes;  ///< body kept in the result
    std::vector<std::string> response_headers;      ///< extra headers kept (lower case)
    std::string signing_secret;  ///< name of the worker's secret to sign with; empty: unsigned
    std::string webhook_id;      ///< webhook-id to sign with; empty: "msg_<job id>"
};

/// Reads a jobq.http payload. Fields: url (required), method, headers (object of strings),
/// body (a string is sent as text, any other JSON as JSON), timeout_ms, success_statuses (200,
/// "2xx", ...), follow_redirects, max_response_bytes, response_headers, signing_secret,
/// webhook_id. Throws Error(invalid_argument) naming the field (`headers.X-Y`,
/// `success_statuses[1]`, an unknown field) and what is wrong with it.
HttpRequest parse_http_request(const nlohmann::json& payload);

/// A jobq.http job for `payload`, checked now: a bad payload throws Error(invalid_argument) and
/// nothing is enqueued. Chain queue(), max_attempts() etc. on the result as usual.
JobSpec http_job(nlohmann::json payload);

}  // namespace jobq::kinds
