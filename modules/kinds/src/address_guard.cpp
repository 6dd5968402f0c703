// AddressGuard (address_guard.hpp): the internal ranges, the allow-list, the check.

#include "address_guard.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstring>

#include <fmt/format.h>

#include "ascii.hpp"
#include "jobq/error.hpp"

namespace jobq::kinds {

namespace {

using Bytes = std::array<std::uint8_t, 16>;

Bytes mapped_v4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) {
    return Bytes{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, a, b, c, d};
}

bool is_mapped_v4(const Bytes& x) {
    static constexpr std::uint8_t prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    return std::memcmp(x.data(), prefix, 12) == 0;
}

struct Range {
    Network net;
    std::string_view why;
};

Network v4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d, int prefix) {
    return Network{mapped_v4(a, b, c, d), 96 + prefix};
}

Network v6(std::initializer_list<std::uint8_t> head, int prefix) {
    Network n;
    std::copy(head.begin(), head.end(), n.bytes.begin());
    n.prefix = prefix;
    return n;
}

// IANA special-purpose registries (RFC 6890 and successors) and the cloud metadata services.
// Order matters only for the reason given: the narrower, more telling name comes first.
const std::vector<Range>& internal_ranges() {
    static const std::vector<Range> ranges = {
        {v4(169, 254, 169, 254, 32), "cloud metadata"},
        {v4(100, 100, 100, 200, 32), "cloud metadata"},
        {v4(0, 0, 0, 0, 8), "unspecified (0.0.0.0/8)"},
        {v4(10, 0, 0, 0, 8), "private"},
        {v4(100, 64, 0, 0, 10), "shared address space (carrier NAT)"},
        {v4(127, 0, 0, 0, 8), "loopback"},
        {v4(169, 254, 0, 0, 16), "link-local"},
        {v4(172, 16, 0, 0, 12), "private"},
        {v4(192, 0, 0, 0, 24), "IETF protocol assignments"},
        {v4(192, 0, 2, 0, 24), "documentation"},
        {v4(192, 88, 99, 0, 24), "6to4 relay anycast"},
        {v4(192, 168, 0, 0, 16), "private"},
        {v4(198, 18, 0, 0, 15), "benchmarking"},
        {v4(198, 51, 100, 0, 24), "documentation"},
        {v4(203, 0, 113, 0, 24), "documentation"},
        {v4(224, 0, 0, 0, 4), "multicast"},
        {v4(240, 0, 0, 0, 4), "reserved"},
        {v6({0xfd, 0x00, 0x0e, 0xc2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, 0x54}, 128),
         "cloud metadata"},
        {v6({}, 128), "unspecified (::)"},
        {v6({0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, 128), "loopback"},
        {v6({0x01, 0x00}, 64), "discard-only (100::/64)"},
        // Local-use NAT64 (RFC 8215): where the IPv4 address sits depends on the prefix length
        // the network chose, so the whole range is internal.
        {v6({0x00, 0x64, 0xff, 0x9b, 0x00, 0x01}, 48), "local-use NAT64"},
        {v6({0x20, 0x01, 0x0d, 0xb8}, 32), "documentation"},
        {v6({0x20, 0x01, 0x00, 0x00}, 23), "IETF protocol assignments"},
        {v6({0xfc}, 7), "private (unique local)"},
        {v6({0xfe, 0x80}, 10), "link-local"},
        {v6({0xfe, 0xc0}, 10), "site-local"},
        {v6({0xff}, 8), "multicast"},
    };
    return ranges;
}

bool valid_host_name(std::string_view h) {
    if (h.empty() || h.size() > 253) return false;
    for (char c : h) {
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_')) {
            return false;
        }
    }
    return true;
}

}  // namespace

bool Network::contains(const Bytes& address) const {
    int bits = prefix;
    for (std::size_t i = 0; i < 16 && bits > 0; ++i, bits -= 8) {
        const std::uint8_t mask = bits >= 8 ? 0xff : static_cast<std::uint8_t>(0xff << (8 - bits));
        if ((address[i] & mask) != (this->bytes[i] & mask)) return false;
    }
    return true;
}

std::optional<Network> parse_network(std::string_view text) {
    std::string_view addr = text;
    std::optional<int> prefix;
    if (auto slash = text.find('/'); slash != std::string_view::npos) {
        addr = text.substr(0, slash);
        std::string_view p = text.substr(slash + 1);
        int v = -1;
        auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), v);
        if (ec != std::errc{} || end != p.data() + p.size() || p.empty()) return std::nullopt;
        prefix = v;
    }
    const std::string a(addr);
    Network n;
    in_addr a4{};
    in6_addr a6{};
    if (inet_pton(AF_INET, a.c_str(), &a4) == 1) {
        const auto* b = reinterpret_cast<const std::uint8_t*>(&a4);
        n.bytes = mapped_v4(b[0], b[1], b[2], b[3]);
        if (prefix && (*prefix < 0 || *prefix > 32)) return std::nullopt;
        n.prefix = 96 + prefix.value_or(32);
    } else if (inet_pton(AF_INET6, a.c_str(), &a6) == 1) {
        std::memcpy(n.bytes.data(), &a6, 16);
        if (prefix && (*prefix < 0 || *prefix > 128)) return std::nullopt;
        n.prefix = prefix.value_or(128);
    } else {
        return std::nullopt;
    }
    return n;
}

