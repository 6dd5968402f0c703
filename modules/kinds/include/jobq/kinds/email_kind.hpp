#pragma once
// jobq.email: a job kind that sends one e-mail over SMTP, durably — retried while the server
// defers, dead-lettered when it refuses. Transfers run on libcurl's multi interface on the
// worker's own executor, like jobq.http: a slow server holds no thread.

#include <string_view>

#include "jobq/job_spec.hpp"
#include "jobq/kinds/email_message.hpp"
#include "jobq/kinds/email_options.hpp"
#include "jobq/registry.hpp"

namespace jobq::kinds {

/// The kind's name, as jobs name it.
inline constexpr std::string_view email_kind = "jobq.email";

/// Registers the jobq.email kind on `registry` with `options` (validated now: throws
/// Error(invalid_argument) for a bad setting). `handler` carries the kind's retry policy and
/// timeout as for any kind.
///
/// Outcomes: the server accepting the message completes the job with a result of message_id,
/// accepted and rejected recipients and the server's last reply (some recipients refused still
/// completes it: the others have the message). A 4xx reply, a connection, TLS or timeout
/// failure fails the attempt (retried by policy); a 5xx reply and a payload that is not a
/// valid message discard the job at once. Error messages carry the reply ("SMTP 550 5.1.1
/// ... (RCPT TO)"), never the password.
void add_email_kind(Registry& registry, EmailOptions options, HandlerOptions handler = {});

/// A jobq.email job for `payload`, checked now against `options` (the worker's limits and
/// default sender; with no default_from a payload without `from` passes, for the worker's own
/// default to fill): a bad payload throws Error(invalid_argument) and nothing is enqueued.
/// Chain queue(), max_attempts() etc. on the result as usual.
JobSpec email_job(nlohmann::json payload, const EmailOptions& options = {});

}  // namespace jobq::kinds
