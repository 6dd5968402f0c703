// render_message and its encodings (mime_render.hpp).

#include "mime_render.hpp"

#include <array>
#include <chrono>

#include <fmt/format.h>

#include "base64.hpp"

namespace jobq::kinds {

namespace {

constexpr std::string_view crlf = "\r\n";
// RFC 5322 asks for lines of at most 78 characters where it can; 998 is the hard limit.
constexpr std::size_t preferred_line = 78;
// "=?UTF-8?B?" + base64 + "?=" within 75 characters leaves 60 base64 characters: 45 bytes.
constexpr std::size_t encoded_word_bytes = 45;
constexpr std::size_t base64_line = 76;

bool is_continuation(char c) {
    return (static_cast<unsigned char>(c) & 0xc0) == 0x80;
}

bool is_atext(char c) {
    const auto u = static_cast<unsigned char>(c);
    if ((u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9')) return true;
    return std::string_view("!#$%&'*+-/=?^_`{|}~").find(c) != std::string_view::npos;
}

bool is_ascii_printable(std::string_view s) {
    for (char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u > 0x7e) return false;
    }
    return true;
}

// One header field built unit by unit: a unit is never split, and the white space before it is
// where the line may fold (RFC 5322 section 2.2.3: CRLF goes before the white space, which
// stays, so unfolding gives the original text back).
class HeaderField {
  public:
    explicit HeaderField(std::string_view name) : text_(name), line_(name.size() + 1) {
        text_ += ':';
    }

    void add(std::string_view unit, std::string_view space = " ") {
        if (!unit.empty() && line_ + space.size() + unit.size() > preferred_line &&
            !first_on_line_) {
            text_ += crlf;
            line_ = 0;
        }
        text_ += space;
        text_ += unit;
        line_ += space.size() + unit.size();
        first_on_line_ = false;
    }

    /// Characters left on the current line before the preferred limit, after a space.
    std::size_t room() const {
        return line_ + 1 >= preferred_line ? 0 : preferred_line - line_ - 1;
    }

    std::string finish() && {
        text_ += crlf;
        return std::move(text_);
    }

  private:
    std::string text_;
    std::size_t line_;
    // Right after "Name:" a unit stays on the line however long it is: folding there would
    // leave a line of the name alone.
    bool first_on_line_ = true;
};

void add_encoded(HeaderField& h, std::string_view text) {
    // The first word is cut to what is left of the line, so that it fits beside the name.
    for (const auto& word : encoded_words(text, h.room())) h.add(word);
}

// Unstructured text (Subject, extra headers): as it is when it is plain ASCII that folds
// within the limits and cannot be mistaken for encoded words; as encoded words otherwise.
std::string unstructured(std::string_view name, std::string_view value) {
    HeaderField h(name);
    bool plain = value.find("=?") == std::string_view::npos;
    for (char c : value) {
        const auto u = static_cast<unsigned char>(c);
        if ((u < 0x20 && c != '\t') || u > 0x7e) plain = false;
    }
    // A word too long for a line of its own after folding goes as encoded words instead.
    for (std::size_t i = 0, end = 0; plain && i < value.size(); i = end) {
        const std::size_t w = std::min(value.size(), value.find_first_not_of(" \t", i));
        end = std::min(value.size(), value.find_first_of(" \t", w));
        if (end - w > 900) plain = false;
    }
    if (!plain) {
        add_encoded(h, value);
        return std::move(h).finish();
    }
    std::size_t i = 0;
    bool first = true;
    while (i < value.size()) {
        std::size_t w = value.find_first_not_of(" \t", i);
        if (w == std::string_view::npos) w = value.size();
        std::size_t end = value.find_first_of(" \t", w);
        if (end == std::string_view::npos) end = value.size();
        std::string space(value.substr(i, w - i));
        if (first) space.insert(space.begin(), ' ');  // the one after the colon
        h.add(value.substr(w, end - w), space);
        first = false;
        i = end;
    }
    return std::move(h).finish();
}

// A display name as an RFC 5322 phrase: atoms as they are, other ASCII as a quoted string,
// anything else (or anything that looks like an encoded word) as encoded words.
void add_display_name(HeaderField& h, std::string_view name) {
    if (!is_ascii_printable(name) || name.find("=?") != std::string_view::npos) {
        add_encoded(h, name);
        return;
    }
    bool atoms =
        name.front() != ' ' && name.back() != ' ' && name.find("  ") == std::string_view::npos;
    for (char c : name) {
        if (c != ' ' && !is_atext(c)) atoms = false;
    }
    if (atoms) {
        std::size_t i = 0;
        while (i <= name.size()) {
            const auto sp = name.find(' ', i);
            h.add(name.substr(i, sp == std::string_view::npos ? std::string_view::npos : sp - i));
            if (sp == std::string_view::npos) break;
            i = sp + 1;
        }
        return;
    }
    std::string quoted = "\"";
    for (char c : name) {
        if (c == '"' || c == '\\') quoted += '\\';
        quoted += c;
    }
    quoted += '"';
    h.add(quoted);
}

std::string address_list(std::string_view name, const std::vector<EmailAddress>& list) {
    HeaderField h(name);
    for (std::size_t i = 0; i < list.size(); ++i) {
        const auto& a = list[i];
        const std::string comma = i + 1 < list.size() ? "," : "";
        if (a.name.empty()) {
            h.add(a.address + comma);
        } else {
            add_display_name(h, a.name);
            h.add("<" + a.address + ">" + comma);
        }
    }
    return std::move(h).finish();
}

std::string base64_lines(std::string_view bytes) {
    const std::string flat = base64_encode(bytes);
    std::string out;
    out.reserve(flat.size() + flat.size() / base64_line * 2);
    for (std::size_t i = 0; i < flat.size(); i += base64_line) {
        if (i > 0) out += crlf;
        out += flat.substr(i, base64_line);
    }
    return out;
}

// RFC 2231 attr-char: what may stand unencoded in an extended parameter value.
bool is_attr_char(char c) {
    const auto u = static_cast<unsigned char>(c);
    if ((u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9')) return true;
    return std::string_view("!#$&+-.^_`|~").find(c) != std::string_view::npos;
}

// `name="value"` when the value is plain ASCII, else RFC 2231's `name*=utf-8''%XX...`, which
// every current mail reader decodes (Python's email package among them).
std::string file_parameter(std::string_view name, std::string_view value) {
    if (is_ascii_printable(value) && value.find_first_of("\"\\") == std::string_view::npos) {
        return fmt::format("{}=\"{}\"", name, value);
    }
    std::string out = fmt::format("{}*=utf-8''", name);
    for (char c : value) {
        if (is_attr_char(c)) {
            out += c;
        } else {
            out += fmt::format("%{:02X}", static_cast<unsigned char>(c));
        }
    }
    return out;
}

// A MIME entity: its Content-* header lines and its body (without a final CRLF).
struct Part {
    std::string headers;
    std::string body;
};

Part text_part(std::string_view subtype, std::string_view text) {
    return {fmt::format("Content-Type: text/{}; charset=utf-8\r\n"
                        "Content-Transfer-Encoding: quoted-printable\r\n",
                        subtype),
            quoted_printable(text)};
}

Part attachment_part(const EmailAttachment& a) {
    return {fmt::format("Content-Type: {};\r\n {}\r\n"
                        "Content-Disposition: attachment;\r\n {}\r\n"
                        "Content-Transfer-Encoding: base64\r\n",
                        a.content_type, file_parameter("name", a.filename),
                        file_parameter("filename", a.filename)),
            base64_lines(a.bytes)};
}

// Every part is quoted-printable or base64, neither of which can produce "=_": a boundary
// holding it never occurs in the content. The random token keeps it unguessable too.
Part multipart(std::string_view subtype, std::string boundary, const std::vector<Part>& parts) {
    Part out;
    out.headers =
        fmt::format("Content-Type: multipart/{};\r\n boundary=\"{}\"\r\n", subtype, boundary);
    for (const auto& p : parts) {
        out.body += fmt::format("--{}\r\n{}\r\n{}\r\n", boundary, p.headers, p.body);
    }
    out.body += fmt::format("--{}--", boundary);
    return out;
}

}  // namespace

std::vector<std::string> encoded_words(std::string_view text, std::size_t first_word_limit) {
    std::vector<std::string> words;
    // 12 characters of "=?UTF-8?B?" and "?=", then 4 of base64 for every 3 bytes.
    std::size_t first_bytes = first_word_limit > 12 ? (first_word_limit - 12) / 4 * 3 : 0;
    // Too little room for a character of up to four bytes: the first word gets a line of its
    // own instead (or stays long, which only the preferred limit minds).
    if (first_bytes < 4) first_bytes = encoded_word_bytes;
    std::size_t i = 0;
    while (i < text.size()) {
        const std::size_t budget =
            words.empty() ? std::min(first_bytes, encoded_word_bytes) : encoded_word_bytes;
        std::size_t end = std::min(text.size(), i + budget);
        // Back off to the start of a character so that no word holds half of one.
        while (end < text.size() && end > i && is_continuation(text[end])) --end;
        if (end == i) end = std::min(text.size(), i + budget);  // not UTF-8 at all
        words.push_back("=?UTF-8?B?" + base64_encode(text.substr(i, end - i)) + "?=");
        i = end;
    }
    return words;
}

std::string quoted_printable(std::string_view text) {
    std::string out;
    out.reserve(text.size() + text.size() / 8);
    std::size_t line = 0;  // characters on the current output line
    auto emit = [&](std::string_view token) {
        // Room for the "=" of a soft break: lines stay within 76 characters.
        if (line + token.size() > 75) {
            out += "=\r\n";
            line = 0;
        }
        out += token;
        line += token.size();
    };
    std::size_t i = 0;
    while (i <= text.size()) {
        std::size_t eol = text.find_first_of("\r\n", i);
        if (eol == std::string_view::npos) eol = text.size();
        const std::string_view l = text.substr(i, eol - i);
        // mbox readers turn a line starting with "From " into ">From ": encode its F.
        const bool from_line = l.starts_with("From ");
        for (std::size_t k = 0; k < l.size(); ++k) {
            const auto c = static_cast<unsigned char>(l[k]);
            const bool last = k + 1 == l.size();
            const bool literal =
                (c >= 33 && c <= 126 && c != '=') || ((c == ' ' || c == '\t') && !last);
            if (literal && !(from_line && k == 0)) {
                emit(std::string_view(&l[k], 1));
            } else {
                emit(fmt::format("={:02X}", c));
            }
        }
        if (eol == text.size()) break;
        out += crlf;
        line = 0;
        i = eol + (text.compare(eol, 2, "\r\n") == 0 ? 2 : 1);
    }
    return out;
}

std::string rfc5322_date(Timestamp t) {
    using namespace std::chrono;
    static constexpr std::array<std::string_view, 7> days = {"Sun", "Mon", "Tue", "Wed",
                                                             "Thu", "Fri", "Sat"};
    static constexpr std::array<std::string_view, 12> months = {
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    const auto secs = floor<seconds>(t);
    const auto day = floor<std::chrono::days>(secs);
    const year_month_day ymd{day};
    const hh_mm_ss hms{secs - day};
    return fmt::format("{}, {} {} {:04} {:02}:{:02}:{:02} +0000", days[weekday{day}.c_encoding()],
                       static_cast<unsigned>(ymd.day()),
                       months[static_cast<unsigned>(ymd.month()) - 1], static_cast<int>(ymd.year()),
                       hms.hours().count(), hms.minutes().count(), hms.seconds().count());
}

std::string render_message(const EmailMessage& m, Timestamp date, std::string_view message_id,
                           std::string_view boundary_token) {
    std::string out;
    out += fmt::format("Date: {}\r\n", rfc5322_date(date));
    out += address_list("From", {m.from});
    if (!m.to.empty()) out += address_list("To", m.to);
    if (!m.cc.empty()) out += address_list("Cc", m.cc);
    if (!m.reply_to.empty()) out += address_list("Reply-To", m.reply_to);
    if (!m.subject.empty()) out += unstructured("Subject", m.subject);
    out += fmt::format("Message-ID: {}\r\n", message_id);
    for (const auto& h : m.headers) out += unstructured(h.name, h.value);
    out += "MIME-Version: 1.0\r\n";

    Part body;
    if (m.text && m.html) {
        body = multipart("alternative", fmt::format("=_jobq_{}_alt", boundary_token),
                         {text_part("plain", *m.text), text_part("html", *m.html)});
    } else if (m.html) {
        body = text_part("html", *m.html);
    } else {
        body = text_part("plain", m.text.value_or(""));
    }
    if (!m.attachments.empty()) {
        std::vector<Part> parts{std::move(body)};
        for (const auto& a : m.attachments) parts.push_back(attachment_part(a));
        body = multipart("mixed", fmt::format("=_jobq_{}_mixed", boundary_token), parts);
    }
    out += body.headers;
    out += crlf;
    out += body.body;
    // SMTP data ends with a line break. A multipart body ends with its closing delimiter; a
    // single part's own last line break (text that ends with one) is its content, not an
    // extra one.
    if (!out.ends_with(crlf)) out += crlf;
    return out;
}

}  // namespace jobq::kinds
