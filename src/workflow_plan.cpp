#include "jobq/backend/workflow_plan.hpp"

#include <algorithm>
#include <limits>
#include <map>
#include <set>
#include <unordered_map>

#include <fmt/format.h>

#include "jobq/backend/batch_callbacks.hpp"
#include "jobq/backend/store.hpp"
#include "jobq/error.hpp"

namespace jobq {

namespace {

[[noreturn]] void refuse(std::string field, std::string message) {
    throw Error(ErrorCode::invalid_argument, field + ": " + message, field);
}

bool failed(JobState s) {
    return s == JobState::discarded || s == JobState::cancelled;
}

}  // namespace

namespace {

// The tenant every job shares, or empty.
std::string common_tenant(const std::vector<NewWorkflowJob>& jobs) {
    if (jobs.empty()) return {};
    const std::string& first = jobs.front().job.tenant;
    for (const NewWorkflowJob& j : jobs) {
        if (j.job.tenant != first) return {};
    }
    return first;
}

// Names the job of the spec at fault in a NewJob error.
NewJob new_job_at(const JobSpec& spec, Timestamp now, const InputLimits& limits, std::size_t i) {
    try {
        return to_new_job(spec, now, limits);
    } catch (const Error& e) {
        const std::string at = fmt::format("jobs[{}]", i);
        throw Error(e.code(), fmt::format("{}: {}", at, e.what()),
                    e.field().empty() ? at : at + "." + e.field());
    }
}

}  // namespace

NewWorkflow to_new_workflow(const WorkflowSpec& spec, Timestamp now, const InputLimits& limits,
                            bool append) {
    const std::vector<std::size_t> order =
        append ? spec.append_order(limits) : spec.insertion_order(limits);
    NewWorkflow wf;
    wf.name = spec.name();
    wf.kind = WorkflowKind::workflow;
    wf.deadline = spec.deadline();
    wf.now = now;
    wf.jobs.reserve(order.size());
    wf.spec_index.resize(order.size());
    for (std::size_t pos = 0; pos < order.size(); ++pos) {
        const WorkflowJob& job = spec.jobs()[order[pos]];
        wf.spec_index[order[pos]] = pos;
        wf.jobs.push_back({new_job_at(job.spec, now, limits, order[pos]), job.name, job.deps,
                           job.on_discarded, job.on_cancelled});
    }
    wf.tenant = common_tenant(wf.jobs);
    return wf;
}

NewWorkflow to_new_workflow(const BatchSpec& spec, Timestamp now, const InputLimits& limits) {
    spec.validate(limits);
    NewWorkflow wf;
    wf.name = spec.name();
    wf.kind = WorkflowKind::batch;
    wf.now = now;
    wf.jobs.reserve(spec.jobs().size());
    for (std::size_t i = 0; i < spec.jobs().size(); ++i) {
        // Batch jobs have no names of their own; their position names them.
        wf.jobs.push_back({new_job_at(spec.jobs()[i], now, limits, i),
                           fmt::format("{}", i),
                           {},
                           DependencyPolicy::cancel,
                           DependencyPolicy::cancel});
        wf.spec_index.push_back(i);
    }
    wf.tenant = common_tenant(wf.jobs);
    wf.callbacks = callbacks_json(spec);
    return wf;
}

DependencyEnd dependency_end_of(OutcomeKind terminal) {
    switch (terminal) {
        case OutcomeKind::complete:
            return DependencyEnd::completed;
        case OutcomeKind::discard:
            return DependencyEnd::discarded;
        default:
            return DependencyEnd::cancelled;
    }
}

namespace {

std::optional<Timestamp> prune_cutoff(const PruneRequest& request, JobState state) {
    switch (state) {
        case JobState::completed:
            return request.completed_before;
        case JobState::cancelled:
            return request.cancelled_before;
        case JobState::discarded:
            return request.discarded_before;
        default:
            return std::nullopt;  // an unfinished job: the workflow is kept
    }
}

}  // namespace

std::optional<Timestamp> latest_prune_cutoff(const PruneRequest& request) {
    std::optional<Timestamp> latest;
    for (const JobState s : {JobState::completed, JobState::cancelled, JobState::discarded}) {
        const std::optional<Timestamp> cut = prune_cutoff(request, s);
        if (cut && (!latest || *cut > *latest)) latest = cut;
    }
    return latest;
}

bool workflow_prunable(const PruneRequest& request, Timestamp finished_at,
                       std::span<const JobState> states) {
    return std::all_of(states.begin(), states.end(), [&](JobState s) {
        const std::optional<Timestamp> cut = prune_cutoff(request, s);
        return cut && finished_at < *cut;
    });
}

void refuse_batch_append(WorkflowId id) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("id: {} is a batch; jobs can be appended to workflows only", id), "id");
}

