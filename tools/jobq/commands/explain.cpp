// explain: why a job is not running — the first thing in its way, from a schedule to a paused
// queue, a cap, a rate limit or a missing worker — and, with --summary, how many waiting jobs
// of each queue wait for each reason.

#include <fmt/format.h>

#include "../commands.hpp"
#include "../output.hpp"
#include "jobq/time_format.hpp"
#include "jobq/wait_reason.hpp"

namespace jobq::cli {

namespace {

// `ahead` means something only to a job that waits its turn.
bool shows_ahead(const WaitExplanation& w) {
    return w.reason == WaitReason::queued || w.ahead > 0;
}

nlohmann::json explanation_to_json(JobId id, const WaitExplanation& w) {
    nlohmann::json j = nlohmann::json::object();
    j["id"] = id;
    j["reason"] = to_string(w.reason);
    j["text"] = w.text;
    j["until"] = w.until ? nlohmann::json(format_timestamp(*w.until)) : nullptr;
    j["scope"] = w.scope ? nlohmann::json(w.scope->to_string()) : nullptr;
    j["ahead"] = w.ahead;
    return j;
}

void print_explanation(std::ostream& out, JobId id, const WaitExplanation& w, Timestamp now) {
    auto field = [&](std::string_view name, std::string_view value) {
        out << fmt::format("{:<15}{}\n", name, value);
    };
    field("job", std::to_string(id));
    field("reason", to_string(w.reason));
    field("why", w.text);
    if (w.until) {
        field("until",
              fmt::format("{} ({})", format_timestamp(*w.until), relative_time(*w.until, now)));
    }
    if (w.scope) field("scope", w.scope->to_string());
    if (shows_ahead(w)) field("ahead", std::to_string(w.ahead));
}

int run_summary(Context& ctx) {
    const std::vector<WaitReasonCount> counts = ctx.queue().wait_reasons();
    if (ctx.json()) {
        nlohmann::json all = nlohmann::json::array();
        for (const WaitReasonCount& c : counts) {
            all.push_back(
                {{"queue", c.queue}, {"reason", to_string(c.reason)}, {"count", c.count}});
        }
        print_json_list(ctx.out(), "waiting", std::move(all));
        return 0;
    }
    if (counts.empty()) {
        ctx.out() << "no waiting jobs\n";
        return 0;
    }
    Table table({{"QUEUE"}, {"REASON"}, {"JOBS", Align::right}});
    for (const WaitReasonCount& c : counts) {
        table.add_row({c.queue, std::string(to_string(c.reason)), std::to_string(c.count)});
    }
    table.print(ctx.out());
    return 0;
}

int run_explain(Context& ctx, const ParsedArgs& args) {
    const bool summary = args.has("--summary");
    const auto& positionals = args.positionals();
    if (summary && !positionals.empty()) {
        throw UsageError("give an ID or --summary, not both");
    }
    if (summary) return run_summary(ctx);
    if (positionals.empty()) throw UsageError("missing argument ID (or --summary)");
    const JobId id = parse_job_id(positionals.front());
    // A job that does not exist is not_found, exit code 1, worded as `show` words it.
    const WaitExplanation w = ctx.queue().explain(id);
    if (ctx.json()) {
        print_json(ctx.out(), explanation_to_json(id, w));
    } else {
        print_explanation(ctx.out(), id, w, system_clock().now());
    }
    return 0;
}

}  // namespace

Command explain_command() {
    return {
        .name = "explain",
        .synopsis = "ID | --summary",
        .summary = "Say why a job is not running; --summary counts waiting jobs per reason",
        .details =
            "Prints the reason code, a sentence with the numbers, and when they apply the\n"
            "time it may run (until), the limit or pause in the way (scope) and how many\n"
            "jobs of its queue are before it (ahead). An available job is checked in this\n"
            "order: queue_paused, queue_concurrency_cap, kind_concurrency_cap, tenant_cap,\n"
            "rate_limited, no_worker, queued_behind, ready. Other codes: running, finished,\n"
            "scheduled, retry_backoff, waiting_on_dependencies.\n"
            "--summary counts every waiting job (pending, scheduled, available, retryable)\n"
            "per queue and reason, as a metrics scrape would.",
        .positionals = {{"ID", false}},
        .options = {{"--summary", "", "count the waiting jobs per queue and reason instead"}},
        .run = run_explain,
    };
}

}  // namespace jobq::cli
