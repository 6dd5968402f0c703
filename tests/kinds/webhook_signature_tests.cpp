// Standard Webhooks signatures: the specification's example and verification.

#include <doctest/doctest.h>

#include "jobq/error.hpp"
#include "jobq/kinds/webhook_signature.hpp"

using namespace jobq::kinds;

// The example of the Standard Webhooks specification (spec/standard-webhooks.md).
TEST_CASE("a signature matches the Standard Webhooks specification's example") {
    const char* secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const char* id = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const std::int64_t ts = 1614265330;
    const char* body = R"({"test": 2432232314})";
    CHECK(webhook_signature(secret, id, ts, body) ==
          "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
}

TEST_CASE("verification accepts the right signature among several and nothing else") {
    const char* secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const std::string sig = webhook_signature(secret, "msg_1", 100, "body");
    CHECK(verify_webhook_signature(secret, "msg_1", 100, "body", sig));
    CHECK(verify_webhook_signature(secret, "msg_1", 100, "body", "v1,bm9wZQ== " + sig));
    CHECK_FALSE(verify_webhook_signature(secret, "msg_1", 100, "body!", sig));
    CHECK_FALSE(verify_webhook_signature(secret, "msg_2", 100, "body", sig));
    CHECK_FALSE(verify_webhook_signature(secret, "msg_1", 101, "body", sig));
    CHECK_FALSE(verify_webhook_signature("whsec_b3RoZXI=", "msg_1", 100, "body", sig));
    CHECK_FALSE(verify_webhook_signature(secret, "msg_1", 100, "body", "v2," + sig.substr(3)));
}

TEST_CASE("a whsec_ secret that is not base64 is refused") {
    try {
        (void)webhook_signature("whsec_not base64!", "id", 1, "");
        FAIL("accepted");
    } catch (const jobq::Error& e) {
        CHECK(e.field() == "secret");
    }
}