DependencyEnd dependency_end_of(JobState terminal) {
    switch (terminal) {
        case JobState::completed:
            return DependencyEnd::completed;
        case JobState::discarded:
            return DependencyEnd::discarded;
        default:
            return DependencyEnd::cancelled;
    }
}

std::vector<PlacedJob> place_workflow_jobs(const NewWorkflow& wf,
                                           std::span<const WorkflowMember> stored) {
    std::unordered_map<std::string_view, const WorkflowMember*> by_name;
    by_name.reserve(stored.size());
    for (const WorkflowMember& m : stored) by_name.emplace(m.step, &m);
    // Messages name the job as the caller's spec numbered it.
    std::vector<std::size_t> spec_pos(wf.jobs.size());
    for (std::size_t k = 0; k < wf.spec_index.size() && k < wf.jobs.size(); ++k) {
        spec_pos[wf.spec_index[k]] = k;
    }
    if (wf.spec_index.size() != wf.jobs.size()) {
        for (std::size_t i = 0; i < wf.jobs.size(); ++i) spec_pos[i] = i;
    }
    std::unordered_map<std::string_view, std::size_t> new_index;
    new_index.reserve(wf.jobs.size());
    for (std::size_t i = 0; i < wf.jobs.size(); ++i) {
        const std::string& step = wf.jobs[i].step;
        if (by_name.count(step) != 0) {
            refuse(fmt::format("jobs[{}].name", spec_pos[i]),
                   fmt::format("'{}' is already the name of a job of this workflow (job {})",
                               printable(step), by_name.at(step)->id));
        }
        new_index.emplace(step, i);
    }
    std::vector<PlacedJob> placed(wf.jobs.size());
    for (std::size_t i = 0; i < wf.jobs.size(); ++i) {
        const NewWorkflowJob& job = wf.jobs[i];
        PlacedJob& p = placed[i];
        for (std::size_t k = 0; k < job.deps.size(); ++k) {
            const std::string& dep = job.deps[k];
            PlacedDep d;
            d.on_discarded = job.on_discarded;
            d.on_cancelled = job.on_cancelled;
            std::optional<JobState> ended;
            JobId dep_id = 0;
            if (const auto it = new_index.find(dep); it != new_index.end()) {
                if (it->second >= i) {
                    // insertion_order puts dependencies first; anything else is a core bug.
                    throw Error(ErrorCode::storage,
                                fmt::format("workflow job '{}' placed before its dependency "
                                            "'{}'",
                                            printable(job.step), printable(dep)));
                }
                d.new_index = it->second;
                if (placed[it->second].state == JobState::cancelled) ended = JobState::cancelled;
            } else if (const auto st = by_name.find(dep); st != by_name.end()) {
                d.stored_id = dep_id = st->second->id;
                if (is_terminal(st->second->state)) ended = st->second->state;
            } else {
                refuse(
                    fmt::format("jobs[{}].deps[{}]", spec_pos[i], k),
                    fmt::format("'{}' is not the name of a job of this workflow", printable(dep)));
            }
            p.deps.push_back(d);
            if (!ended) {
                ++p.open_deps;
                continue;
            }
            const DependencyVerdict v = judge_dependency_end(
                dependency_end_of(*ended), job.on_discarded, job.on_cancelled, dep, dep_id);
            if (v.cancel_error && !p.cancel_error) p.cancel_error = v.cancel_error;
        }
        if (p.cancel_error) {
            p.state = JobState::cancelled;
        } else {
            p.state = p.open_deps > 0 ? JobState::pending : job.job.state;
        }
    }
    return placed;
}

