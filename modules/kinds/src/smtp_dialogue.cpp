// SmtpDialogue (smtp_dialogue.hpp): lines from libcurl's debug callback, replies by command.

#include "smtp_dialogue.hpp"

#include <cctype>

namespace jobq::kinds {

namespace {

// A line of ours or theirs longer than this is not SMTP (RFC 5321 allows 512); the excess is
// dropped rather than buffered without end.
constexpr std::size_t max_line = 4096;
constexpr std::string_view cut_mark = "...";

int debug_callback(CURL*, curl_infotype type, char* data, std::size_t size, void* self) {
    auto* dialogue = static_cast<SmtpDialogue*>(self);
    // Everything else (libcurl's own notes, TLS records, the message body) is not the dialogue.
    if (type == CURLINFO_HEADER_OUT) dialogue->on_sent({data, size});
    if (type == CURLINFO_HEADER_IN) dialogue->on_received({data, size});
    return 0;
}

// Feeds the complete lines of `partial` + `bytes` to `line`, keeping an unfinished last one.
template <class F>
void split_lines(std::string& partial, std::string_view bytes, F line) {
    for (char c : bytes) {
        if (c == '\n') {
            if (!partial.empty() && partial.back() == '\r') partial.pop_back();
            line(std::string_view(partial));
            partial.clear();
        } else if (partial.size() < max_line) {
            partial.push_back(c);
        }
    }
}

// Reply text as stored: printable ASCII (replies are ASCII unless SMTPUTF8, which we never
// ask for), so that a job's result and errors are valid UTF-8 whatever a server sends.
void append_text(std::string& to, std::string_view text) {
    if (to.size() >= SmtpDialogue::max_reply_text) return;
    if (!to.empty()) to.push_back(' ');
    for (char c : text) {
        const auto u = static_cast<unsigned char>(c);
        to.push_back(u >= 0x20 && u <= 0x7e ? c : '?');
        if (to.size() >= SmtpDialogue::max_reply_text) {
            to.resize(SmtpDialogue::max_reply_text - cut_mark.size());
            to += cut_mark;
            return;
        }
    }
}

std::string upper_word(std::string_view line) {
    std::string verb;
    for (char c : line.substr(0, line.find(' '))) {
        if (!std::isalpha(static_cast<unsigned char>(c)) || verb.size() >= 12) return "command";
        verb.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
    }
    return verb.empty() ? "command" : verb;
}

}  // namespace

std::string SmtpReply::line() const {
    return text.empty() ? std::to_string(code) : std::to_string(code) + " " + text;
}

void SmtpDialogue::attach(CURL* easy) {
    curl_easy_setopt(easy, CURLOPT_DEBUGFUNCTION, &debug_callback);
    curl_easy_setopt(easy, CURLOPT_DEBUGDATA, this);
    curl_easy_setopt(easy, CURLOPT_VERBOSE, 1L);
}

void SmtpDialogue::on_sent(std::string_view bytes) {
    split_lines(sent_partial_, bytes, [this](std::string_view line) { on_command(line); });
}

void SmtpDialogue::on_received(std::string_view bytes) {
    split_lines(received_partial_, bytes, [this](std::string_view line) { on_reply_line(line); });
}

void SmtpDialogue::on_command(std::string_view line) {
    // During an AUTH exchange every line we send is a credential (or derived from one): not
    // even its first word is read.
    if (in_auth_ || quit_) return;
    if (line == ".") return;  // the end of the message, should it be reported as a command
    const std::string verb = upper_word(line);
    if (verb == "AUTH") {
        in_auth_ = true;
        command_ = "AUTH";
    } else if (verb == "MAIL") {
        command_ = "MAIL FROM";
    } else if (verb == "RCPT") {
        command_ = "RCPT TO";
        rcpt_address_.clear();
        const auto lt = line.find('<');
        const auto gt = line.find('>', lt == std::string_view::npos ? 0 : lt);
        if (lt != std::string_view::npos && gt != std::string_view::npos) {
            append_text(rcpt_address_, line.substr(lt + 1, gt - lt - 1));
        }
    } else if (verb == "QUIT") {
        quit_ = true;
    } else {
        command_ = verb;
    }
}

void SmtpDialogue::on_reply_line(std::string_view line) {
    const bool coded = line.size() >= 3 && std::isdigit(static_cast<unsigned char>(line[0])) &&
                       std::isdigit(static_cast<unsigned char>(line[1])) &&
                       std::isdigit(static_cast<unsigned char>(line[2])) &&
                       (line.size() == 3 || line[3] == ' ' || line[3] == '-');
    if (!coded) return;  // not a reply line; libcurl would have failed on it already
    const bool more = line.size() > 3 && line[3] == '-';
    const std::string_view text = line.size() > 4 ? line.substr(4) : std::string_view{};
    if (!reading_) {
        pending_ = SmtpReply{std::stoi(std::string(line.substr(0, 3))), {}, command_};
        reading_ = true;
    }
    append_text(pending_.text, text);
    if (more) return;
    reading_ = false;
    // The server's answer to QUIT says nothing about the message.
    if (quit_) return;
    if (command_ == "RCPT TO") recipients_.push_back({rcpt_address_, pending_});
    if (command_ == "AUTH" && pending_.code != 334) in_auth_ = false;
    // After 354 the message goes out as data, and the next reply is the verdict on it.
    if (command_ == "DATA" && pending_.code == 354) command_ = "end of data";
    last_ = std::move(pending_);
}

}  // namespace jobq::kinds
