// parse_email_message and parse_email_address (email_message.hpp): the payload's shape, and
// every rule that keeps its text out of the message's structure and the SMTP dialogue.

#include "jobq/kinds/email_message.hpp"

#include <algorithm>
#include <array>
#include <cctype>

#include <fmt/format.h>

#include "ascii.hpp"
#include "base64.hpp"
#include "jobq/error.hpp"

namespace jobq::kinds {

namespace {

using nlohmann::json;

// RFC 5321 section 4.5.3.1: the longest forward-path and its parts.
constexpr std::size_t max_address_bytes = 254;
constexpr std::size_t max_local_part_bytes = 64;
constexpr std::size_t max_label_bytes = 63;
// Display names, subjects and header values are encoded and folded by the renderer; these
// bounds only keep a message a person could read.
constexpr std::size_t max_name_bytes = 256;
constexpr std::size_t max_subject_bytes = 1000;
constexpr std::size_t max_header_name_bytes = 76;
// With a name of at most 76 bytes, "Name: value" stays within RFC 5322's 998 even unfolded.
constexpr std::size_t max_header_value_bytes = 900;
constexpr std::size_t max_headers = 50;
constexpr std::size_t max_filename_bytes = 255;

// Headers the renderer writes itself, or that say who sent the message: a payload that could
// set them could forge the structure the renderer vouches for (a second From, a Content-Type
// that makes the body's boundary mean something else, a Bcc that shows hidden recipients).
constexpr std::array<std::string_view, 12> reserved_headers = {
    "from",       "to",           "cc",       "bcc",    "subject",     "date",
    "message-id", "mime-version", "reply-to", "sender", "return-path", "content-type"};

[[noreturn]] void refuse(std::string_view field, std::string_view why) {
    throw Error(ErrorCode::invalid_argument, fmt::format("{}: {}", field, why), std::string(field));
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

std::string indexed(std::string_view base, std::size_t i) {
    return fmt::format("{}[{}]", base, i);
}

// Where `s` stops being UTF-8 (strict: shortest forms, no surrogates, at most U+10FFFF).
std::optional<std::size_t> invalid_utf8_at(std::string_view s) {
    std::size_t i = 0;
    while (i < s.size()) {
        const auto b = static_cast<unsigned char>(s[i]);
        std::size_t n = 0;
        std::uint32_t cp = 0;
        if (b < 0x80) {
            ++i;
            continue;
        } else if (b >= 0xc2 && b <= 0xdf) {
            n = 1;
            cp = b & 0x1f;
        } else if (b >= 0xe0 && b <= 0xef) {
            n = 2;
            cp = b & 0x0f;
        } else if (b >= 0xf0 && b <= 0xf4) {
            n = 3;
            cp = b & 0x07;
        } else {
            return i;
        }
        for (std::size_t k = 1; k <= n; ++k) {
            if (i + k >= s.size()) return i;
            const auto c = static_cast<unsigned char>(s[i + k]);
            if ((c & 0xc0) != 0x80) return i;
            cp = (cp << 6) | (c & 0x3f);
        }
        const bool overlong = (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000);
        if (overlong || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
        i += n + 1;
    }
    return std::nullopt;
}

// Text that ends up in a header line: UTF-8 without control characters (horizontal tab only
// where `allow_tab`), so no CR, LF or NUL can end the line or the command early.
void check_header_text(std::string_view text, std::string_view field, bool allow_tab) {
    if (const auto at = invalid_utf8_at(text)) {
        refuse(field, fmt::format("is not UTF-8 (at byte {})", *at));
    }
    for (std::size_t i = 0; i < text.size(); ++i) {
        const auto c = static_cast<unsigned char>(text[i]);
        if ((c < 0x20 && !(allow_tab && c == '\t')) || c == 0x7f) {
            refuse(field, fmt::format("must not contain control characters such as CR, LF or NUL "
                                      "(U+{:04X} at byte {})",
                                      c, i));
        }
    }
}

bool is_atext(char c) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u)) return true;
    return std::string_view("!#$%&'*+-/=?^_`{|}~").find(c) != std::string_view::npos;
}

// An RFC 5322 addr-spec in its plain form: dot-atom "@" host name. Quoted local parts, domain
// literals, comments and non-ASCII are refused: they are rare, and each is a way to smuggle
// characters that mean something to an SMTP server or a header parser.
void check_addr_spec(std::string_view a, std::string_view field) {
    const auto bad = [&](std::string_view why) {
        refuse(field, fmt::format("'{}' is not an e-mail address: {}", printable(a), why));
    };
    if (a.empty()) bad("it is empty");
    if (a.size() > max_address_bytes) {
        bad(fmt::format("longer than {} bytes", max_address_bytes));
    }
    for (char c : a) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x21 || u > 0x7e) {
            bad("only printable ASCII without spaces is accepted");
        }
    }
    const auto at = a.find('@');
    if (at == std::string_view::npos) bad("no @");
    if (a.find('@', at + 1) != std::string_view::npos) bad("more than one @");
    const std::string_view local = a.substr(0, at);
    const std::string_view domain = a.substr(at + 1);
    if (local.empty()) bad("nothing before the @");
    if (local.size() > max_local_part_bytes) {
        bad(fmt::format("the part before the @ is longer than {} bytes", max_local_part_bytes));
    }
    if (local.front() == '.' || local.back() == '.' || local.find("..") != std::string_view::npos) {
        bad("dots must separate words before the @");
    }
    for (char c : local) {
        if (c != '.' && !is_atext(c)) {
            bad(fmt::format("'{}' is not allowed before the @", c));
        }
    }
    if (domain.empty()) bad("no domain after the @");
    std::size_t start = 0;
    while (start <= domain.size()) {
        const auto dot = domain.find('.', start);
        const std::string_view label = domain.substr(
            start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
        if (label.empty()) bad("the domain has an empty label");
        if (label.size() > max_label_bytes) {
            bad(fmt::format("a domain label is longer than {} bytes", max_label_bytes));
        }
        if (label.front() == '-' || label.back() == '-') {
            bad("a domain label starts or ends with '-'");
        }
        for (char c : label) {
            if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') {
                bad(fmt::format("'{}' is not allowed in the domain", c));
            }
        }
        if (dot == std::string_view::npos) break;
        start = dot + 1;
    }
}

