#include "jobq/workflow_spec.hpp"

#include <algorithm>
#include <chrono>
#include <functional>
#include <queue>
#include <string_view>
#include <unordered_map>
#include <utility>

#include <fmt/format.h>

#include "detail/name_check.hpp"
#include "detail/utf8.hpp"
#include "jobq/error.hpp"
#include "jobq/json_input.hpp"
#include "jobq/time_format.hpp"

namespace jobq {

namespace {

[[noreturn]] void refuse(std::string field, std::string message) {
    throw Error(ErrorCode::invalid_argument, field + ": " + message, field);
}

std::string job_field(std::size_t i) {
    return fmt::format("jobs[{}]", i);
}

// A name from the input, safe and short enough to quote in a message: a megabyte-long
// dependency name is one mistake, not a megabyte of error text.
std::string shown_name(std::string_view name) {
    constexpr std::size_t shown = 64;
    const std::string_view head = name.substr(0, detail::utf8_boundary_at_or_before(name, shown));
    std::string out = "'" + printable(head) + "'";
    if (head.size() < name.size()) out += fmt::format(" (cut; {} bytes in all)", name.size());
    return out;
}

// Dependency edges in one workflow: each becomes a row written in the insert's transaction.
constexpr std::size_t max_workflow_deps = 100'000;

// The deadline's range, as a job's run_at has (JobSpec): stored and printed alike everywhere.
constexpr Timestamp earliest_deadline{};
constexpr Timestamp latest_deadline =
    std::chrono::sys_days{std::chrono::year{9999} / 12 / 31} + std::chrono::hours{24} - Duration{1};

// A cycle quoted for a message: each name once, the first again at the end; a long one cut
// after a few names (a 10,000-job cycle is one mistake, not 10,000 names to read).
std::string describe_cycle(const std::vector<std::size_t>& cycle,
                           const std::vector<WorkflowJob>& jobs) {
    constexpr std::size_t shown = 8;
    std::string out;
    for (std::size_t k = 0; k < cycle.size() && k < shown; ++k) {
        out += shown_name(jobs[cycle[k]].name) + " -> ";
    }
    if (cycle.size() > shown) out += fmt::format("... ({} jobs in all) -> ", cycle.size());
    out += shown_name(jobs[cycle.front()].name);
    return out;
}

// `j[key]` when present, checked to be of the JSON type `is` names; `field` for messages.
const nlohmann::json* member(const nlohmann::json& j, const char* key, const std::string& field,
                             bool (nlohmann::json::*is)() const noexcept, const char* what) {
    const auto it = j.find(key);
    if (it == j.end()) return nullptr;
    if (!((*it).*is)()) refuse(field, fmt::format("must be {} (got {})", what, it->type_name()));
    return &*it;
}

DependencyPolicy parse_policy(const nlohmann::json* v, const std::string& field) {
    if (v == nullptr) return DependencyPolicy::cancel;
    if (!v->is_string()) refuse(field, fmt::format("must be a string (got {})", v->type_name()));
    const std::string& text = v->get_ref<const std::string&>();
    if (text == "cancel") return DependencyPolicy::cancel;
    if (text == "ignore") return DependencyPolicy::ignore;
    refuse(field, fmt::format("must be \"cancel\" or \"ignore\" (got '{}')", printable(text)));
}

WorkflowJob parse_job(const nlohmann::json& j, std::size_t i, const InputLimits& limits) {
    const std::string at = job_field(i);
    if (!j.is_object()) refuse(at, fmt::format("must be a JSON object (got {})", j.type_name()));
    WorkflowJob job{"", JobSpec{"-"}, {}};
    const nlohmann::json* name =
        member(j, "name", at + ".name", &nlohmann::json::is_string, "a string");
    if (name == nullptr) refuse(at + ".name", "is missing");
    job.name = name->get<std::string>();
    // Checked before the job's own fields, so a JSON form and the same workflow built in
    // C++ are refused for the same reason first.
    if (auto why = detail::name_problem(job.name)) refuse(at + ".name", *why);
    if (const nlohmann::json* deps =
            member(j, "deps", at + ".deps", &nlohmann::json::is_array, "an array")) {
        for (std::size_t k = 0; k < deps->size(); ++k) {
            const nlohmann::json& d = (*deps)[k];
            if (!d.is_string()) {
                refuse(fmt::format("{}.deps[{}]", at, k),
                       fmt::format("must be a job's name (got {})", d.type_name()));
            }
            job.deps.push_back(d.get<std::string>());
        }
    }
    const auto find = [&](const char* key) {
        const auto it = j.find(key);
        return it == j.end() ? nullptr : &*it;
    };
    job.on_discarded = parse_policy(find("on_discarded"), at + ".on_discarded");
    job.on_cancelled = parse_policy(find("on_cancelled"), at + ".on_cancelled");
    // The rest is the job's own JSON form, copied for JobSpec::from_json. A copy recurses
    // once per level, so each value is checked without recursion first: a payload nested
    // 100,000 deep is refused here instead of overflowing the stack.
    nlohmann::json rest = nlohmann::json::object();
    for (const auto& [key, value] : j.items()) {
        if (key != "name" && key != "deps" && key != "on_discarded" && key != "on_cancelled") {
            if (value.is_structured()) {
                try {
                    check_json_input(value, key, limits.max_json_depth);
                } catch (const Error& e) {
                    throw Error(e.code(),
                                fmt::format("{} ({}): {}", at, shown_name(job.name), e.what()),
                                at + "." + e.field());
                }
            }
            rest[key] = value;
        }
    }
    try {
        job.spec = JobSpec::from_json(rest, limits);
    } catch (const Error& e) {
        const std::string field = e.field().empty() ? at : at + "." + e.field();
        throw Error(e.code(), fmt::format("{} ({}): {}", at, shown_name(job.name), e.what()),
                    field);
    }
    return job;
}

}  // namespace

std::string_view to_string(DependencyPolicy p) noexcept {
    return p == DependencyPolicy::cancel ? "cancel" : "ignore";
}

WorkflowSpec::WorkflowSpec(std::string name) : name_(std::move(name)) {}

WorkflowSpec& WorkflowSpec::add(std::string name, JobSpec spec, std::vector<std::string> deps) {
    return add(WorkflowJob{std::move(name), std::move(spec), std::move(deps)});
}

WorkflowSpec& WorkflowSpec::add(WorkflowJob job) {
    jobs_.push_back(std::move(job));
    return *this;
}

WorkflowSpec& WorkflowSpec::deadline(Timestamp t) {
    deadline_ = t;
    return *this;
}

void WorkflowSpec::validate(const InputLimits& limits) const {
    (void)order(limits, false);
}

std::vector<std::size_t> WorkflowSpec::insertion_order(const InputLimits& limits) const {
    return order(limits, false);
}

std::vector<std::size_t> WorkflowSpec::append_order(const InputLimits& limits) const {
    return order(limits, true);
}

std::vector<std::size_t> WorkflowSpec::order(const InputLimits& limits, bool append) const {
    limits.validate();  // its errors name "limits.<field>", not the input's
    if (auto why = detail::name_problem(name_)) refuse("name", *why);
    if (deadline_ && (*deadline_ < earliest_deadline || *deadline_ > latest_deadline)) {
        refuse("deadline",
               fmt::format("must be between {} and {}", format_timestamp(earliest_deadline),
                           format_timestamp(latest_deadline)));
    }
    if (jobs_.empty()) refuse("jobs", "a workflow needs at least one job");
    if (jobs_.size() > max_workflow_jobs) {
        refuse("jobs", fmt::format("at most {} jobs in one workflow (got {})", max_workflow_jobs,
                                   jobs_.size()));
    }
    std::size_t edges = 0;
    for (const WorkflowJob& job : jobs_) edges += job.deps.size();
    if (edges > max_workflow_deps) {
        refuse("jobs", fmt::format("at most {} dependencies in one workflow (got {})",
                                   max_workflow_deps, edges));
    }

    // Names first, so every later message can name jobs by a name known to be unique.
    std::unordered_map<std::string_view, std::size_t> index;
    index.reserve(jobs_.size());
    for (std::size_t i = 0; i < jobs_.size(); ++i) {
        const WorkflowJob& job = jobs_[i];
        if (auto why = detail::name_problem(job.name)) refuse(job_field(i) + ".name", *why);
        const auto [it, added] = index.emplace(job.name, i);
        if (!added) {
            refuse(job_field(i) + ".name", fmt::format("{} is already the name of jobs[{}]",
                                                       shown_name(job.name), it->second));
        }
    }

    // Each job: its spec, then its dependencies; `waiting[i]` counts i's dependencies and
    // `dependents[d]` lists the jobs that wait for d.
    std::vector<std::size_t> waiting(jobs_.size(), 0);
    std::vector<std::vector<std::size_t>> dependents(jobs_.size());
    for (std::size_t i = 0; i < jobs_.size(); ++i) {
        const WorkflowJob& job = jobs_[i];
        try {
            job.spec.validate(limits);
        } catch (const Error& e) {
            const std::string field =
                e.field().empty() ? job_field(i) : job_field(i) + "." + e.field();
            throw Error(e.code(),
                        fmt::format("{} ({}): {}", job_field(i), shown_name(job.name), e.what()),
                        field);
        }
        if (!job.spec.unique_key().empty()) {
            // A duplicate would make the job another workflow's (or none's), and its
            // dependents would wait on a job that is not theirs.
            refuse(job_field(i) + ".unique_key", "a workflow's jobs cannot have a unique key");
        }
        std::unordered_map<std::string_view, std::size_t> seen;
        for (std::size_t k = 0; k < job.deps.size(); ++k) {
            const std::string& dep = job.deps[k];
            const std::string field = fmt::format("{}.deps[{}]", job_field(i), k);
            const auto it = index.find(dep);
            if (it == index.end() && append) {
                // A job the workflow already has (the store checks that it does).
                if (auto why = detail::name_problem(dep)) refuse(field, *why);
                if (const auto [prev, added] = seen.emplace(dep, k); !added) {
                    refuse(field,
                           fmt::format("{} is already deps[{}]", shown_name(dep), prev->second));
                }
                continue;
            }
            if (it == index.end()) {
                refuse(field, fmt::format("{} is not the name of a job of this workflow",
                                          shown_name(dep)));
            }
            if (it->second == i) {
                refuse(field, fmt::format("{} cannot wait for itself", shown_name(dep)));
            }
            if (const auto [prev, added] = seen.emplace(dep, k); !added) {
                refuse(field, fmt::format("{} is already deps[{}]", shown_name(dep), prev->second));
            }
            dependents[it->second].push_back(i);
            ++waiting[i];
        }
    }

    // Kahn's algorithm, the lowest index first among the jobs that are ready, so the order is
    // the order of adding wherever the dependencies allow. No recursion: a chain of 10,000
    // jobs is as safe as a flat list.
    std::priority_queue<std::size_t, std::vector<std::size_t>, std::greater<>> ready;
    for (std::size_t i = 0; i < jobs_.size(); ++i) {
        if (waiting[i] == 0) ready.push(i);
    }
    std::vector<std::size_t> order;
    order.reserve(jobs_.size());
    std::vector<std::size_t> open = waiting;
    while (!ready.empty()) {
        const std::size_t d = ready.top();
        ready.pop();
        order.push_back(d);
        for (const std::size_t j : dependents[d]) {
            if (--open[j] == 0) ready.push(j);
        }
    }
    if (order.size() == jobs_.size()) return order;

    // Every job left still waits for another job left, so following any of its dependencies
    // among them must come back to a job already passed: that loop is a cycle.
    std::vector<std::size_t> at(jobs_.size(), jobs_.size());  // position on the walk
    std::vector<std::size_t> walk;
    std::size_t j = 0;
    while (open[j] == 0) ++j;
    while (at[j] == jobs_.size()) {
        at[j] = walk.size();
        walk.push_back(j);
        for (const std::string& dep : jobs_[j].deps) {
            const auto found = index.find(dep);
            if (found == index.end()) continue;  // a job already stored: not in a cycle
            const std::size_t d = found->second;
            if (open[d] != 0) {
                j = d;
                break;
            }
        }
    }
    const std::vector<std::size_t> cycle(walk.begin() + static_cast<std::ptrdiff_t>(at[j]),
                                         walk.end());
    refuse(job_field(cycle.front()) + ".deps",
           fmt::format("the dependencies form a cycle, each job waiting for the next: {}",
                       describe_cycle(cycle, jobs_)));
}

nlohmann::json WorkflowSpec::to_json() const {
    nlohmann::json j = {{"name", name_}};
    if (deadline_) j["deadline"] = format_timestamp(*deadline_);
    nlohmann::json jobs = nlohmann::json::array();
    for (std::size_t i = 0; i < jobs_.size(); ++i) {
        const WorkflowJob& job = jobs_[i];
        nlohmann::json one;
        try {
            one = job.spec.to_json();
        } catch (const Error& e) {
            throw Error(e.code(),
                        fmt::format("{} ({}): {}", job_field(i), shown_name(job.name), e.what()),
                        e.field().empty() ? job_field(i) : job_field(i) + "." + e.field());
        }
        one["name"] = job.name;
        if (!job.deps.empty()) one["deps"] = job.deps;
        if (job.on_discarded != DependencyPolicy::cancel) {
            one["on_discarded"] = std::string(to_string(job.on_discarded));
        }
        if (job.on_cancelled != DependencyPolicy::cancel) {
            one["on_cancelled"] = std::string(to_string(job.on_cancelled));
        }
        jobs.push_back(std::move(one));
    }
    j["jobs"] = std::move(jobs);
    return j;
}

WorkflowSpec WorkflowSpec::from_json(const nlohmann::json& j, const InputLimits& limits,
                                     bool append) {
    if (!j.is_object()) {
        refuse("workflow", fmt::format("must be a JSON object (got {})", j.type_name()));
    }
    for (const auto& [key, value] : j.items()) {
        if (key != "name" && key != "deadline" && key != "jobs") {
            refuse(printable(key.substr(0, 64)), "is not a field of a workflow");
        }
    }
    const nlohmann::json* name = member(j, "name", "name", &nlohmann::json::is_string, "a string");
    if (name == nullptr) refuse("name", "is missing");
    WorkflowSpec w{name->get<std::string>()};
    if (const nlohmann::json* d =
            member(j, "deadline", "deadline", &nlohmann::json::is_string, "a string")) {
        w.deadline(parse_timestamp(d->get_ref<const std::string&>(), "deadline"));
    }
    const nlohmann::json* jobs = member(j, "jobs", "jobs", &nlohmann::json::is_array, "an array");
    if (jobs == nullptr) refuse("jobs", "is missing");
    if (jobs->size() > max_workflow_jobs) {
        refuse("jobs", fmt::format("at most {} jobs in one workflow (got {})", max_workflow_jobs,
                                   jobs->size()));
    }
    for (std::size_t i = 0; i < jobs->size(); ++i) w.add(parse_job((*jobs)[i], i, limits));
    (void)w.order(limits, append);
    return w;
}

}  // namespace jobq
