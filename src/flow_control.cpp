#include "jobq/flow_control.hpp"
#include "jobq/backend/store.hpp"

#include <map>

#include <fmt/format.h>

#include "detail/name_check.hpp"
#include "jobq/error.hpp"

namespace jobq {

FlowControl::FlowControl(Store& store, const Clock& clock) : store_(store), clock_(clock) {}

LimitRecord FlowControl::set(const LimitScope& scope, const FlowLimits& limits) {
    scope.validate();
    limits.validate(scope);
    return store_.set_limits(scope, limits, clock_.now());
}

bool FlowControl::remove(const LimitScope& scope) {
    scope.validate();
    return store_.remove_limits(scope, clock_.now());
}

std::optional<LimitRecord> FlowControl::get(const LimitScope& scope) {
    scope.validate();
    return store_.limit_record(scope);
}

std::vector<LimitRecord> FlowControl::list() {
    return store_.limit_records();
}

bool FlowControl::pause(std::string_view queue) {
    detail::check_name("queue", queue);
    return store_.set_queue_paused(queue, true, clock_.now());
}

bool FlowControl::resume(std::string_view queue) {
    detail::check_name("queue", queue);
    return store_.set_queue_paused(queue, false, clock_.now());
}

std::vector<QueueInfo> FlowControl::queues() {
    const Timestamp now = clock_.now();
    std::map<std::string, QueueInfo, std::less<>> by_name;
    auto info = [&](const std::string& name) -> QueueInfo& {
        auto [it, added] = by_name.try_emplace(name);
        if (added) {
            it->second.name = name;
            it->second.stats.queue = name;
        }
        return it->second;
    };
    for (QueueStats& s : store_.stats(now)) {
        QueueInfo& q = info(s.queue);
        q.stats = std::move(s);
    }
    for (LimitRecord& r : store_.limit_records()) {
        if (r.scope.type != ScopeType::queue) continue;
        QueueInfo& q = info(r.scope.name);
        q.paused = r.paused;
        q.limits = std::move(r);
    }
    for (const WorkerRecord& w : store_.workers(now)) {
        for (const std::string& name : w.queues) info(name).workers.push_back(w.id);
    }
    std::vector<QueueInfo> out;
    out.reserve(by_name.size());
    for (auto& [name, q] : by_name) out.push_back(std::move(q));
    return out;
}

std::vector<WorkerRecord> FlowControl::workers() {
    return store_.workers(clock_.now());
}

}  // namespace jobq
