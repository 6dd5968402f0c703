#include "jobq/registry.hpp"

#include <mutex>

#include "detail/name_check.hpp"
#include "jobq/error.hpp"

namespace jobq {

Registry& Registry::add_entry(Entry e) {
    // The same rule JobSpec applies: a kind no job can have would never run.
    detail::check_name("kind", e.kind);
    std::unique_lock lock(mutex_);
    if (entries_.contains(e.kind)) {
        throw Error(ErrorCode::invalid_argument,
                    "kind: a handler for '" + e.kind + "' is already registered", "kind");
    }
    std::string kind = e.kind;
    entries_.emplace(std::move(kind), std::move(e));
    return *this;
}

const Registry::Entry* Registry::find(std::string_view kind) const {
    std::shared_lock lock(mutex_);
    auto it = entries_.find(kind);
    return it == entries_.end() ? nullptr : &it->second;
}

std::vector<std::string> Registry::kinds() const {
    std::shared_lock lock(mutex_);
    std::vector<std::string> out;
    out.reserve(entries_.size());
    for (const auto& [kind, entry] : entries_) out.push_back(kind);
    return out;
}

}  // namespace jobq