void check_name(std::string_view name, std::string_view field) {
    if (name.size() > max_name_bytes) {
        refuse(field, fmt::format("the display name is longer than {} bytes", max_name_bytes));
    }
    check_header_text(name, field, false);
}

EmailAddress address_from_json(const json& v, const std::string& field) {
    if (v.is_string()) return parse_email_address(v.get_ref<const std::string&>(), field);
    if (!v.is_object()) {
        refuse(field,
               "must be an address (\"a@example.com\", \"Name <a@example.com>\") or an "
               "object {\"name\", \"address\"}");
    }
    EmailAddress out;
    for (const auto& [key, value] : v.items()) {
        const std::string sub = field + "." + printable(key);
        if (key != "name" && key != "address") {
            refuse(sub, "is not a field of an address (name, address)");
        }
        if (!value.is_string()) refuse(sub, "must be a string");
    }
    if (!v.contains("address")) refuse(field + ".address", "is required");
    out.address = v.at("address").get<std::string>();
    check_addr_spec(out.address, field + ".address");
    if (v.contains("name")) {
        out.name = std::string(trim(v.at("name").get_ref<const std::string&>()));
        check_name(out.name, field + ".name");
    }
    return out;
}

// A field that holds one address or an array of them.
std::vector<EmailAddress> addresses_from_json(const json& payload, std::string_view key) {
    std::vector<EmailAddress> out;
    const auto it = payload.find(key);
    if (it == payload.end() || it->is_null()) return out;
    const std::string field(key);
    if (it->is_array()) {
        for (std::size_t i = 0; i < it->size(); ++i) {
            out.push_back(address_from_json((*it)[i], indexed(field, i)));
        }
    } else {
        out.push_back(address_from_json(*it, field));
    }
    return out;
}

