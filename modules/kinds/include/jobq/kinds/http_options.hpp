#pragma once
// HttpOptions: what the worker decides for every jobq.http job — where requests may go, the
// signing secrets it holds, and the bounds a payload may ask for within.

#include <chrono>
#include <cstddef>
#include <map>
#include <string>
#include <vector>

#include "jobq/clock.hpp"

namespace jobq::kinds {

/// Settings of the jobq.http kind, held by the worker (never in a job's payload).
struct HttpOptions {
    /// Hosts and networks a request may reach although they are loopback, private, link-local
    /// or otherwise internal: host names ("hooks.internal", "*.corp.example"), addresses
    /// ("127.0.0.1", "::1") and CIDRs ("10.0.0.0/8", "fd00::/8"). Empty: only public addresses.
    std::vector<std::string> allow_hosts;
    /// Signing secrets by name (Standard Webhooks, "whsec_<base64>"); a payload names one in
    /// `signing_secret`. Names are case-insensitive.
    std::map<std::string, std::string> secrets;
    /// Per-request limit when the payload sets none, and the most it may set.
    Duration default_timeout = std::chrono::seconds{30};
    Duration max_timeout = std::chrono::minutes{10};
    Duration connect_timeout = std::chrono::seconds{10};
    /// Response body kept in the result when the payload sets none (longer bodies are cut),
    /// and the most a payload may ask to keep.
    std::size_t max_response_bytes = 64 * 1024;
    std::size_t max_response_bytes_limit = 10 * 1024 * 1024;
    /// Redirect hops followed at most (each one checked like the first request).
    int max_redirects = 5;
    /// A server's Retry-After is obeyed up to this; longer asks are cut to it.
    Duration max_retry_after = std::chrono::hours{24};
    /// User-Agent sent unless the payload sets one.
    std::string user_agent = "jobq-http/0.1";
    /// CA bundle to verify servers with instead of the system's (a private CA, tests).
    std::string ca_file;
};

/// HttpOptions from the environment: JOBQ_HTTP_ALLOW_HOSTS (comma-separated),
/// JOBQ_WEBHOOK_SECRET_<NAME> (one per secret; NAME lower-cased), JOBQ_HTTP_CA_FILE,
/// JOBQ_HTTP_TIMEOUT_MS, JOBQ_HTTP_MAX_RESPONSE_BYTES. Unset variables keep the defaults; a bad
/// value throws Error(invalid_argument) naming the variable.
HttpOptions http_options_from_env();

/// Throws Error(invalid_argument) naming the first bad setting (an allow_hosts entry that is
/// neither a host name nor an address or CIDR, a secret that is not whsec_<base64>, a bound
/// out of range).
void validate(const HttpOptions& options);

}  // namespace jobq::kinds
