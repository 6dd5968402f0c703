// Standard Webhooks signatures (webhook_signature.hpp) on OpenSSL's HMAC.

#include "jobq/kinds/webhook_signature.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <string>

#include <fmt/format.h>

#include "base64.hpp"
#include "jobq/error.hpp"

namespace jobq::kinds {

namespace {

constexpr std::string_view secret_prefix = "whsec_";

std::string key_of(std::string_view secret) {
    if (!secret.starts_with(secret_prefix)) return std::string(secret);
    auto key = base64_decode(secret.substr(secret_prefix.size()));
    if (!key || key->empty()) {
        throw Error(ErrorCode::invalid_argument,
                    "a whsec_ secret must be followed by non-empty base64", "secret");
    }
    return *key;
}

std::string mac(const std::string& key, std::string_view id, std::int64_t timestamp,
                std::string_view body) {
    const std::string content = fmt::format("{}.{}.{}", id, timestamp, body);
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (!HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
              reinterpret_cast<const unsigned char*>(content.data()), content.size(), out, &len)) {
        throw Error(ErrorCode::invalid_argument, "HMAC-SHA256 failed", "secret");
    }
    return std::string(reinterpret_cast<const char*>(out), len);
}

}  // namespace

std::string webhook_signature(std::string_view secret, std::string_view id, std::int64_t timestamp,
                              std::string_view body) {
    return "v1," + base64_encode(mac(key_of(secret), id, timestamp, body));
}

bool verify_webhook_signature(std::string_view secret, std::string_view id, std::int64_t timestamp,
                              std::string_view body, std::string_view signature_header) {
    const std::string expected = base64_encode(mac(key_of(secret), id, timestamp, body));
    bool any = false;
    while (!signature_header.empty()) {
        const auto space = signature_header.find(' ');
        std::string_view one = signature_header.substr(0, space);
        signature_header = space == std::string_view::npos ? std::string_view{}
                                                           : signature_header.substr(space + 1);
        if (!one.starts_with("v1,")) continue;
        one.remove_prefix(3);
        // Every candidate is compared in full, so the time taken says nothing about the match.
        if (one.size() == expected.size() &&
            CRYPTO_memcmp(one.data(), expected.data(), expected.size()) == 0) {
            any = true;
        }
    }
    return any;
}

}  // namespace jobq::kinds
