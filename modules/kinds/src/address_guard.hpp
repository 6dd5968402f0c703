#pragma once
// AddressGuard: which addresses a jobq.http request may connect to. Asked for every connection
// libcurl opens (the first request and every redirect hop), with the address DNS gave, so a
// name that resolves to an internal address — or is re-pointed there after a check — cannot
// make the worker probe its own network.

#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace jobq::kinds {

/// An IPv4 or IPv6 network (IPv4 kept as IPv4-mapped IPv6).
struct Network {
    std::array<std::uint8_t, 16> bytes{};
    int prefix = 128;  ///< over the 128-bit form
    bool contains(const std::array<std::uint8_t, 16>& address) const;
};

/// Parses "10.0.0.0/8", "::1", "fd00::/8", "127.0.0.1" (a single address is /32 or /128).
std::optional<Network> parse_network(std::string_view text);

/// The 128-bit form of an AF_INET or AF_INET6 address; nullopt for other families.
std::optional<std::array<std::uint8_t, 16>> address_bytes(const sockaddr* address);

/// The address as text ("127.0.0.1", "::1").
std::string address_text(const std::array<std::uint8_t, 16>& bytes);

/// Why an address is not public ("loopback", "private", "link-local", "cloud metadata", ...),
/// or nullopt for a public unicast address. IPv4-mapped, NAT64 and 6to4 addresses are judged
/// by the IPv4 address they carry.
std::optional<std::string_view> internal_range(const std::array<std::uint8_t, 16>& bytes);

class AddressGuard {
  public:
    /// `allow`: host names (exact, or "*.suffix"), addresses and CIDRs that may be reached even
    /// when internal. Throws Error(invalid_argument, ..., "allow_hosts[i]") for an entry that
    /// is none of those.
    explicit AddressGuard(const std::vector<std::string>& allow);

    /// Why `host` at `address` may not be reached, or empty when it may.
    std::string refusal(const sockaddr* address, std::string_view host) const;

    /// True when `host` (a URL's host, lower case) is on the allow-list by name.
    bool host_allowed(std::string_view host) const;

  private:
    std::vector<std::string> hosts_;     // exact names, lower case
    std::vector<std::string> suffixes_;  // ".corp.example" for "*.corp.example"
    std::vector<Network> networks_;
};

}  // namespace jobq::kinds
