#include "jobq/limit_scope.hpp"

#include <string>

#include <fmt/format.h>

#include "detail/name_check.hpp"
#include "jobq/error.hpp"

namespace jobq {

namespace {

[[noreturn]] void bad(std::string message) {
    throw Error(ErrorCode::invalid_argument, "scope: " + std::move(message), "scope");
}

}  // namespace

std::string_view to_string(ScopeType type) noexcept {
    switch (type) {
        case ScopeType::queue:
            return "queue";
        case ScopeType::kind:
            return "kind";
        case ScopeType::tenant:
            return "tenant";
    }
    return "queue";
}

std::string LimitScope::to_string() const {
    return fmt::format("{}:{}", jobq::to_string(type), name);
}

LimitScope LimitScope::parse(std::string_view text) {
    const std::size_t colon = text.find(':');
    if (colon == std::string_view::npos) {
        bad(fmt::format("expected queue:NAME, kind:NAME or tenant:NAME (got '{}')", text));
    }
    const std::string_view type = text.substr(0, colon);
    LimitScope scope;
    scope.name = std::string(text.substr(colon + 1));
    if (type == "queue") {
        scope.type = ScopeType::queue;
    } else if (type == "kind") {
        scope.type = ScopeType::kind;
    } else if (type == "tenant") {
        scope.type = ScopeType::tenant;
    } else {
        bad(fmt::format("unknown scope type '{}' in '{}' (use queue, kind or tenant)", type, text));
    }
    scope.validate();
    return scope;
}

void LimitScope::validate() const {
    if (const auto why = detail::name_problem(name)) {
        bad(fmt::format("{} name {}", jobq::to_string(type), *why));
    }
    // A job's tenant cannot contain ':' (JobSpec::validate), so a limit on such a name would
    // never apply to anything.
    if (type == ScopeType::tenant && name.find(':') != std::string::npos) {
        bad(fmt::format("tenant name must not contain ':' (got '{}')", name));
    }
}

}  // namespace jobq
