#pragma once
// LimitScope: what a flow limit applies to — every job of a queue, of a kind, or of a tenant.

#include <compare>
#include <string>
#include <string_view>

namespace jobq {

/// The three things a limit can be set on.
enum class ScopeType { queue, kind, tenant };

/// "queue", "kind" or "tenant".
std::string_view to_string(ScopeType type) noexcept;

/// A scope of flow limits: `queue:mail`, `kind:email.send`, `tenant:acme`.
struct LimitScope {
    ScopeType type = ScopeType::queue;
    std::string name;

    static LimitScope queue(std::string name) { return {ScopeType::queue, std::move(name)}; }
    static LimitScope kind(std::string name) { return {ScopeType::kind, std::move(name)}; }
    static LimitScope tenant(std::string name) { return {ScopeType::tenant, std::move(name)}; }

    /// "queue:mail".
    std::string to_string() const;
    /// Parses "queue:NAME", "kind:NAME" or "tenant:NAME"; throws Error(invalid_argument,
    /// field "scope") naming what is wrong. The name follows the rules of JobSpec names.
    static LimitScope parse(std::string_view text);
    /// Throws Error(invalid_argument, field "scope") when the name is not a valid name.
    void validate() const;

    friend auto operator<=>(const LimitScope&, const LimitScope&) = default;
    friend bool operator==(const LimitScope&, const LimitScope&) = default;
};

}  // namespace jobq
