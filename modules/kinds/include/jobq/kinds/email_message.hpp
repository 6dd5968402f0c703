#pragma once
// EmailMessage: one e-mail as a jobq.email payload describes it, checked. Everything that would
// end up in a header line or an SMTP command is refused when it could break out of it (CR, LF,
// NUL, a header that would replace the message's own structure), so what the renderer writes
// is always the message the payload meant and nothing more.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "jobq/kinds/email_options.hpp"

namespace jobq::kinds {

/// A mailbox: an optional display name (UTF-8) and an ASCII addr-spec ("a@example.com").
struct EmailAddress {
    std::string name;
    std::string address;

    friend bool operator==(const EmailAddress&, const EmailAddress&) = default;
};

/// A file attached to a message.
struct EmailAttachment {
    std::string filename;      ///< as the recipient sees it (UTF-8, no path)
    std::string content_type;  ///< "type/subtype", with parameters if any
    std::string bytes;         ///< the content, decoded

    friend bool operator==(const EmailAttachment&, const EmailAttachment&) = default;
};

/// An extra header line the payload asked for.
struct EmailHeader {
    std::string name;
    std::string value;

    friend bool operator==(const EmailHeader&, const EmailHeader&) = default;
};

/// A checked message: what the renderer turns into RFC 5322 text and the sender into an SMTP
/// envelope.
struct EmailMessage {
    EmailAddress from;
    std::vector<EmailAddress> to;
    std::vector<EmailAddress> cc;
    std::vector<EmailAddress> bcc;  ///< envelope only: never written in a header
    std::vector<EmailAddress> reply_to;
    std::string subject;              ///< empty: no Subject header
    std::optional<std::string> text;  ///< the text/plain body, if any
    std::optional<std::string> html;  ///< the text/html body, if any
    std::vector<EmailHeader> headers;
    std::vector<EmailAttachment> attachments;

    /// The envelope recipients: to, cc and bcc in that order, each address once.
    std::vector<std::string> recipients() const;
};

/// Reads a jobq.email payload (see README: `from`, `to`, `cc`, `bcc`, `reply_to`, `subject`,
/// `text`, `html`, `headers`, `attachments`) within `options`' limits, taking
/// options.default_from when it names no sender. Throws Error(invalid_argument) whose field()
/// names the offending part precisely ("to[2]", "attachments[0].content_base64",
/// "headers.X-Foo") and whose message starts with it.
EmailMessage parse_email_message(const nlohmann::json& payload, const EmailOptions& options);

/// One mailbox as a payload writes it: "a@example.com" or "Name <a@example.com>" (the name
/// may be a quoted string). Throws Error(invalid_argument) naming `field`.
EmailAddress parse_email_address(std::string_view text, std::string_view field = "address");

}  // namespace jobq::kinds
