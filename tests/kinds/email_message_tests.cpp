// jobq.email without a server: what a payload may say (and every error names its field), what
// is refused because it could inject a header or an SMTP command, the options, and the MIME
// text the renderer writes (encoded words, folding, quoted-printable, structure).

#include <algorithm>
#include <cstdlib>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "base64.hpp"
#include "jobq/error.hpp"
#include "jobq/kinds/email_kind.hpp"
#include "jobq/kinds/email_message.hpp"
#include "jobq/kinds/email_options.hpp"
#include "mime_render.hpp"
#include "support/temp_dir.hpp"

using jobq::kinds::EmailAddress;
using jobq::kinds::EmailAttachment;
using jobq::kinds::EmailMessage;
using jobq::kinds::EmailOptions;
using jobq::kinds::parse_email_address;
using jobq::kinds::parse_email_message;
using nlohmann::json;

namespace {

EmailOptions options() {
    EmailOptions o;
    o.url = "smtp://127.0.0.1:2525";
    o.default_from = "Alerts <alerts@example.com>";
    o.max_recipients = 5;
    o.max_attachment_bytes = 100;
    return o;
}

json minimal() {
    return {{"to", "a@example.com"}, {"subject", "Hello"}, {"text", "Hi."}};
}

json with(json payload, const std::string& key, json value) {
    payload[key] = std::move(value);
    return payload;
}

// The field a payload is refused for; fails the test when it is accepted.
std::string refused_field(const json& payload, const EmailOptions& o = options()) {
    try {
        (void)parse_email_message(payload, o);
    } catch (const jobq::Error& e) {
        CHECK(e.code() == jobq::ErrorCode::invalid_argument);
        // The message starts with the field, as every jobq input error does.
        CHECK(std::string(e.what()).starts_with(e.field() + ": "));
        return e.field();
    }
    FAIL("payload accepted: " << payload.dump());
    return {};
}

std::string refused_message(const json& payload) {
    try {
        (void)parse_email_message(payload, options());
    } catch (const jobq::Error& e) {
        return e.what();
    }
    FAIL("payload accepted: " << payload.dump());
    return {};
}

std::string options_refused(const EmailOptions& o) {
    try {
        jobq::kinds::validate(o);
    } catch (const jobq::Error& e) {
        return e.field();
    }
    FAIL("options accepted");
    return {};
}

std::string unfold(std::string header) {
    for (std::size_t p; (p = header.find("\r\n ")) != std::string::npos;) header.erase(p, 2);
    for (std::size_t p; (p = header.find("\r\n\t")) != std::string::npos;) header.erase(p, 2);
    return header;
}

// Decodes a run of RFC 2047 B-encoded words separated by white space (what a reader does).
std::string decode_words(const std::string& text) {
    std::string out;
    std::size_t i = 0;
    while ((i = text.find("=?UTF-8?B?", i)) != std::string::npos) {
        const auto end = text.find("?=", i + 10);
        REQUIRE(end != std::string::npos);
        const auto bytes = jobq::kinds::base64_decode(text.substr(i + 10, end - i - 10));
        REQUIRE(bytes.has_value());
        out += *bytes;
        i = end + 2;
    }
    return out;
}

std::string decode_qp(const std::string& text) {
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '=' && text.compare(i + 1, 2, "\r\n") == 0) {
            i += 2;
        } else if (text[i] == '=') {
            out += static_cast<char>(std::stoi(text.substr(i + 1, 2), nullptr, 16));
            i += 2;
        } else {
            out += text[i];
        }
    }
    return out;
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::size_t start = 0;
    while (start <= text.size()) {
        const auto end = text.find("\r\n", start);
        if (end == std::string::npos) {
            lines.push_back(text.substr(start));
            break;
        }
        lines.push_back(text.substr(start, end - start));
        start = end + 2;
    }
    return lines;
}

// The header named `name` of a rendered message, unfolded, without "Name: ".
std::string header(const std::string& message, const std::string& name) {
    const auto head = message.substr(0, message.find("\r\n\r\n") + 2);
    const std::string key = "\r\n" + name + ":";
    const auto at = ("\r\n" + head).find(key);
    if (at == std::string::npos) return "<absent>";
    const auto start = at + key.size() - 2;  // in head
    auto end = start;
    while (true) {
        end = head.find("\r\n", end);
        if (end + 2 >= head.size() || (head[end + 2] != ' ' && head[end + 2] != '\t')) break;
        end += 2;
    }
    std::string v = unfold(head.substr(start, end - start));
    if (!v.empty() && v.front() == ' ') v.erase(0, 1);
    return v;
}