std::optional<std::string> body_from_json(const json& payload, std::string_view key) {
    const auto it = payload.find(key);
    if (it == payload.end() || it->is_null()) return std::nullopt;
    if (!it->is_string()) refuse(key, "must be a string");
    const auto& s = it->get_ref<const std::string&>();
    if (const auto at = invalid_utf8_at(s)) {
        refuse(key, fmt::format("is not UTF-8 (at byte {})", *at));
    }
    if (s.find('\0') != std::string::npos) refuse(key, "must not contain NUL");
    return s;
}

bool is_reserved_header(std::string_view name) {
    const std::string l = ascii_lower(name);
    if (l.starts_with("content-")) return true;
    return std::find(reserved_headers.begin(), reserved_headers.end(), l) != reserved_headers.end();
}

std::vector<EmailHeader> headers_from_json(const json& payload) {
    std::vector<EmailHeader> out;
    const auto it = payload.find("headers");
    if (it == payload.end() || it->is_null()) return out;
    if (!it->is_object()) refuse("headers", "must be an object of header names to values");
    if (it->size() > max_headers) {
        refuse("headers",
               fmt::format("has {} headers, more than the {} allowed", it->size(), max_headers));
    }
    for (const auto& [name, value] : it->items()) {
        const std::string field = "headers." + printable(name);
        if (name.empty() || name.size() > max_header_name_bytes) {
            refuse(field, fmt::format("a header name must have 1 to {} characters",
                                      max_header_name_bytes));
        }
        // RFC 5322 ftext: printable ASCII except the colon that ends the name.
        for (char c : name) {
            const auto u = static_cast<unsigned char>(c);
            if (u < 33 || u > 126 || c == ':') {
                refuse(field, "a header name may only hold printable ASCII without spaces or ':'");
            }
        }
        if (is_reserved_header(name)) {
            refuse(field,
                   "is written by jobq from the payload's own fields and cannot be set "
                   "here (From, To, Cc, Bcc, Reply-To, Subject, Date, Message-ID, "
                   "MIME-Version, Sender, Return-Path, Content-*)");
        }
        if (!value.is_string()) refuse(field, "must be a string");
        const auto& v = value.get_ref<const std::string&>();
        if (v.size() > max_header_value_bytes) {
            refuse(field, fmt::format("is longer than {} bytes", max_header_value_bytes));
        }
        check_header_text(v, field, true);
        out.push_back({name, v});
    }
    return out;
}

bool is_token_char(char c) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 32 || u >= 127) return false;
    return std::string_view("()<>@,;:\\\"/[]?=").find(c) == std::string_view::npos;
}

bool is_token(std::string_view s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), is_token_char);
}

// RFC 2045: type "/" subtype *(";" attribute "=" value), values as tokens. Quoted values are
// refused: nothing an attachment needs, and one more way to carry a quote into a header.
void check_content_type(std::string_view ct, std::string_view field) {
    const auto bad = [&](std::string_view why) {
        refuse(field, fmt::format("'{}' is not a content type: {}", printable(ct), why));
    };
    const auto semi = ct.find(';');
    const std::string_view type = trim(ct.substr(0, semi));
    const auto slash = type.find('/');
    if (slash == std::string_view::npos || !is_token(type.substr(0, slash)) ||
        !is_token(type.substr(slash + 1))) {
        bad("expected type/subtype, as in application/pdf");
    }
    const std::string major = ascii_lower(type.substr(0, slash));
    if (major == "multipart" || major == "message") {
        bad("multipart and message types cannot be attached as files (they would need their "
            "own structure)");
    }
    std::string_view rest = semi == std::string_view::npos ? std::string_view{} : ct.substr(semi);
    while (!rest.empty()) {
        rest.remove_prefix(1);  // the ';'
        const auto next = rest.find(';');
        const std::string_view param = trim(rest.substr(0, next));
        rest = next == std::string_view::npos ? std::string_view{} : rest.substr(next);
        const auto eq = param.find('=');
        if (eq == std::string_view::npos || !is_token(param.substr(0, eq)) ||
            !is_token(param.substr(eq + 1))) {
            bad("parameters must be name=value tokens, as in text/csv; charset=utf-8");
        }
        const std::string attr = ascii_lower(param.substr(0, eq));
        if (attr == "name" || attr == "boundary") {
            bad(fmt::format("'{}' is set by jobq (the filename goes in filename)", attr));
        }
    }
}