std::optional<Bytes> address_bytes(const sockaddr* address) {
    Bytes out{};
    if (address->sa_family == AF_INET) {
        const auto* in = reinterpret_cast<const sockaddr_in*>(address);
        const auto* b = reinterpret_cast<const std::uint8_t*>(&in->sin_addr);
        return mapped_v4(b[0], b[1], b[2], b[3]);
    }
    if (address->sa_family == AF_INET6) {
        const auto* in6 = reinterpret_cast<const sockaddr_in6*>(address);
        std::memcpy(out.data(), &in6->sin6_addr, 16);
        return out;
    }
    return std::nullopt;
}

std::string address_text(const Bytes& bytes) {
    char buf[INET6_ADDRSTRLEN] = {};
    if (is_mapped_v4(bytes)) {
        inet_ntop(AF_INET, bytes.data() + 12, buf, sizeof buf);
    } else {
        inet_ntop(AF_INET6, bytes.data(), buf, sizeof buf);
    }
    return buf;
}

std::optional<std::string_view> internal_range(const Bytes& raw) {
    Bytes x = raw;
    // Addresses that carry an IPv4 address are judged by it: ::ffff:a.b.c.d (mapped),
    // 64:ff9b::a.b.c.d (NAT64), 2002:AABB:CCDD::/48 (6to4), ::a.b.c.d (deprecated compatible).
    static constexpr std::uint8_t nat64[12] = {0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};
    static constexpr std::uint8_t zeros[12] = {};
    // ::ffff:0:a.b.c.d, the IPv4-translated form (RFC 2765).
    static constexpr std::uint8_t translated[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0};
    if (std::memcmp(x.data(), nat64, 12) == 0 || std::memcmp(x.data(), translated, 12) == 0) {
        x = mapped_v4(raw[12], raw[13], raw[14], raw[15]);
    } else if (raw[0] == 0x20 && raw[1] == 0x02) {
        x = mapped_v4(raw[2], raw[3], raw[4], raw[5]);
    } else if (std::memcmp(x.data(), zeros, 12) == 0 &&
               !(raw[12] == 0 && raw[13] == 0 && raw[14] == 0 && raw[15] <= 1)) {
        x = mapped_v4(raw[12], raw[13], raw[14], raw[15]);
    }
    for (const Range& r : internal_ranges()) {
        if (r.net.contains(x)) return r.why;
    }
    return std::nullopt;
}

AddressGuard::AddressGuard(const std::vector<std::string>& allow) {
    for (std::size_t i = 0; i < allow.size(); ++i) {
        const std::string entry = ascii_lower(allow[i]);
        if (auto net = parse_network(entry)) {
            networks_.push_back(*net);
        } else if (entry.starts_with("*.") && valid_host_name(entry.substr(2))) {
            suffixes_.push_back(entry.substr(1));
        } else if (entry.find('/') == std::string::npos && valid_host_name(entry)) {
            hosts_.push_back(entry);
        } else {
            throw Error(ErrorCode::invalid_argument,
                        fmt::format("'{}' is neither a host name (or *.suffix), an address nor a "
                                    "CIDR network",
                                    printable(allow[i])),
                        fmt::format("allow_hosts[{}]", i));
        }
    }
}

bool AddressGuard::host_allowed(std::string_view host) const {
    const std::string h = ascii_lower(host);
    if (std::find(hosts_.begin(), hosts_.end(), h) != hosts_.end()) return true;
    for (const auto& s : suffixes_) {
        if (h.size() > s.size() && h.ends_with(s)) return true;
    }
    return false;
}

std::string AddressGuard::refusal(const sockaddr* address, std::string_view host) const {
    const auto bytes = address_bytes(address);
    if (!bytes)
        return fmt::format(
            "host '{}' resolved to an address that is neither IPv4 nor "
            "IPv6",
            printable(host));
    const auto why = internal_range(*bytes);
    if (!why) return {};
    if (host_allowed(host)) return {};
    for (const auto& n : networks_) {
        if (n.contains(*bytes)) return {};
    }
    return fmt::format(
        "refused to connect to {} ({}) for host '{}': internal addresses are not "
        "reached unless the worker allows them (HttpOptions::allow_hosts, "
        "JOBQ_HTTP_ALLOW_HOSTS)",
        address_text(*bytes), *why, printable(host));
}

}  // namespace jobq::kinds
