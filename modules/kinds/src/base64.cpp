// Base64 (base64.hpp) on OpenSSL's EVP block encoder.

#include "base64.hpp"

#include <openssl/evp.h>

namespace jobq::kinds {

std::string base64_encode(std::string_view bytes) {
    std::string out(4 * ((bytes.size() + 2) / 3), '\0');
    if (bytes.empty()) return out;
    const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                  reinterpret_cast<const unsigned char*>(bytes.data()),
                                  static_cast<int>(bytes.size()));
    out.resize(static_cast<std::size_t>(n));
    return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
    if (text.size() % 4 != 0) return std::nullopt;
    if (text.empty()) return std::string{};
    for (char c : text) {
        const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                        (c >= '0' && c <= '9') || c == '+' || c == '/' || c == '=';
        if (!ok) return std::nullopt;
    }
    // '=' only as the last one or two characters.
    const auto first_pad = text.find('=');
    if (first_pad != std::string_view::npos &&
        (first_pad < text.size() - 2 ||
         text.find_first_not_of('=', first_pad) != std::string_view::npos)) {
        return std::nullopt;
    }
    std::string out(3 * text.size() / 4, '\0');
    const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                  reinterpret_cast<const unsigned char*>(text.data()),
                                  static_cast<int>(text.size()));
    if (n < 0) return std::nullopt;
    // EVP_DecodeBlock counts padding as zero bytes; take them off.
    std::size_t len = static_cast<std::size_t>(n);
    if (text.ends_with("=="))
        len -= 2;
    else if (text.ends_with("="))
        len -= 1;
    out.resize(len);
    return out;
}

}  // namespace jobq::kinds