void check_filename(std::string_view name, std::string_view field) {
    if (name.empty()) refuse(field, "must not be empty");
    if (name.size() > max_filename_bytes) {
        refuse(field, fmt::format("is longer than {} bytes", max_filename_bytes));
    }
    check_header_text(name, field, false);
    // A recipient's client saves the file under this name: no directories, no way up.
    if (name.find_first_of("/\\") != std::string_view::npos || name == "." || name == "..") {
        refuse(field, "must be a file name without '/' or '\\'");
    }
}

std::vector<EmailAttachment> attachments_from_json(const json& payload, std::size_t max_bytes) {
    std::vector<EmailAttachment> out;
    const auto it = payload.find("attachments");
    if (it == payload.end() || it->is_null()) return out;
    if (!it->is_array()) {
        refuse("attachments", "must be an array of {filename, content_type, content_base64}");
    }
    std::size_t total = 0;
    for (std::size_t i = 0; i < it->size(); ++i) {
        const json& a = (*it)[i];
        const std::string field = indexed("attachments", i);
        if (!a.is_object())
            refuse(field,
                   "must be an object {filename, content_type, "
                   "content_base64}");
        for (const auto& [key, value] : a.items()) {
            const std::string sub = field + "." + printable(key);
            if (key != "filename" && key != "content_type" && key != "content_base64") {
                refuse(sub,
                       "is not a field of an attachment (filename, content_type, "
                       "content_base64)");
            }
            if (!value.is_string()) refuse(sub, "must be a string");
        }
        for (const char* required : {"filename", "content_base64"}) {
            if (!a.contains(required)) refuse(field + "." + required, "is required");
        }
        EmailAttachment att;
        att.filename = a.at("filename").get<std::string>();
        check_filename(att.filename, field + ".filename");
        att.content_type = a.contains("content_type") ? a.at("content_type").get<std::string>()
                                                      : "application/octet-stream";
        check_content_type(att.content_type, field + ".content_type");

        const std::string content_field = field + ".content_base64";
        const auto& encoded = a.at("content_base64").get_ref<const std::string&>();
        // Line breaks are how base64 is usually written (the base64 tool wraps at 76).
        std::string compact;
        compact.reserve(encoded.size());
        for (char c : encoded) {
            if (c != ' ' && c != '\t' && c != '\r' && c != '\n') compact.push_back(c);
        }
        // Refuse by the encoded size first: no decoding of what cannot be accepted anyway.
        if (total + compact.size() / 4 * 3 > max_bytes + 2) {
            refuse(content_field,
                   fmt::format("attachments may hold {} bytes together; this one brings the "
                               "total over it",
                               max_bytes));
        }
        auto bytes = base64_decode(compact);
        if (!bytes) refuse(content_field, "is not valid base64 (RFC 4648, padded)");
        total += bytes->size();
        if (total > max_bytes) {
            refuse(content_field,
                   fmt::format("attachments may hold {} bytes together; this one brings the "
                               "total to {}",
                               max_bytes, total));
        }
        att.bytes = std::move(*bytes);
        out.push_back(std::move(att));
    }
    return out;
}

constexpr std::array<std::string_view, 10> payload_fields = {
    "from", "to", "cc", "bcc", "reply_to", "subject", "text", "html", "headers", "attachments"};

}  // namespace

