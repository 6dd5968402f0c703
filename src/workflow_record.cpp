#include "jobq/workflow_record.hpp"

#include <unordered_map>

#include "jobq/time_format.hpp"

namespace jobq {

namespace {

constexpr WorkflowState all_states[] = {WorkflowState::running, WorkflowState::completed,
                                        WorkflowState::failed, WorkflowState::cancelled};

nlohmann::json optional_time(const std::optional<Timestamp>& t) {
    return t ? nlohmann::json(format_timestamp(*t)) : nlohmann::json(nullptr);
}

}  // namespace

std::string_view to_string(WorkflowState s) noexcept {
    switch (s) {
        case WorkflowState::running:
            return "running";
        case WorkflowState::completed:
            return "completed";
        case WorkflowState::failed:
            return "failed";
        case WorkflowState::cancelled:
            return "cancelled";
    }
    return "unknown";
}

std::optional<WorkflowState> parse_workflow_state(std::string_view name) noexcept {
    for (const WorkflowState s : all_states) {
        if (to_string(s) == name) return s;
    }
    return std::nullopt;
}

std::string_view to_string(WorkflowKind k) noexcept {
    return k == WorkflowKind::batch ? "batch" : "workflow";
}

nlohmann::json to_json(const WorkflowSummary& w) {
    nlohmann::json counts = nlohmann::json::object();
    for (const JobState s : all_job_states) {
        const std::int64_t n = w.counts[static_cast<std::size_t>(s)];
        if (n != 0) counts[std::string(to_string(s))] = n;
    }
    return {
        {"id", w.id},
        {"name", w.name},
        {"kind", std::string(to_string(w.kind))},
        {"state", std::string(to_string(w.state))},
        {"tenant", w.tenant.empty() ? nlohmann::json(nullptr) : nlohmann::json(w.tenant)},
        {"deadline", optional_time(w.deadline)},
        {"created_at", format_timestamp(w.created_at)},
        {"finished_at", optional_time(w.finished_at)},
        {"counts", std::move(counts)},
    };
}

nlohmann::json to_json(const WorkflowRecord& w) {
    nlohmann::json j = to_json(w.summary);
    std::unordered_map<JobId, const Job*> by_id;
    for (const Job& job : w.jobs) by_id.emplace(job.id, &job);
    nlohmann::json jobs = nlohmann::json::array();
    for (const Job& job : w.jobs) {
        nlohmann::json one = to_json(job);
        nlohmann::json deps = nlohmann::json::array();
        for (const WorkflowEdge& e : w.edges) {
            if (e.job != job.id) continue;
            const auto d = by_id.find(e.dep);
            nlohmann::json dep{{"id", e.dep},
                               {"name", d == by_id.end() ? nlohmann::json(nullptr)
                                                         : nlohmann::json(d->second->step)},
                               {"state", d == by_id.end()
                                             ? nlohmann::json("removed")
                                             : nlohmann::json(to_string(d->second->state))}};
            if (e.on_discarded != DependencyPolicy::cancel) {
                dep["on_discarded"] = std::string(to_string(e.on_discarded));
            }
            if (e.on_cancelled != DependencyPolicy::cancel) {
                dep["on_cancelled"] = std::string(to_string(e.on_cancelled));
            }
            deps.push_back(std::move(dep));
        }
        one["deps"] = std::move(deps);
        jobs.push_back(std::move(one));
    }
    j["jobs"] = std::move(jobs);
    if (!w.callbacks.empty()) {
        nlohmann::json cbs = nlohmann::json::array();
        for (const BatchCallbackRecord& c : w.callbacks) {
            cbs.push_back({{"on", c.on},
                           {"job", c.job},
                           {"fired_job", c.fired_job == 0 ? nlohmann::json(nullptr)
                                                          : nlohmann::json(c.fired_job)}});
        }
        j["callbacks"] = std::move(cbs);
    }
    return j;
}

}  // namespace jobq
