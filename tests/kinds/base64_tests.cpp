// base64_encode / base64_decode: RFC 4648 vectors and what is refused.

#include <doctest/doctest.h>

#include "base64.hpp"

using namespace jobq::kinds;

TEST_CASE("base64 encodes the RFC 4648 test vectors") {
    CHECK(base64_encode("") == "");
    CHECK(base64_encode("f") == "Zg==");
    CHECK(base64_encode("fo") == "Zm8=");
    CHECK(base64_encode("foo") == "Zm9v");
    CHECK(base64_encode("foobar") == "Zm9vYmFy");
    CHECK(base64_encode(std::string("\0\xff", 2)) == "AP8=");
}

TEST_CASE("base64 decodes what it encodes, binary included") {
    const std::string bytes("\0\x01\xfe\xff text \x80", 12);
    CHECK(base64_decode(base64_encode(bytes)) == bytes);
    CHECK(base64_decode("Zg==") == "f");
    CHECK(base64_decode("Zm8=") == "fo");
}

TEST_CASE("base64 refuses text that is not padded base64") {
    CHECK_FALSE(base64_decode("Zg"));
    CHECK_FALSE(base64_decode("Zm9v YmFy"));
    CHECK_FALSE(base64_decode("Zm9v\nYmFy"));
    CHECK_FALSE(base64_decode("Z=9v"));
    CHECK_FALSE(base64_decode("Zm9-"));
    CHECK_FALSE(base64_decode("===="));
}