std::vector<std::string> EmailMessage::recipients() const {
    std::vector<std::string> out;
    std::vector<std::string> seen;  // domain lower-cased: only the local part is case-exact
    for (const auto* list : {&to, &cc, &bcc}) {
        for (const auto& a : *list) {
            const auto at = a.address.find('@');
            const std::string key = a.address.substr(0, at) + ascii_lower(a.address.substr(at));
            if (std::find(seen.begin(), seen.end(), key) != seen.end()) continue;
            seen.push_back(key);
            out.push_back(a.address);
        }
    }
    return out;
}

EmailAddress parse_email_address(std::string_view text, std::string_view field) {
    const std::string_view t = trim(text);
    EmailAddress out;
    if (!t.empty() && t.back() == '>') {
        const auto lt = t.rfind('<');
        if (lt == std::string_view::npos) {
            refuse(field, fmt::format("'{}' has a '>' without its '<'", printable(text)));
        }
        std::string_view name = trim(t.substr(0, lt));
        if (name.size() >= 2 && name.front() == '"' && name.back() == '"') {
            // A quoted string: backslash escapes one character.
            name = name.substr(1, name.size() - 2);
            for (std::size_t i = 0; i < name.size(); ++i) {
                if (name[i] == '\\' && i + 1 < name.size()) ++i;
                out.name.push_back(name[i]);
            }
        } else {
            out.name = std::string(name);
        }
        check_name(out.name, field);
        out.address = std::string(t.substr(lt + 1, t.size() - lt - 2));
    } else {
        out.address = std::string(t);
    }
    check_addr_spec(out.address, field);
    return out;
}

EmailMessage parse_email_message(const nlohmann::json& payload, const EmailOptions& options) {
    if (!payload.is_object()) refuse("payload", "must be a JSON object");
    for (const auto& [key, value] : payload.items()) {
        if (std::find(payload_fields.begin(), payload_fields.end(), key) == payload_fields.end()) {
            refuse(printable(key),
                   "is not a field of a jobq.email payload (from, to, cc, bcc, reply_to, "
                   "subject, text, html, headers, attachments)");
        }
    }
    EmailMessage m;
    if (const auto it = payload.find("from"); it != payload.end() && !it->is_null()) {
        m.from = address_from_json(*it, "from");
    } else if (!options.default_from.empty()) {
        m.from = parse_email_address(options.default_from, "default_from");
    } else {
        refuse("from", "is required (no default sender is configured)");
    }
    m.to = addresses_from_json(payload, "to");
    m.cc = addresses_from_json(payload, "cc");
    m.bcc = addresses_from_json(payload, "bcc");
    m.reply_to = addresses_from_json(payload, "reply_to");

    const std::size_t count = m.to.size() + m.cc.size() + m.bcc.size();
    if (count == 0) refuse("to", "at least one recipient is required (to, cc or bcc)");
    if (count > options.max_recipients) {
        // Name the first recipient past the limit.
        std::size_t i = options.max_recipients;
        std::string field;
        for (const auto& [key, list] : {std::pair{"to", &m.to}, {"cc", &m.cc}, {"bcc", &m.bcc}}) {
            if (!field.empty()) break;
            if (i < list->size()) {
                field = payload.at(key).is_array() ? indexed(key, i) : key;
            } else {
                i -= list->size();
            }
        }
        refuse(field, fmt::format("a message may have {} recipients (to, cc and bcc together); "
                                  "this one has {}",
                                  options.max_recipients, count));
    }

    if (const auto it = payload.find("subject"); it != payload.end() && !it->is_null()) {
        if (!it->is_string()) refuse("subject", "must be a string");
        m.subject = it->get<std::string>();
        if (m.subject.size() > max_subject_bytes) {
            refuse("subject", fmt::format("is longer than {} bytes", max_subject_bytes));
        }
        check_header_text(m.subject, "subject", true);
    }
    m.text = body_from_json(payload, "text");
    m.html = body_from_json(payload, "html");
    if (!m.text && !m.html) refuse("text", "a message needs a text or an html body (or both)");
    m.headers = headers_from_json(payload);
    m.attachments = attachments_from_json(payload, options.max_attachment_bytes);
    return m;
}

}  // namespace jobq::kinds
