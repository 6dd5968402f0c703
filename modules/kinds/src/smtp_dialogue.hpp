#pragma once
// SmtpDialogue: what the SMTP server answered, read from libcurl's debug callback (the commands
// it sent and the replies it received, line by line), so that a failure can be told by its
// reply code and each recipient's fate reported. libcurl itself keeps only the last code.
//
// Only replies, command verbs and RCPT addresses are kept. Nothing else we send is looked at:
// AUTH's argument and every line answering a 334 challenge carry credentials.

#include <curl/curl.h>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace jobq::kinds {

/// One complete server reply.
struct SmtpReply {
    int code = 0;         ///< 250, 354, 550, ...
    std::string text;     ///< the text after the code, lines of a multi-line reply joined by
                          ///< a space; printable ASCII, at most max_reply_text bytes
    std::string command;  ///< what it answers: "greeting", "EHLO", "MAIL FROM", "RCPT TO",
                          ///< "DATA", "end of data", "AUTH", "STARTTLS", ...

    /// "550 5.1.1 <x@example.com>: mailbox unavailable".
    std::string line() const;
};

/// The reply to one RCPT TO command.
struct RecipientReply {
    std::string address;
    SmtpReply reply;
};

/// Records one transfer's dialogue. Feed it from one thread (libcurl calls the debug callback
/// on the thread driving the transfer).
class SmtpDialogue {
  public:
    /// Longest reply text kept; the rest is cut (and marked with "...").
    static constexpr std::size_t max_reply_text = 2048;

    /// Turns on CURLOPT_VERBOSE with a debug callback feeding this dialogue, which must outlive
    /// the transfer.
    void attach(CURL* easy);

    /// Bytes libcurl sent as protocol commands (CURLINFO_HEADER_OUT).
    void on_sent(std::string_view bytes);
    /// Bytes libcurl received as protocol replies (CURLINFO_HEADER_IN).
    void on_received(std::string_view bytes);

    /// The replies to RCPT TO, in the order the recipients were sent.
    const std::vector<RecipientReply>& recipients() const noexcept { return recipients_; }
    /// The last complete reply before we said QUIT (which settles nothing), if any.
    const std::optional<SmtpReply>& last_reply() const noexcept { return last_; }

  private:
    void on_command(std::string_view line);
    void on_reply_line(std::string_view line);

    std::string sent_partial_;
    std::string received_partial_;
    std::string command_ = "greeting";
    std::string rcpt_address_;
    bool in_auth_ = false;  // from AUTH until its final (non-334) reply
    bool quit_ = false;
    SmtpReply pending_;  // a multi-line reply being read
    bool reading_ = false;
    std::vector<RecipientReply> recipients_;
    std::optional<SmtpReply> last_;
};

}  // namespace jobq::kinds
