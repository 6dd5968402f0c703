#include "job_view.hpp"

#include <fmt/format.h>

#include "jobq/time_format.hpp"
#include "output.hpp"

namespace jobq::cli {

namespace {

// Messages in the dead-letter table are cut so a row fits a wide terminal; `show` has them
// in full.
constexpr std::size_t dlq_message_width = 60;

std::string or_dash(const std::string& s) {
    return s.empty() ? "-" : s;
}

std::string join(const std::vector<std::string>& items, std::string_view sep) {
    std::string out;
    for (const auto& item : items) {
        if (!out.empty()) out += sep;
        out += item;
    }
    return out;
}

// Multi-line values (pretty JSON, stack-trace-like messages) stay readable under their
// heading when every line is indented.
void print_indented(std::ostream& out, std::string_view text, std::string_view indent) {
    while (true) {
        const std::size_t newline = text.find('\n');
        out << indent << text.substr(0, newline) << '\n';
        if (newline == std::string_view::npos) break;
        text = text.substr(newline + 1);
    }
}

std::string pretty(const nlohmann::json& value) {
    return value.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
}

void print_next_page_hint(std::ostream& out, const JobPage& page) {
    if (page.next_before_id) {
        out << fmt::format("(more jobs: add --before {} for the next page)\n",
                           *page.next_before_id);
    }
}

}  // namespace

void print_job_details(std::ostream& out, const Job& job, Timestamp now) {
    auto field = [&](std::string_view name, const std::string& value) {
        out << fmt::format("{:<15}{}\n", name, value);
    };
    field("id", std::to_string(job.id));
    field("kind", job.kind);
    field("queue", job.queue);
    field("state", std::string(to_string(job.state)));
    field("priority", std::to_string(job.priority));
    field("attempt", fmt::format("{} of {}", job.attempt, job.max_attempts));
    field("tenant", or_dash(job.tenant));
    if (job.workflow_id != 0) {
        // A batch's jobs have no step name; a workflow's are named in it.
        field("workflow", job.step.empty()
                              ? std::to_string(job.workflow_id)
                              : fmt::format("{} (step {})", job.workflow_id, job.step));
    }
    field("tags", job.tags.empty() ? "-" : join(job.tags, ", "));
    field("unique key",
          job.unique_key.empty()
              ? "-"
              : fmt::format("{} ({})", unique_key_as_given(job),
                            unique_scope(job) == UniqueScope::tenant ? "per tenant" : "global"));
    field("created at", full_time(job.created_at, now));
    field("run at", full_time(job.run_at, now));
    field("attempted at", full_time(job.attempted_at, now));
    field("finished at", full_time(job.finished_at, now));
    field("lease expires", full_time(job.lease_expires_at, now));
    field("worker", or_dash(job.worker_id));
    field("timeout", job.timeout ? format_duration(*job.timeout) : "-");
    field("retry policy",
          job.retry_policy ? job.retry_policy->to_json().dump() : "(the kind's or worker's)");
    out << "payload\n";
    print_indented(out, pretty(job.payload), "  ");
    if (job.errors.empty()) {
        out << "errors         -\n";
    } else {
        out << fmt::format("errors ({})\n", job.errors.size());
        for (const AttemptError& e : job.errors) {
            out << fmt::format("  attempt {} at {} [{}]\n", e.attempt, format_timestamp(e.at),
                               e.kind);
            print_indented(out, e.message.empty() ? "(no message)" : e.message, "    ");
        }
    }
    if (job.result.is_null()) {
        out << "result         -\n";
    } else {
        out << "result\n";
        print_indented(out, pretty(job.result), "  ");
    }
}

void print_job_table(std::ostream& out, const JobPage& page) {
    if (page.jobs.empty()) {
        out << "no jobs\n";
        return;
    }
    Table table({{"ID", Align::right},
                 {"STATE"},
                 {"QUEUE"},
                 {"KIND"},
                 {"ATTEMPT/MAX", Align::right},
                 {"PRIORITY", Align::right},
                 {"RUN AT"}});
    for (const Job& job : page.jobs) {
        table.add_row({std::to_string(job.id), std::string(to_string(job.state)), job.queue,
                       job.kind, fmt::format("{}/{}", job.attempt, job.max_attempts),
                       std::to_string(job.priority), short_time(job.run_at)});
    }
    table.print(out);
    print_next_page_hint(out, page);
}

void print_dead_letter_table(std::ostream& out, const JobPage& page) {
    if (page.jobs.empty()) {
        out << "no discarded jobs\n";
        return;
    }
    Table table({{"ID", Align::right},
                 {"QUEUE"},
                 {"KIND"},
                 {"ATTEMPT/MAX", Align::right},
                 {"DISCARDED AT"},
                 {"LAST ERROR"}});
    for (const Job& job : page.jobs) {
        std::string last_error = "-";
        if (!job.errors.empty()) {
            const AttemptError& e = job.errors.back();
            last_error = one_line(fmt::format("{}: {}", e.kind, e.message), dlq_message_width);
        }
        table.add_row({std::to_string(job.id), job.queue, job.kind,
                       fmt::format("{}/{}", job.attempt, job.max_attempts),
                       short_time(job.finished_at), last_error});
    }
    table.print(out);
    print_next_page_hint(out, page);
}

nlohmann::json page_to_json(const JobPage& page) {
    nlohmann::json jobs = nlohmann::json::array();
    for (const Job& job : page.jobs) jobs.push_back(to_json(job));
    return {{"jobs", std::move(jobs)},
            {"next_before_id",
             page.next_before_id ? nlohmann::json(*page.next_before_id) : nlohmann::json(nullptr)}};
}

void print_stats_table(std::ostream& out, std::span<const QueueStats> stats, Timestamp now) {
    if (stats.empty()) {
        out << "no queues\n";
        return;
    }
    std::vector<Column> columns{{"QUEUE"}};
    for (JobState s : all_job_states) {
        std::string header(to_string(s));
        for (char& c : header) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        columns.push_back({std::move(header), Align::right});
    }
    columns.push_back({"OLDEST RUNNABLE", Align::right});
    Table table(std::move(columns));
    for (const QueueStats& q : stats) {
        std::vector<std::string> row{q.queue};
        for (JobState s : all_job_states) row.push_back(std::to_string(q.count(s)));
        row.push_back(q.oldest_runnable_since ? rounded_duration(now - *q.oldest_runnable_since)
                                              : "-");
        table.add_row(std::move(row));
    }
    table.print(out);
}

nlohmann::json stats_to_json(std::span<const QueueStats> stats, Timestamp now) {
    nlohmann::json queues = nlohmann::json::array();
    for (const QueueStats& q : stats) {
        nlohmann::json counts = nlohmann::json::object();
        std::int64_t total = 0;
        for (JobState s : all_job_states) {
            counts[std::string(to_string(s))] = q.count(s);
            total += q.count(s);
        }
        nlohmann::json oldest_at = nullptr;
        nlohmann::json oldest_age_ms = nullptr;
        if (q.oldest_runnable_since) {
            oldest_at = format_timestamp(*q.oldest_runnable_since);
            oldest_age_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                now - *q.oldest_runnable_since)
                                .count();
        }
        queues.push_back({{"queue", q.queue},
                          {"counts", std::move(counts)},
                          {"total", total},
                          {"oldest_runnable_at", std::move(oldest_at)},
                          {"oldest_runnable_age_ms", std::move(oldest_age_ms)}});
    }
    return {{"queues", std::move(queues)}};
}

}  // namespace jobq::cli
