#pragma once
// EmailOptions: what the worker decides for every jobq.email job — which SMTP server it talks
// to, how the connection is secured, the credentials it holds, and how large a message may be.
// None of it comes from a job's payload: a payload names recipients and content, never a server
// or a password.

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "jobq/clock.hpp"

namespace jobq::kinds {

/// How the connection to the SMTP server is secured (ignored for smtps://, which is TLS from
/// the first byte).
enum class SmtpTls {
    required,       ///< STARTTLS or fail: the message and credentials never travel in clear
    opportunistic,  ///< STARTTLS when the server offers it, plain text otherwise
    none,           ///< never TLS: only for a relay on the same host or a trusted network
};

/// The name of a TLS mode as JOBQ_SMTP_TLS spells it ("required", "opportunistic", "none").
std::string_view to_string(SmtpTls tls) noexcept;
/// The TLS mode named `text` (as to_string spells it), or nullopt.
std::optional<SmtpTls> smtp_tls_from_string(std::string_view text) noexcept;

/// Settings of the jobq.email kind, held by the worker (never in a job's payload).
struct EmailOptions {
    /// The server: "smtp://host:port" (STARTTLS per `tls`) or "smtps://host:port" (implicit
    /// TLS). A path names the domain sent in EHLO ("smtp://relay:587/mail.example.com").
    /// Credentials do not belong in the URL: use `user` and `password`.
    std::string url;
    /// STARTTLS policy for smtp:// URLs; secure unless told otherwise.
    SmtpTls tls = SmtpTls::required;
    /// Login for SMTP AUTH; empty: no authentication.
    std::string user;
    /// Password for SMTP AUTH. Never written to a job's errors or result.
    std::string password;
    /// Sender used when a payload names no `from` ("Alerts <alerts@example.com>"); empty: every
    /// payload must name one.
    std::string default_from;
    /// CA bundle to verify the server with instead of the system's (a private CA, tests).
    std::string ca_file;
    /// Time allowed to reach a state where mail can be sent: TCP, the greeting, EHLO, TLS and
    /// AUTH (libcurl counts all of them as connecting).
    Duration connect_timeout = std::chrono::seconds{10};
    /// Time allowed for the whole conversation, connection included.
    Duration timeout = std::chrono::minutes{2};
    /// Most recipients (to, cc and bcc together) one message may have.
    std::size_t max_recipients = 100;
    /// Most bytes all attachments of one message may hold together, decoded.
    std::size_t max_attachment_bytes = std::size_t{10} << 20;
};

/// EmailOptions from the environment: JOBQ_SMTP_URL (required), JOBQ_SMTP_TLS
/// (required|opportunistic|none), JOBQ_SMTP_USER, JOBQ_SMTP_PASSWORD, JOBQ_SMTP_FROM,
/// JOBQ_SMTP_CA_FILE, JOBQ_SMTP_TIMEOUT_MS, JOBQ_SMTP_CONNECT_TIMEOUT_MS. Unset variables keep
/// the defaults; a missing URL or a bad value throws Error(invalid_argument) naming the variable.
EmailOptions email_options_from_env();

/// Throws Error(invalid_argument) naming the first bad setting: a URL that is not smtp:// or
/// smtps:// with a host, credentials in the URL, tls `none` with smtps:// or with a password,
/// a default_from that is not an address, a CA file that cannot be read, a bound out of range.
void validate(const EmailOptions& options);

}  // namespace jobq::kinds
