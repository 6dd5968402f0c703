// AddressGuard: internal ranges, the allow-list by name and by network.

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstring>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "address_guard.hpp"
#include "jobq/error.hpp"

using namespace jobq::kinds;

namespace {

sockaddr_storage address(const std::string& text) {
    sockaddr_storage s{};
    auto* in4 = reinterpret_cast<sockaddr_in*>(&s);
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&s);
    if (inet_pton(AF_INET, text.c_str(), &in4->sin_addr) == 1) {
        in4->sin_family = AF_INET;
    } else {
        REQUIRE(inet_pton(AF_INET6, text.c_str(), &in6->sin6_addr) == 1);
        in6->sin6_family = AF_INET6;
    }
    return s;
}

std::string refusal(const AddressGuard& g, const std::string& addr, const std::string& host = "h") {
    auto s = address(addr);
    return g.refusal(reinterpret_cast<const sockaddr*>(&s), host);
}

}  // namespace

TEST_CASE("internal addresses are refused with the reason, public ones pass") {
    AddressGuard g(std::vector<std::string>{});
    struct Case {
        const char* addr;
        const char* why;
    };
    for (const Case& c : std::vector<Case>{
             {"127.0.0.1", "loopback"},
             {"127.255.0.9", "loopback"},
             {"10.1.2.3", "private"},
             {"172.16.0.1", "private"},
             {"172.31.255.255", "private"},
             {"192.168.1.1", "private"},
             {"169.254.169.254", "cloud metadata"},
             {"169.254.10.10", "link-local"},
             {"100.64.0.1", "carrier NAT"},
             {"100.100.100.200", "cloud metadata"},
             {"0.0.0.0", "unspecified"},
             {"224.0.0.1", "multicast"},
             {"255.255.255.255", "reserved"},
             {"::1", "loopback"},
             {"::", "unspecified"},
             {"fe80::1", "link-local"},
             {"fd00::1", "unique local"},
             {"fd00:ec2::254", "cloud metadata"},
             {"ff02::1", "multicast"},
             {"::ffff:127.0.0.1", "loopback"},
             {"::ffff:10.0.0.1", "private"},
             {"64:ff9b::a9fe:a9fe", "cloud metadata"},
             {"2002:7f00:1::", "loopback"},
             {"::ffff:0:7f00:1", "loopback"},
             {"64:ff9b:1::7f00:1", "local-use NAT64"},
         }) {
        CAPTURE(c.addr);
        const std::string why = refusal(g, c.addr);
        CHECK(why.find(c.why) != std::string::npos);
        CHECK(why.find("JOBQ_HTTP_ALLOW_HOSTS") != std::string::npos);
    }
    for (const char* ok :
         {"8.8.8.8", "93.184.216.34", "172.32.0.1", "2606:4700::1111", "::ffff:8.8.8.8"}) {
        CAPTURE(ok);
        CHECK(refusal(g, ok).empty());
    }
}

TEST_CASE("the allow-list admits internal addresses by network and by host name") {
    AddressGuard g({std::string("10.0.0.0/8"), std::string("::1"), std::string("hooks.internal"),
                    std::string("*.corp.example")});
    CHECK(refusal(g, "10.20.30.40").empty());
    CHECK(refusal(g, "::1").empty());
    CHECK_FALSE(refusal(g, "127.0.0.1").empty());
    CHECK(refusal(g, "192.168.0.1", "hooks.internal").empty());
    CHECK(refusal(g, "192.168.0.1", "HOOKS.internal").empty());
    CHECK(refusal(g, "192.168.0.1", "a.corp.example").empty());
    CHECK_FALSE(refusal(g, "192.168.0.1", "corp.example").empty());
    CHECK_FALSE(refusal(g, "192.168.0.1", "evilcorp.example").empty());
    CHECK_FALSE(refusal(g, "192.168.0.1", "hooks.internal.evil").empty());
}

TEST_CASE("an allow-list entry that is no host, address or network is refused by position") {
    try {
        AddressGuard g({std::string("10.0.0.0/8"), std::string("10.0.0.0/33")});
        FAIL("accepted a /33");
    } catch (const jobq::Error& e) {
        CHECK(e.field() == "allow_hosts[1]");
    }
    CHECK_THROWS_AS(AddressGuard({std::string("http://x")}), jobq::Error);
    CHECK_THROWS_AS(AddressGuard({std::string("")}), jobq::Error);
}

TEST_CASE("networks contain exactly their prefix") {
    auto n = parse_network("192.168.0.0/16");
    REQUIRE(n);
    CHECK(n->contains(parse_network("192.168.255.1")->bytes));
    CHECK_FALSE(n->contains(parse_network("192.169.0.1")->bytes));
    CHECK(parse_network("::/0")->contains(parse_network("8.8.8.8")->bytes));
    CHECK_FALSE(parse_network("1.2.3.4/"));
    CHECK_FALSE(parse_network("1.2.3"));
}
