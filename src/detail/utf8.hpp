#pragma once
// UTF-8 checks shared by names and JSON strings: strict decoding (no overlong forms, no
// surrogates, nothing above U+10FFFF), so every backend receives text it can store.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace jobq::detail {

/// Where `s` stops being valid UTF-8 (a byte offset), or nullopt when all of it is.
std::optional<std::size_t> invalid_utf8_at(std::string_view s) noexcept;

/// Number of characters (code points) in valid UTF-8 text `s`.
std::size_t utf8_length(std::string_view s) noexcept;

/// The largest character boundary of `s` at or before byte `i` (s.size() when `i` is past
/// the end): where text may be cut without splitting a multi-byte sequence.
std::size_t utf8_boundary_at_or_before(std::string_view s, std::size_t i) noexcept;

/// The first control character in valid UTF-8 text `s` (C0, DEL or C1) as "U+001B", or
/// nullopt when there is none.
std::optional<std::string> first_control_character(std::string_view s);

/// The first space (U+0020, U+00A0, U+3000, ...: Unicode's Zs, U+2028, U+2029) or invisible
/// format character (bidirectional controls, zero-width space, word joiners, BOM) in valid
/// UTF-8 text `s` as "U+00A0", or nullopt when there is none.
std::optional<std::string> first_space_or_invisible(std::string_view s);

/// `s` with control characters, and spaces and format characters other than U+0020 that would
/// be invisible or reorder the text around them, written as \uXXXX, for quoting untrusted text
/// in a message.
std::string printable(std::string_view s);

}  // namespace jobq::detail
