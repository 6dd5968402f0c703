#include "jobq/workflow_spec.hpp"

#include <functional>
#include <queue>
#include <string_view>
#include <unordered_map>
#include <utility>

#include <fmt/format.h>

#include "detail/name_check.hpp"
#include "jobq/error.hpp"

namespace jobq {

namespace {

[[noreturn]] void refuse(std::string field, std::string message) {
    throw Error(ErrorCode::invalid_argument, field + ": " + message, field);
}

std::string job_field(std::size_t i) {
    return fmt::format("jobs[{}]", i);
}

// A cycle quoted for a message: each name once, the first again at the end; a long one cut
// after a few names (a 10,000-job cycle is one mistake, not 10,000 names to read).
std::string describe_cycle(const std::vector<std::size_t>& cycle,
                           const std::vector<WorkflowJob>& jobs) {
    constexpr std::size_t shown = 8;
    std::string out;
    for (std::size_t k = 0; k < cycle.size() && k < shown; ++k) {
        out += fmt::format("'{}' -> ", printable(jobs[cycle[k]].name));
    }
    if (cycle.size() > shown) out += fmt::format("... ({} jobs in all) -> ", cycle.size());
    out += fmt::format("'{}'", printable(jobs[cycle.front()].name));
    return out;
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
    (void)insertion_order(limits);
}

std::vector<std::size_t> WorkflowSpec::insertion_order(const InputLimits& limits) const {
    if (auto why = detail::name_problem(name_)) refuse("name", *why);
    if (jobs_.empty()) refuse("jobs", "a workflow needs at least one job");
    if (jobs_.size() > max_workflow_jobs) {
        refuse("jobs", fmt::format("at most {} jobs in one workflow (got {})", max_workflow_jobs,
                                   jobs_.size()));
    }

    // Names first, so every later message can name jobs by a name known to be unique.
    std::unordered_map<std::string_view, std::size_t> index;
    index.reserve(jobs_.size());
    for (std::size_t i = 0; i < jobs_.size(); ++i) {
        const WorkflowJob& job = jobs_[i];
        if (auto why = detail::name_problem(job.name)) refuse(job_field(i) + ".name", *why);
        const auto [it, added] = index.emplace(job.name, i);
        if (!added) {
            refuse(job_field(i) + ".name", fmt::format("'{}' is already the name of jobs[{}]",
                                                       printable(job.name), it->second));
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
                        fmt::format("{} ('{}'): {}", job_field(i), printable(job.name), e.what()),
                        field);
        }
        std::unordered_map<std::string_view, std::size_t> seen;
        for (std::size_t k = 0; k < job.deps.size(); ++k) {
            const std::string& dep = job.deps[k];
            const std::string field = fmt::format("{}.deps[{}]", job_field(i), k);
            const auto it = index.find(dep);
            if (it == index.end()) {
                refuse(field, fmt::format("'{}' is not the name of a job of this workflow",
                                          printable(dep)));
            }
            if (it->second == i) {
                refuse(field, fmt::format("'{}' cannot wait for itself", printable(dep)));
            }
            if (const auto [prev, added] = seen.emplace(dep, k); !added) {
                refuse(field,
                       fmt::format("'{}' is already deps[{}]", printable(dep), prev->second));
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
            const std::size_t d = index.at(dep);
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

}  // namespace jobq
