#pragma once
// Standard Webhooks signatures (https://www.standardwebhooks.com): HMAC-SHA256 over
// "<webhook-id>.<webhook-timestamp>.<body>" with the secret's bytes, sent as "v1,<base64>".

#include <cstdint>
#include <string>
#include <string_view>

namespace jobq::kinds {

/// The value of the webhook-signature header for one message. `secret` is "whsec_<base64>"
/// (its decoded bytes are the key) or, without the prefix, the key itself. Throws
/// Error(invalid_argument, ..., "secret") for a whsec_ secret that is not base64.
std::string webhook_signature(std::string_view secret, std::string_view id, std::int64_t timestamp,
                              std::string_view body);

/// True when `signature_header` (one or more space-separated "v1,<base64>") holds a valid
/// signature of the message under `secret`; compared in constant time. The caller checks the
/// timestamp's age.
bool verify_webhook_signature(std::string_view secret, std::string_view id, std::int64_t timestamp,
                              std::string_view body, std::string_view signature_header);

}  // namespace jobq::kinds
