#include "workflow_view.hpp"

#include <string>
#include <unordered_map>
#include <vector>

#include <fmt/format.h>

#include "output.hpp"

namespace jobq::cli {

namespace {

// A job waiting for thousands of others (a wide fan-in) would make its row screens long; the
// first few names say what it waits for, `show --json` has them all.
constexpr std::size_t shown_deps = 8;

std::int64_t total_jobs(const WorkflowSummary& w) {
    std::int64_t total = 0;
    for (const std::int64_t n : w.counts) total += n;
    return total;
}

// "5 (2 completed, 1 available, 2 pending)": the states in lifecycle order, empty ones left out.
std::string counts_text(const WorkflowSummary& w) {
    std::vector<std::string> parts;
    for (const JobState s : all_job_states) {
        const std::int64_t n = w.counts[static_cast<std::size_t>(s)];
        if (n != 0) parts.push_back(fmt::format("{} {}", n, to_string(s)));
    }
    if (parts.empty()) return "0";
    return fmt::format("{} ({})", total_jobs(w), fmt::join(parts, ", "));
}

// A dependency as the AFTER column shows it: its name, and the policies that differ from the
// default (a failed dependency cancels the job) since they change what the job will do.
std::string dep_text(const WorkflowEdge& edge, const Job* dep) {
    std::string text = dep != nullptr ? dep->step : fmt::format("#{} (deleted)", edge.dep);
    const bool discarded = edge.on_discarded == DependencyPolicy::ignore;
    const bool cancelled = edge.on_cancelled == DependencyPolicy::ignore;
    if (discarded && cancelled) {
        text += " (ignores discarded, cancelled)";
    } else if (discarded) {
        text += " (ignores discarded)";
    } else if (cancelled) {
        text += " (ignores cancelled)";
    }
    return text;
}

std::string after_text(const std::vector<std::string>& deps) {
    if (deps.empty()) return "-";
    if (deps.size() <= shown_deps) return fmt::format("{}", fmt::join(deps, ", "));
    return fmt::format(
        "{}, ... ({} in all)",
        fmt::join(deps.begin(), deps.begin() + static_cast<std::ptrdiff_t>(shown_deps), ", "),
        deps.size());
}

// A workflow's jobs as a list in insertion order, each with the jobs it waits for ("AFTER"),
// rather than as a tree under the jobs they wait for: a tree shows a job with several
// dependencies (fan-in, a diamond) once under each of them, repeating it and its whole subtree,
// or shows it once and hides the other edges. Insertion order puts every job after the jobs it
// waits for, so the list still reads top to bottom as the work flows, each job and each edge
// exactly once.
void print_workflow_jobs(std::ostream& out, const WorkflowRecord& w) {
    std::unordered_map<JobId, const Job*> by_id;
    for (const Job& job : w.jobs) by_id.emplace(job.id, &job);
    std::unordered_map<JobId, std::vector<std::string>> deps;
    for (const WorkflowEdge& e : w.edges) {
        const auto dep = by_id.find(e.dep);
        deps[e.job].push_back(dep_text(e, dep == by_id.end() ? nullptr : dep->second));
    }
    Table table({{"ID", Align::right}, {"NAME"}, {"STATE"}, {"KIND"}, {"AFTER"}});
    for (const Job& job : w.jobs) {
        const auto d = deps.find(job.id);
        table.add_row({std::to_string(job.id), job.step, std::string(to_string(job.state)),
                       job.kind, d == deps.end() ? "-" : after_text(d->second)});
    }
    table.print(out);
}

// A batch's jobs are independent and unnamed: no NAME or AFTER to show.
void print_batch_jobs(std::ostream& out, const WorkflowRecord& w) {
    Table table({{"ID", Align::right}, {"STATE"}, {"KIND"}});
    for (const Job& job : w.jobs) {
        table.add_row({std::to_string(job.id), std::string(to_string(job.state)), job.kind});
    }
    table.print(out);
}

void print_callbacks(std::ostream& out, const WorkflowRecord& w) {
    out << "\ncallbacks\n";
    if (w.callbacks.empty()) {
        out << "  -\n";
        return;
    }
    Table table({{"ON"}, {"KIND"}, {"FIRED"}});
    for (const BatchCallbackRecord& c : w.callbacks) {
        const auto kind = c.job.is_object() ? c.job.find("kind") : c.job.end();
        table.add_row({c.on,
                       kind != c.job.end() && kind->is_string() ? kind->get<std::string>() : "-",
                       c.fired_job == 0 ? "no" : fmt::format("yes (job {})", c.fired_job)});
    }
    table.print(out);
}

}  // namespace

void print_workflow_details(std::ostream& out, const WorkflowRecord& w, Timestamp now) {
    const WorkflowSummary& s = w.summary;
    auto field = [&](std::string_view name, const std::string& value) {
        out << fmt::format("{:<15}{}\n", name, value);
    };
    field("id", std::to_string(s.id));
    field("name", s.name);
    field("kind", std::string(to_string(s.kind)));
    field("state", std::string(to_string(s.state)));
    field("tenant", s.tenant.empty() ? "-" : s.tenant);
    if (s.kind == WorkflowKind::workflow) field("deadline", full_time(s.deadline, now));
    field("created at", full_time(s.created_at, now));
    field("finished at", full_time(s.finished_at, now));
    field("jobs", counts_text(s));
    if (!w.jobs.empty()) {
        out << '\n';
        if (s.kind == WorkflowKind::batch) {
            print_batch_jobs(out, w);
        } else {
            print_workflow_jobs(out, w);
        }
    }
    if (s.kind == WorkflowKind::batch) print_callbacks(out, w);
}

void print_workflow_table(std::ostream& out, const WorkflowPage& page) {
    if (page.workflows.empty()) {
        out << "no workflows\n";
        return;
    }
    Table table({{"ID", Align::right},
                 {"KIND"},
                 {"STATE"},
                 {"DONE", Align::right},
                 {"CREATED AT"},
                 {"NAME"}});
    for (const WorkflowSummary& w : page.workflows) {
        const std::int64_t completed = w.counts[static_cast<std::size_t>(JobState::completed)];
        table.add_row(
            {std::to_string(w.id), std::string(to_string(w.kind)), std::string(to_string(w.state)),
             fmt::format("{}/{}", completed, total_jobs(w)), short_time(w.created_at), w.name});
    }
    table.print(out);
    if (page.next_before_id) {
        out << fmt::format("(more workflows: add --before {} for the next page)\n",
                           *page.next_before_id);
    }
}

nlohmann::json workflow_page_to_json(const WorkflowPage& page) {
    nlohmann::json workflows = nlohmann::json::array();
    for (const WorkflowSummary& w : page.workflows) workflows.push_back(to_json(w));
    return {{"workflows", std::move(workflows)},
            {"next_before_id",
             page.next_before_id ? nlohmann::json(*page.next_before_id) : nlohmann::json(nullptr)}};
}

}  // namespace jobq::cli
