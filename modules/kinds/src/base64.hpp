#pragma once
// Base64 (RFC 4648, standard alphabet, padded) on OpenSSL's encoder: webhook signatures and
// secrets, e-mail attachments and encoded words, response bodies that are not text.

#include <optional>
#include <string>
#include <string_view>

namespace jobq::kinds {

/// `bytes` in base64, on one line.
std::string base64_encode(std::string_view bytes);

/// The bytes `text` encodes, or nullopt when it is not valid padded base64. Whitespace is not
/// accepted.
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace jobq::kinds
