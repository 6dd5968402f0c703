#include "detail/utf8.hpp"

#include <fmt/format.h>

namespace jobq::detail {

namespace {

// Length of the sequence starting at s[i] and its code point, or 0 when it is not valid.
std::size_t decode(std::string_view s, std::size_t i, char32_t& cp) noexcept {
    const auto byte = [&](std::size_t k) {
        return static_cast<unsigned char>(s[k]);
    };
    const unsigned char b0 = byte(i);
    std::size_t n = 0;
    char32_t min = 0;
    if (b0 < 0x80) {
        cp = b0;
        return 1;
    } else if ((b0 & 0xE0) == 0xC0) {
        n = 2, cp = b0 & 0x1F, min = 0x80;
    } else if ((b0 & 0xF0) == 0xE0) {
        n = 3, cp = b0 & 0x0F, min = 0x800;
    } else if ((b0 & 0xF8) == 0xF0) {
        n = 4, cp = b0 & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    if (i + n > s.size()) return 0;
    for (std::size_t k = 1; k < n; ++k) {
        if ((byte(i + k) & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (byte(i + k) & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    return n;
}

bool is_control(char32_t cp) noexcept {
    return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F);
}

// Unicode spaces (category Zs and the line and paragraph separators), the format characters
// (category Cf) that are invisible or change how the text around them is shown (bidirectional
// overrides and isolates, the "Trojan Source" characters; soft hyphen, zero-width space, word
// joiners, BOM, interlinear annotation, musical and language tags) and the blank fillers that
// render as nothing (Hangul fillers, braille blank). Kept: the zero-width (non-)joiners and
// variation selectors that scripts and emoji need, and the emoji tag characters U+E0020..E007F.
// clang-format off
bool is_space_or_invisible(char32_t cp) noexcept {
    switch (cp) {
        case 0x0020: case 0x00A0: case 0x00AD: case 0x034F: case 0x061C: case 0x06DD:
        case 0x070F: case 0x08E2: case 0x115F: case 0x1160: case 0x1680: case 0x17B4:
        case 0x17B5: case 0x180E: case 0x200B: case 0x200E: case 0x200F: case 0x2028:
        case 0x2029: case 0x202F: case 0x205F: case 0x2800: case 0x3000: case 0x3164:
        case 0xFEFF: case 0xFFA0: case 0x110BD: case 0x110CD: case 0xE0001:
            return true;
        default:
            return (cp >= 0x0600 && cp <= 0x0605) || (cp >= 0x2000 && cp <= 0x200A) ||
                   (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2060 && cp <= 0x206F) ||
                   (cp >= 0xFFF9 && cp <= 0xFFFB) || (cp >= 0x13430 && cp <= 0x1343F) ||
                   (cp >= 0x1BCA0 && cp <= 0x1BCA3) || (cp >= 0x1D173 && cp <= 0x1D17A);
    }
}
// clang-format on

// What printable() writes as \uXXXX: controls, and invisible characters other than the space.
bool is_escaped(char32_t cp) noexcept {
    return is_control(cp) || (cp != 0x20 && is_space_or_invisible(cp));
}

}  // namespace

std::optional<std::size_t> invalid_utf8_at(std::string_view s) noexcept {
    char32_t cp = 0;
    for (std::size_t i = 0; i < s.size();) {
        const std::size_t n = decode(s, i, cp);
        if (n == 0) return i;
        i += n;
    }
    return std::nullopt;
}

std::size_t utf8_length(std::string_view s) noexcept {
    std::size_t count = 0;
    for (unsigned char c : s) count += (c & 0xC0) != 0x80;
    return count;
}

std::size_t utf8_boundary_at_or_before(std::string_view s, std::size_t i) noexcept {
    if (i >= s.size()) return s.size();
    while (i > 0 && (static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) --i;
    return i;
}

std::optional<std::string> first_control_character(std::string_view s) {
    char32_t cp = 0;
    for (std::size_t i = 0; i < s.size();) {
        const std::size_t n = decode(s, i, cp);
        if (n == 0) return std::nullopt;  // not UTF-8: the caller checks that first
        if (is_control(cp)) return fmt::format("U+{:04X}", static_cast<std::uint32_t>(cp));
        i += n;
    }
    return std::nullopt;
}

std::optional<std::string> first_space_or_invisible(std::string_view s) {
    char32_t cp = 0;
    for (std::size_t i = 0; i < s.size();) {
        const std::size_t n = decode(s, i, cp);
        if (n == 0) return std::nullopt;  // not UTF-8: the caller checks that first
        if (is_space_or_invisible(cp)) {
            return fmt::format("U+{:04X}", static_cast<std::uint32_t>(cp));
        }
        i += n;
    }
    return std::nullopt;
}

std::string printable(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    char32_t cp = 0;
    for (std::size_t i = 0; i < s.size();) {
        std::size_t n = decode(s, i, cp);
        if (n == 0) {
            out += fmt::format("\\x{:02x}", static_cast<unsigned char>(s[i]));
            n = 1;
        } else if (is_escaped(cp)) {
            out += fmt::format("\\u{:04x}", static_cast<std::uint32_t>(cp));
        } else {
            out.append(s.substr(i, n));
        }
        i += n;
    }
    return out;
}

}  // namespace jobq::detail