void release_dependents(DependencyGraph& graph,
                        std::vector<std::pair<JobId, DependencyEnd>> ended) {
    std::map<JobId, DependencyEnd> frontier(ended.begin(), ended.end());
    const bool all_completed = std::all_of(frontier.begin(), frontier.end(), [](const auto& f) {
        return f.second == DependencyEnd::completed;
    });
    if (all_completed && !frontier.empty()) {
        // A completion meets the dependency under either policy (judge_dependency_end), and
        // cancels nothing: one level, which the graph may take in one step.
        std::vector<JobId> ids;
        for (const auto& [id, end] : frontier) ids.push_back(id);
        if (graph.meet_dependents(ids)) return;
    }
    while (!frontier.empty()) {
        std::vector<JobId> ids;
        ids.reserve(frontier.size());
        for (const auto& [id, end] : frontier) ids.push_back(id);
        std::map<JobId, int> met;
        std::map<JobId, std::string> cancels;
        for (const DependentEdge& e : graph.dependents(ids)) {
            if (e.job_state != JobState::pending) continue;
            const auto f = frontier.find(e.dep);
            if (f == frontier.end()) continue;
            const DependencyVerdict v =
                judge_dependency_end(f->second, e.on_discarded, e.on_cancelled, e.dep_step, e.dep);
            if (v.met) {
                ++met[e.job];
            } else if (v.cancel_error) {
                cancels.emplace(e.job, *v.cancel_error);
            }
        }
        for (const auto& [id, error] : cancels) met.erase(id);
        const std::vector<std::pair<JobId, int>> meets(met.begin(), met.end());
        if (!meets.empty()) graph.meet(meets);
        frontier.clear();
        if (cancels.empty()) break;
        const std::vector<std::pair<JobId, std::string>> cancel_list(cancels.begin(),
                                                                     cancels.end());
        for (const JobId id : graph.cancel(cancel_list)) {
            frontier.emplace(id, DependencyEnd::cancelled);
        }
    }
}

std::vector<RearmedJob> plan_rerun(std::span<const WorkflowMember> members,
                                   std::span<const WorkflowEdge> edges, std::optional<JobId> root) {
    std::unordered_map<JobId, const WorkflowMember*> by_id;
    by_id.reserve(members.size());
    for (const WorkflowMember& m : members) by_id.emplace(m.id, &m);
    std::unordered_map<JobId, std::vector<const WorkflowEdge*>> deps_of;
    std::unordered_map<JobId, std::vector<JobId>> dependents_of;
    for (const WorkflowEdge& e : edges) {
        deps_of[e.job].push_back(&e);
        dependents_of[e.dep].push_back(e.job);
    }
    std::set<JobId> chosen;
    if (root) {
        const auto it = by_id.find(*root);
        if (it == by_id.end() || !failed(it->second->state)) return {};
        // Everything downstream of the root, walked without recursion.
        std::vector<JobId> stack{*root};
        std::set<JobId> seen{*root};
        while (!stack.empty()) {
            const JobId id = stack.back();
            stack.pop_back();
            if (const auto m = by_id.find(id); m != by_id.end() && failed(m->second->state)) {
                chosen.insert(id);
            }
            for (const JobId d : dependents_of[id]) {
                if (seen.insert(d).second) stack.push_back(d);
            }
        }
    } else {
        for (const WorkflowMember& m : members) {
            if (failed(m.state)) chosen.insert(m.id);
        }
    }
    // A dependency that stays failed under `cancel` would cancel the job again at once: leave
    // it (and, next round, whatever waits on it) as it is.
    for (bool changed = true; changed;) {
        changed = false;
        for (auto it = chosen.begin(); it != chosen.end();) {
            bool blocked = false;
            for (const WorkflowEdge* e : deps_of[*it]) {
                if (chosen.count(e->dep) != 0) continue;
                const auto d = by_id.find(e->dep);
                const JobState s = d == by_id.end() ? JobState::cancelled : d->second->state;
                if (!failed(s)) continue;
                const DependencyPolicy p =
                    s == JobState::discarded ? e->on_discarded : e->on_cancelled;
                if (p == DependencyPolicy::cancel) blocked = true;
            }
            if (blocked) {
                it = chosen.erase(it);
                changed = true;
            } else {
                ++it;
            }
        }
    }
    std::vector<RearmedJob> out;
    out.reserve(chosen.size());
    for (const JobId id : chosen) {
        RearmedJob r{id, JobState::available, 0};
        for (const WorkflowEdge* e : deps_of[id]) {
            const auto d = by_id.find(e->dep);
            if (chosen.count(e->dep) != 0) {
                ++r.open_deps;
            } else if (d != by_id.end() && !is_terminal(d->second->state)) {
                ++r.open_deps;
            }
        }
        if (r.open_deps > 0) r.state = JobState::pending;
        out.push_back(r);
    }
    return out;
}