jobq::Timestamp t0() {
    return jobq::Timestamp{std::chrono::seconds{1'700'000'000}};
}

std::string render(const EmailMessage& m) {
    return jobq::kinds::render_message(m, t0(), "<jobq.1.2@example.com>", "tok3n");
}

EmailMessage message(json payload) {
    return parse_email_message(payload, options());
}

}  // namespace

// --- what a payload says ---------------------------------------------------------------------

TEST_CASE(
    "an e-mail payload with to, subject and text reads as a message from the default sender") {
    const EmailMessage m = message(minimal());
    CHECK(m.from == EmailAddress{"Alerts", "alerts@example.com"});
    CHECK(m.to == std::vector<EmailAddress>{{"", "a@example.com"}});
    CHECK(m.subject == "Hello");
    CHECK(m.text == "Hi.");
    CHECK_FALSE(m.html.has_value());
    CHECK(m.recipients() == std::vector<std::string>{"a@example.com"});
}

TEST_CASE("an e-mail address may be bare, named, a quoted name or an object") {
    const EmailMessage m = message(with(minimal(), "to",
                                        {"a@example.com",
                                         "Ann Lee <ann@example.com>",
                                         "\"Lee, \\\"Ann\\\"\" <lee@example.com>",
                                         {{"name", "Bo"}, {"address", "bo@example.com"}}}));
    REQUIRE(m.to.size() == 4);
    CHECK(m.to[0] == EmailAddress{"", "a@example.com"});
    CHECK(m.to[1] == EmailAddress{"Ann Lee", "ann@example.com"});
    CHECK(m.to[2] == EmailAddress{"Lee, \"Ann\"", "lee@example.com"});
    CHECK(m.to[3] == EmailAddress{"Bo", "bo@example.com"});
}

TEST_CASE("an e-mail payload's own from replaces the default sender") {
    const EmailMessage m = message(with(minimal(), "from", "Ops <ops@example.org>"));
    CHECK(m.from == EmailAddress{"Ops", "ops@example.org"});
}

TEST_CASE("a mail's envelope recipients are to, cc and bcc in order, each address once") {
    json p = minimal();
    p["to"] = {"a@example.com", "b@EXAMPLE.com"};
    p["cc"] = "b@example.com";
    p["bcc"] = {"c@example.com", "a@example.com"};
    CHECK(message(p).recipients() ==
          std::vector<std::string>{"a@example.com", "b@EXAMPLE.com", "c@example.com"});
}

TEST_CASE("a bad mail recipient is refused naming its list and index") {
    CHECK(refused_field(with(minimal(), "to", {"a@example.com", "b@example.com", "nope"})) ==
          "to[2]");
    CHECK(refused_field(with(minimal(), "cc", "nope")) == "cc");
    CHECK(refused_field(with(minimal(), "bcc", {{{"address", "x"}}})) == "bcc[0].address");
    CHECK(refused_field(
              with(minimal(), "reply_to", {{{"address", "x@example.com"}, {"nmae", "typo"}}})) ==
          "reply_to[0].nmae");
    CHECK(refused_field(with(minimal(), "to", 42)) == "to");
}

TEST_CASE("e-mail addresses must be plain ASCII addr-specs") {
    for (const char* bad :
         {"a b@example.com", "a@b@example.com", "<a@example.com", "a@example.com,b@example.com",
          "\"quoted\"@example.com", "a@-example.com", "a..b@example.com", ".a@example.com",
          "j\xc3\xbcrgen@example.de", "a@example..com", "a@[127.0.0.1]", "a(comment)@example.com",
          "@example.com", "a@", "a;b@example.com"}) {
        CAPTURE(bad);
        CHECK(refused_field(with(minimal(), "to", bad)) == "to");
    }
    const std::string long_local(65, 'x');
    CHECK(refused_field(with(minimal(), "to", long_local + "@example.com")) == "to");
    const std::string long_domain = std::string(63, 'd') + "." + std::string(63, 'd') + "." +
                                    std::string(63, 'd') + "." + std::string(63, 'd') + ".com";
    CHECK(refused_field(with(minimal(), "to", "a@" + long_domain)) == "to");
    CHECK(refused_message(with(minimal(), "to", "nope")).find("no @") != std::string::npos);
}

TEST_CASE("CR, LF and NUL are refused wherever they could start a mail header or an SMTP command") {
    // Each would end the line it is written on and add one of the attacker's choosing.
    CHECK(refused_field(with(minimal(), "to", "a@example.com\r\nRCPT TO:<evil@example.net>")) ==
          "to");
    CHECK(refused_field(with(minimal(), "to", "Ann\r\nBcc: evil@example.net <a@example.com>")) ==
          "to");
    CHECK(refused_field(with(minimal(), "to",
                             {{{"name", "Ann\nBcc: evil@example.net"},
                               {"address", "a@example.com"}}})) == "to[0].name");
    CHECK(refused_field(with(minimal(), "from", "ops@example.com\n")) == "from");
    CHECK(refused_field(with(minimal(), "subject", "Hi\r\nBcc: evil@example.net")) == "subject");
    CHECK(refused_field(with(minimal(), "subject", std::string("Hi\0there", 8))) == "subject");
    CHECK(refused_field(with(minimal(), "headers", {{"X-Note", "a\r\nBcc: evil@example.net"}})) ==
          "headers.X-Note");
    CHECK(refused_field(with(minimal(), "headers", {{"X-Note\r\nBcc", "x"}})) ==
          "headers.X-Note\\u000d\\u000aBcc");
    json att = {{"filename", "a\r\nContent-Type: text/html"}, {"content_base64", "aGk="}};
    CHECK(refused_field(with(minimal(), "attachments", {att})) == "attachments[0].filename");
    CHECK(refused_field(with(minimal(), "text", std::string("a\0b", 3))) == "text");
}

TEST_CASE("extra mail headers that would replace the message's own structure are refused") {
    for (const char* name : {"From", "to", "CC", "Bcc", "Subject", "Date", "Message-ID",
                             "MIME-Version", "Reply-To", "Sender", "Return-Path", "Content-Type",
                             "content-transfer-encoding", "Content-Disposition", "Content-X"}) {
        CAPTURE(name);
        CHECK(refused_field(with(minimal(), "headers", {{name, "x"}})) ==
              std::string("headers.") + name);
    }
    const EmailMessage m =
        message(with(minimal(), "headers",
                     {{"X-Campaign", "spring"}, {"List-Unsubscribe", "<mailto:u@example.com>"}}));
    CHECK(m.headers.size() == 2);
}

TEST_CASE("an extra mail header's name must be printable ASCII without spaces or a colon") {
    CHECK(refused_field(with(minimal(), "headers", {{"X Foo", "x"}})) == "headers.X Foo");
    CHECK(refused_field(with(minimal(), "headers", {{"X:Foo", "x"}})) == "headers.X:Foo");
    CHECK(refused_field(with(minimal(), "headers", {{"", "x"}})) == "headers.");
    CHECK(refused_field(with(minimal(), "headers", {{"X-N\xc3\xa4me", "x"}})) ==
          "headers.X-N\xc3\xa4me");
    CHECK(refused_field(with(minimal(), "headers", {{"X-Count", 3}})) == "headers.X-Count");
    CHECK(refused_field(with(minimal(), "headers", {{"X-Long", std::string(901, 'x')}})) ==
          "headers.X-Long");
}

TEST_CASE("unknown e-mail payload fields are refused, so a misspelt bcc cannot go unnoticed") {
    CHECK(refused_field(with(minimal(), "bc", "b@example.com")) == "bc");
}

TEST_CASE("a mail needs a recipient, a body and a sender") {
    CHECK(refused_field({{"subject", "x"}, {"text", "x"}}) == "to");
    CHECK(refused_field({{"to", json::array()}, {"text", "x"}}) == "to");
    CHECK(refused_field({{"to", "a@example.com"}, {"subject", "x"}}) == "text");
    EmailOptions no_default = options();
    no_default.default_from.clear();
    CHECK(refused_field(minimal(), no_default) == "from");
    CHECK(refused_field(json::array()) == "payload");
    // Only the html body is enough.
    CHECK(message({{"to", "a@example.com"}, {"html", "<p>x</p>"}}).html == "<p>x</p>");
}

TEST_CASE("more mail recipients than the limit are refused naming the first one past it") {
    json p = minimal();
    p["to"] = {"a@example.com", "b@example.com"};
    p["cc"] = {"c@example.com", "d@example.com"};
    p["bcc"] = {"e@example.com", "f@example.com"};
    CHECK(refused_field(p) == "bcc[1]");
    p["bcc"] = "e@example.com";
    CHECK(message(p).recipients().size() == 5);
}

TEST_CASE("mail attachments are decoded, base64 may be wrapped, and their type defaults") {
    const EmailMessage m =
        message(with(minimal(), "attachments",
                     {{{"filename", "a.bin"}, {"content_base64", "AAEC\r\n/w=="}},
                      {{"filename", "r.csv"},
                       {"content_type", "text/csv; charset=utf-8"},
                       {"content_base64", "YSxi"}}}));
    REQUIRE(m.attachments.size() == 2);
    CHECK(m.attachments[0] ==
          EmailAttachment{"a.bin", "application/octet-stream", std::string("\0\1\2\xff", 4)});
    CHECK(m.attachments[1] == EmailAttachment{"r.csv", "text/csv; charset=utf-8", "a,b"});
}

TEST_CASE("a mail attachment is refused naming the part that is wrong") {
    auto att = [](json a) {
        return with(minimal(), "attachments", {std::move(a)});
    };
    CHECK(refused_field(att({{"filename", "a"}, {"content_base64", "not base64!"}})) ==
          "attachments[0].content_base64");
    CHECK(refused_field(att({{"filename", "a"}, {"content_base64", "YWJ"}})) ==
          "attachments[0].content_base64");
    CHECK(refused_field(att({{"content_base64", "YWJj"}})) == "attachments[0].filename");
    CHECK(refused_field(att({{"filename", "a"}})) == "attachments[0].content_base64");
    CHECK(refused_field(att({{"filename", "../etc/passwd"}, {"content_base64", "YWJj"}})) ==
          "attachments[0].filename");
    CHECK(refused_field(att({{"filename", "a\\b"}, {"content_base64", "YWJj"}})) ==
          "attachments[0].filename");
    CHECK(refused_field(att({{"filename", "a"}, {"content_base64", "YWJj"}, {"size", "3"}})) ==
          "attachments[0].size");
    for (const char* ct :
         {"pdf", "multipart/mixed", "message/rfc822", "text/plain; name=x",
          "text/plain; charset=\"utf-8\"", "text/plain; boundary=x", "a/b\r\nBcc: x"}) {
        CAPTURE(ct);
        CHECK(refused_field(
                  att({{"filename", "a"}, {"content_type", ct}, {"content_base64", "YWJj"}})) ==
              "attachments[0].content_type");
    }
}

TEST_CASE("a mail's attachments together may not exceed the size limit") {
    const std::string sixty = jobq::kinds::base64_encode(std::string(60, 'x'));
    json p = with(minimal(), "attachments",
                  {{{"filename", "a"}, {"content_base64", sixty}},
                   {{"filename", "b"}, {"content_base64", sixty}}});
    CHECK(refused_field(p) == "attachments[1].content_base64");
    p["attachments"].erase(1);
    CHECK(message(p).attachments.size() == 1);
}

TEST_CASE("a C++ caller can check an e-mail payload before enqueueing it") {
    const jobq::JobSpec spec = jobq::kinds::email_job(minimal());
    CHECK(spec.kind() == "jobq.email");
    CHECK_THROWS_AS(jobq::kinds::email_job(with(minimal(), "to", "nope")), jobq::Error);
}

// --- options ---------------------------------------------------------------------------------

TEST_CASE("e-mail options refuse a URL that is not smtp or smtps, or that carries credentials") {
    EmailOptions o = options();
    CHECK_NOTHROW(jobq::kinds::validate(o));
    o.url = "smtps://mail.example.com:465";
    CHECK_NOTHROW(jobq::kinds::validate(o));
    for (const char* url : {"", "http://mail.example.com", "mail.example.com:25",
                            "smtp://user:secret@mail.example.com", "smtp://", "smtp://h/?x=1"}) {
        CAPTURE(url);
        o.url = url;
        CHECK(options_refused(o) == "url");
    }
}

TEST_CASE("e-mail options refuse tls none with smtps or with a password, and a bad sender") {
    EmailOptions o = options();
    o.url = "smtps://mail.example.com";
    o.tls = jobq::kinds::SmtpTls::none;
    CHECK(options_refused(o) == "tls");
    o = options();
    o.tls = jobq::kinds::SmtpTls::none;
    o.user = "u";
    o.password = "p";
    CHECK(options_refused(o) == "tls");
    o = options();
    o.password = "p";
    CHECK(options_refused(o) == "user");
    o = options();
    o.default_from = "not an address";
    CHECK(options_refused(o) == "default_from");
    o = options();
    o.ca_file = "/nonexistent/ca.pem";
    CHECK(options_refused(o) == "ca_file");
    o = options();
    o.timeout = jobq::Duration::zero();
    CHECK(options_refused(o) == "timeout");
}

TEST_CASE("e-mail options from the environment name the variable at fault") {
    struct Env {
        const char* name;
        ~Env() { ::unsetenv(name); }
    };
    Env url{"JOBQ_SMTP_URL"}, tls{"JOBQ_SMTP_TLS"}, from{"JOBQ_SMTP_FROM"};
    ::unsetenv("JOBQ_SMTP_URL");
    auto field = [] {
        try {
            (void)jobq::kinds::email_options_from_env();
        } catch (const jobq::Error& e) {
            return e.field();
        }
        return std::string("accepted");
    };
    CHECK(field() == "JOBQ_SMTP_URL");
    ::setenv("JOBQ_SMTP_URL", "smtp://127.0.0.1:25", 1);
    ::setenv("JOBQ_SMTP_TLS", "sometimes", 1);
    CHECK(field() == "JOBQ_SMTP_TLS");
    ::setenv("JOBQ_SMTP_TLS", "opportunistic", 1);
    ::setenv("JOBQ_SMTP_FROM", "nope", 1);
    CHECK(field() == "JOBQ_SMTP_FROM");
    ::setenv("JOBQ_SMTP_FROM", "Ops <ops@example.com>", 1);
    const EmailOptions o = jobq::kinds::email_options_from_env();
    CHECK(o.url == "smtp://127.0.0.1:25");
    CHECK(o.tls == jobq::kinds::SmtpTls::opportunistic);
    CHECK(o.default_from == "Ops <ops@example.com>");
}

// --- the MIME text ---------------------------------------------------------------------------

TEST_CASE("mail encoded words round-trip, stay within 75 characters and never split a character") {
    // Two- three- and four-byte characters, so that a cut at 45 bytes would land inside one.
    std::string text;
    for (int i = 0; i < 40; ++i) text += "\xc3\xa9\xe2\x82\xac\xf0\x9f\x93\xa7 ";
    const auto words = jobq::kinds::encoded_words(text);
    CHECK(words.size() > 1);
    std::string joined;
    for (const auto& w : words) {
        CHECK(w.size() <= 75);
        const auto bytes = jobq::kinds::base64_decode(w.substr(10, w.size() - 12));
        REQUIRE(bytes.has_value());
        // Each word holds whole characters: it starts on a character's first byte.
        CHECK((static_cast<unsigned char>(bytes->front()) & 0xc0) != 0x80);
        joined += *bytes;
    }
    CHECK(joined == text);
}

TEST_CASE("a plain ASCII mail subject is folded at spaces and unfolds to itself") {
    std::string subject;
    for (int i = 0; i < 30; ++i) subject += "word" + std::to_string(i) + (i % 7 ? " " : "  ");
    subject += "end";
    const std::string out = render(message(with(minimal(), "subject", subject)));
    CHECK(header(out, "Subject") == subject);
    for (const auto& line : lines_of(out.substr(0, out.find("\r\n\r\n")))) {
        CHECK(line.size() <= 78);
    }
}

TEST_CASE("a non-ASCII mail subject is written as encoded words that decode to it") {
    std::string subject = "R\xc3\xa9sum\xc3\xa9 \xe2\x80\x94 ";
    for (int i = 0; i < 10; ++i) subject += "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e ";
    const std::string out = render(message(with(minimal(), "subject", subject)));
    const std::string h = header(out, "Subject");
    CHECK(h.find("=?UTF-8?B?") == 0);
    CHECK(decode_words(h) == subject);
    for (const auto& line : lines_of(out.substr(0, out.find("\r\n\r\n")))) {
        CHECK(line.size() <= 78);
    }
}

TEST_CASE("a mail subject that looks like an encoded word is itself encoded, not passed through") {
    const std::string subject = "=?UTF-8?B?SGk=?= literally";
    const std::string h = header(render(message(with(minimal(), "subject", subject))), "Subject");
    CHECK(decode_words(h) == subject);
}

TEST_CASE("mail display names are atoms, quoted strings or encoded words as each needs") {
    json p = minimal();
    p["to"] = {"Ann Lee <ann@example.com>", "\"Lee, Ann (ops)\" <lee@example.com>",
               "J\xc3\xbcrgen <j@example.de>", "plain@example.com"};
    const std::string to = header(render(message(p)), "To");
    CHECK(to.find("Ann Lee <ann@example.com>,") == 0);
    CHECK(to.find("\"Lee, Ann (ops)\" <lee@example.com>,") != std::string::npos);
    CHECK(to.find("=?UTF-8?B?") != std::string::npos);
    CHECK(decode_words(to) == "J\xc3\xbcrgen");
    CHECK(to.ends_with(", plain@example.com"));
    CHECK(header(render(message(with(minimal(), "to", "\"say \\\"hi\\\"\" <q@example.com>"))),
                 "To") == "\"say \\\"hi\\\"\" <q@example.com>");
}

TEST_CASE("a mail's headers say who, what and when, and never who was blind-copied") {
    json p = minimal();
    p["cc"] = "c@example.com";
    p["bcc"] = "secret@example.com";
    p["reply_to"] = "Help <help@example.com>";
    p["headers"] = {{"X-Campaign", "spring"}};
    const std::string out = render(message(p));
    CHECK(header(out, "From") == "Alerts <alerts@example.com>");
    CHECK(header(out, "To") == "a@example.com");
    CHECK(header(out, "Cc") == "c@example.com");
    CHECK(header(out, "Reply-To") == "Help <help@example.com>");
    CHECK(header(out, "Subject") == "Hello");
    CHECK(header(out, "Date") == "Tue, 14 Nov 2023 22:13:20 +0000");
    CHECK(header(out, "Message-ID") == "<jobq.1.2@example.com>");
    CHECK(header(out, "MIME-Version") == "1.0");
    CHECK(header(out, "X-Campaign") == "spring");
    CHECK(header(out, "Bcc") == "<absent>");
    CHECK(out.find("secret@example.com") == std::string::npos);
}

TEST_CASE("a mail's Date header is RFC 5322 in UTC") {
    using namespace std::chrono;
    CHECK(jobq::kinds::rfc5322_date(
              jobq::Timestamp{sys_days{2024y / February / 29} + 7h + 5min + 9s + 123ms}) ==
          "Thu, 29 Feb 2024 07:05:09 +0000");
    CHECK(jobq::kinds::rfc5322_date(jobq::Timestamp{}) == "Thu, 1 Jan 1970 00:00:00 +0000");
}

TEST_CASE(
    "a mail with text alone is text/plain, html alone text/html, both multipart/alternative text "
    "first") {
    const std::string text_only = render(message(minimal()));
    CHECK(header(text_only, "Content-Type") == "text/plain; charset=utf-8");
    CHECK(header(text_only, "Content-Transfer-Encoding") == "quoted-printable");

    const std::string html_only = render(message({{"to", "a@example.com"}, {"html", "<b>x</b>"}}));
    CHECK(header(html_only, "Content-Type") == "text/html; charset=utf-8");

    const std::string both = render(message(with(minimal(), "html", "<p>Hi.</p>")));
    CHECK(header(both, "Content-Type") == "multipart/alternative; boundary=\"=_jobq_tok3n_alt\"");
    const auto plain_at = both.find("Content-Type: text/plain");
    const auto html_at = both.find("Content-Type: text/html");
    CHECK(plain_at != std::string::npos);
    CHECK(html_at != std::string::npos);
    CHECK(plain_at < html_at);
    CHECK(both.ends_with("--=_jobq_tok3n_alt--\r\n"));
}

TEST_CASE("mail attachments make multipart/mixed with base64 lines of 76 characters") {
    std::string bytes;
    for (int i = 0; i < 90; ++i) bytes += static_cast<char>(i * 7);
    json p = with(minimal(), "html", "<p>Hi.</p>");
    p["attachments"] = {
        {{"filename", "data.bin"}, {"content_base64", jobq::kinds::base64_encode(bytes)}}};
    const std::string out = render(message(p));
    CHECK(header(out, "Content-Type") == "multipart/mixed; boundary=\"=_jobq_tok3n_mixed\"");
    CHECK(out.find("Content-Type: multipart/alternative") != std::string::npos);
    CHECK(out.find("Content-Disposition: attachment;\r\n filename=\"data.bin\"") !=
          std::string::npos);
    const auto body_at = out.find("Content-Transfer-Encoding: base64\r\n\r\n") + 37;
    const auto end = out.find("\r\n--=_jobq_tok3n_mixed--", body_at);
    std::string encoded = out.substr(body_at, end - body_at);
    const auto lines = lines_of(encoded);
    CHECK(lines.size() == 2);
    CHECK(lines[0].size() == 76);
    encoded.erase(std::remove(encoded.begin(), encoded.end(), '\r'), encoded.end());
    encoded.erase(std::remove(encoded.begin(), encoded.end(), '\n'), encoded.end());
    CHECK(jobq::kinds::base64_decode(encoded) == bytes);
}

TEST_CASE("a non-ASCII mail attachment filename is written with RFC 2231") {
    const std::string out = render(message(with(minimal(), "attachments",
                                                {{{"filename", "r\xc3\xa9sum\xc3\xa9 \"1\".pdf"},
                                                  {"content_type", "application/pdf"},
                                                  {"content_base64", "JVBERg=="}}})));
    CHECK(out.find("filename*=utf-8''r%C3%A9sum%C3%A9%20%221%22.pdf") != std::string::npos);
    CHECK(out.find("name*=utf-8''r%C3%A9sum%C3%A9%20%221%22.pdf") != std::string::npos);
}

TEST_CASE("a mail body's quoted-printable round-trips and keeps lines within 76 characters") {
    std::string text = "Caf\xc3\xa9 = good\n";
    text += std::string(200, 'x') + "\n";
    text += "trailing space \r\nFrom the start\r.leading dot\n\n";
    text += std::string(80, '=');
    const std::string qp = jobq::kinds::quoted_printable(text);
    for (const auto& line : lines_of(qp)) {
        CHECK(line.size() <= 76);
        CHECK_FALSE(line.ends_with(" "));
    }
    CHECK(qp.find("\r\n=46rom the start") != std::string::npos);
    // Line breaks of any kind come back as CRLF.
    std::string expected = "Caf\xc3\xa9 = good\r\n" + std::string(200, 'x') +
                           "\r\ntrailing space \r\nFrom the start\r\n.leading dot\r\n\r\n" +
                           std::string(80, '=');
    CHECK(decode_qp(qp) == expected);
}

TEST_CASE("every line of a rendered mail ends in CRLF and none is longer than 998 bytes") {
    json p = minimal();
    p["subject"] = std::string(1000, 'S');  // one word too long for any line: encoded instead
    p["to"] = json::array();
    for (int i = 0; i < 5; ++i) {
        p["to"].push_back(std::string(40, 'n') + " <" + std::string(60, 'a') + std::to_string(i) +
                          "@example.com>");
    }
    p["text"] = std::string(3000, 'y');
    const std::string out = render(message(p));
    CHECK(out.ends_with("\r\n"));
    for (const auto& line : lines_of(out)) {
        CHECK(line.size() <= 998);
        CHECK(line.find('\n') == std::string::npos);
        CHECK(line.find('\r') == std::string::npos);
    }
    CHECK(decode_words(header(out, "Subject")) == std::string(1000, 'S'));
}

TEST_CASE("rendering a mail is a function of the message, the date, the Message-ID and the token") {
    const EmailMessage m = message(with(minimal(), "html", "<p>x</p>"));
    CHECK(render(m) == render(m));
    CHECK(jobq::kinds::render_message(m, t0(), "<a@b>", "one") !=
          jobq::kinds::render_message(m, t0(), "<a@b>", "two"));
}
