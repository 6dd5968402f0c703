#pragma once
// jobq.http: a job kind that performs one HTTP request, durably — webhooks, callbacks, any "call
// this URL until it answers". Requests run on libcurl's multi interface on the worker's own
// executor: a worker with concurrency 500 holds 500 requests in flight on its few threads.

#include "jobq/kinds/http_options.hpp"
#include "jobq/kinds/http_request.hpp"
#include "jobq/registry.hpp"

namespace jobq::kinds {

/// Registers the jobq.http kind on `registry` with `options` (validated now: throws
/// Error(invalid_argument) for a bad setting). `handler` carries the kind's retry policy and
/// timeout as for any kind.
///
/// Outcomes: a status in the payload's success list completes the job with a result of
/// status, headers, body (cut at max_response_bytes, marked) and timings; 408, 429, 5xx,
/// connection, TLS and timeout errors fail the attempt (retried by policy; a Retry-After on 429
/// and 503 sets the next run); other statuses and a request the options refuse (an internal
/// address, a bad payload, an unknown secret) discard the job at once.
void add_http_kind(Registry& registry, HttpOptions options, HandlerOptions handler = {});

}  // namespace jobq::kinds
