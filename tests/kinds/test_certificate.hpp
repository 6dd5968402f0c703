#pragma once
// A self-signed certificate for 127.0.0.1 and localhost, made once per test run with the openssl
// tool: the test servers' identity, and the CA a worker is told to trust.

#include <cstdlib>
#include <string>

#include <doctest/doctest.h>

#include "support/temp_dir.hpp"

namespace jobq::test {

struct TestCertificate {
    TempDir dir;
    std::string cert = (dir.path() / "cert.pem").string();
    std::string key = (dir.path() / "key.pem").string();
    TestCertificate() {
        const std::string command =
            "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost "
            "-addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout '" +
            key + "' -out '" + cert + "' >/dev/null 2>&1";
        REQUIRE(std::system(command.c_str()) == 0);
    }
};

/// The run's certificate (made on first use).
inline const TestCertificate& test_certificate() {
    static const TestCertificate certificate;
    return certificate;
}

}  // namespace jobq::test
