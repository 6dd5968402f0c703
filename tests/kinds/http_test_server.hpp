#pragma once
// The jobq.http tests' server (servers/http_server.py) and a blocking client to read what it saw.

#include <curl/curl.h>

#include <string>
#include <vector>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "server_process.hpp"

namespace jobq::test {

class HttpTestServer {
  public:
    explicit HttpTestServer(std::vector<std::string> args = {})
        : process_(std::string(JOBQ_TEST_SERVERS) + "/http_server.py", args),
          port_(process_.info().at("port").get<int>()) {}

    int port() const { return port_; }
    /// "http://127.0.0.1:PORT" + path.
    std::string url(const std::string& path, const char* scheme = "http") const {
        return std::string(scheme) + "://127.0.0.1:" + std::to_string(port_) + path;
    }
    /// What the server has seen: requests, the most held at once, open connections.
    nlohmann::json stats(const char* scheme = "http", const std::string& ca = {}) const {
        CURL* e = curl_easy_init();
        std::string out;
        curl_easy_setopt(e, CURLOPT_URL, url("/_stats", scheme).c_str());
        curl_easy_setopt(e, CURLOPT_PROXY, "");
        if (!ca.empty()) curl_easy_setopt(e, CURLOPT_CAINFO, ca.c_str());
        curl_easy_setopt(
            e, CURLOPT_WRITEFUNCTION, +[](char* d, size_t s, size_t n, void* o) -> size_t {
                static_cast<std::string*>(o)->append(d, s * n);
                return s * n;
            });
        curl_easy_setopt(e, CURLOPT_WRITEDATA, &out);
        const CURLcode rc = curl_easy_perform(e);
        curl_easy_cleanup(e);
        REQUIRE(rc == CURLE_OK);
        return nlohmann::json::parse(out);
    }

  private:
    ServerProcess process_;
    int port_;
};

}  // namespace jobq::test
