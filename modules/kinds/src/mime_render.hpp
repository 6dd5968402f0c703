#pragma once
// The RFC 5322 / MIME text of a checked EmailMessage: the bytes handed to the SMTP server after
// DATA. A pure function of the message, the Date instant, the Message-ID and a random token for
// the multipart boundaries, so that tests can pin its output.

#include <string>
#include <string_view>
#include <vector>

#include "jobq/clock.hpp"
#include "jobq/kinds/email_message.hpp"

namespace jobq::kinds {

/// The whole message, lines ended by CRLF and none longer than 998 bytes: headers (From, To,
/// Cc, Reply-To, Subject, Date, Message-ID, the payload's extra headers, MIME-Version; never
/// Bcc), then text/plain, text/html, multipart/alternative of both, and multipart/mixed around
/// that when there are attachments. `message_id` is written as given ("<id@domain>");
/// `boundary_token` (letters and digits) makes the boundaries unpredictable.
std::string render_message(const EmailMessage& message, Timestamp date, std::string_view message_id,
                           std::string_view boundary_token);

/// `t` as an RFC 5322 date-time in UTC: "Tue, 14 Nov 2023 22:13:20 +0000".
std::string rfc5322_date(Timestamp t);

/// UTF-8 `text` as RFC 2047 encoded words ("=?UTF-8?B?...?="), each at most 75 characters (the
/// first at most `first_word_limit`, when that leaves room for a character) and cut only
/// between characters; a header joins them with folding white space.
std::vector<std::string> encoded_words(std::string_view text, std::size_t first_word_limit = 75);

/// UTF-8 `text` as quoted-printable (RFC 2045) with CRLF line breaks (LF, CR and CRLF in the
/// input all count as one) and no line longer than 76 characters; no CRLF at the end.
std::string quoted_printable(std::string_view text);

}  // namespace jobq::kinds