WorkflowState finished_state(const std::array<std::int64_t, all_job_states.size()>& counts) {
    if (counts[static_cast<std::size_t>(JobState::discarded)] > 0) return WorkflowState::failed;
    if (counts[static_cast<std::size_t>(JobState::cancelled)] > 0) return WorkflowState::cancelled;
    return WorkflowState::completed;
}

nlohmann::json batch_callback_payload(const nlohmann::json& own, WorkflowId id,
                                      const std::string& name, BatchCallback callback,
                                      const std::array<std::int64_t, all_job_states.size()>& counts,
                                      const std::vector<JobId>& failed_ids) {
    nlohmann::json payload = own.is_object() ? own : nlohmann::json::object();
    std::int64_t total = 0;
    for (const std::int64_t n : counts) total += n;
    constexpr std::size_t shown = 1000;
    std::vector<JobId> ids(
        failed_ids.begin(),
        failed_ids.begin() + static_cast<std::ptrdiff_t>(std::min(failed_ids.size(), shown)));
    payload["batch"] = {
        {"id", id},
        {"name", name},
        {"callback", std::string(to_string(callback))},
        {"total", total},
        {"completed", counts[static_cast<std::size_t>(JobState::completed)]},
        {"discarded", counts[static_cast<std::size_t>(JobState::discarded)]},
        {"cancelled", counts[static_cast<std::size_t>(JobState::cancelled)]},
        {"failed_ids", ids},
    };
    return payload;
}

nlohmann::json callbacks_json(const BatchSpec& spec) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& [when, job] : spec.callbacks()) {
        out.push_back({{"on", std::string(to_string(when))}, {"job", job.to_json()}});
    }
    return out;
}

namespace {

bool fired(const nlohmann::json& cb) {
    return cb.value("fired_job", nlohmann::json(nullptr)).is_number();
}

}  // namespace

std::vector<std::size_t> due_callbacks(
    const nlohmann::json& stored, const std::array<std::int64_t, all_job_states.size()>& counts) {
    std::vector<std::size_t> out;
    if (!stored.is_array() || stored.empty()) return out;
    std::vector<BatchCallback> ran;
    for (const nlohmann::json& cb : stored) {
        const auto c = parse_batch_callback(cb.value("on", std::string()));
        if (c && fired(cb)) ran.push_back(*c);
    }
    BatchCounts bc;
    for (const std::int64_t n : counts) bc.total += static_cast<int>(n);
    bc.completed = static_cast<int>(counts[static_cast<std::size_t>(JobState::completed)]);
    bc.discarded = static_cast<int>(counts[static_cast<std::size_t>(JobState::discarded)]);
    bc.cancelled = static_cast<int>(counts[static_cast<std::size_t>(JobState::cancelled)]);
    const std::vector<BatchCallback> due = batch_callbacks_due(bc, ran);
    for (std::size_t i = 0; i < stored.size(); ++i) {
        const auto c = parse_batch_callback(stored[i].value("on", std::string()));
        if (c && std::find(due.begin(), due.end(), *c) != due.end()) out.push_back(i);
    }
    return out;
}

bool awaits_discard(const nlohmann::json& stored) {
    if (!stored.is_array()) return false;
    return std::any_of(stored.begin(), stored.end(), [](const nlohmann::json& cb) {
        return cb.value("on", std::string()) == "any_discarded" && !fired(cb);
    });
}

nlohmann::json callback_job(const nlohmann::json& cb, WorkflowId id, const std::string& name,
                            const std::array<std::int64_t, all_job_states.size()>& counts,
                            const std::vector<JobId>& failed_ids) {
    nlohmann::json job = cb.at("job");
    const auto c = parse_batch_callback(cb.value("on", std::string()));
    job["payload"] =
        batch_callback_payload(job.value("payload", nlohmann::json::object()), id, name,
                               c.value_or(BatchCallback::all_finished), counts, failed_ids);
    return job;
}

NewJob callback_new_job(const nlohmann::json& cb, WorkflowId id, const std::string& name,
                        const std::array<std::int64_t, all_job_states.size()>& counts,
                        const std::vector<JobId>& failed_ids, Timestamp now) {
    InputLimits unlimited;
    unlimited.max_payload_bytes = std::numeric_limits<std::size_t>::max();
    unlimited.max_json_depth = max_json_depth_setting;
    return to_new_job(JobSpec::from_json(callback_job(cb, id, name, counts, failed_ids), unlimited),
                      now, unlimited);
}

}  // namespace jobq
