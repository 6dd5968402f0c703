// dlq and dlq replay: the dead-letter queue (discarded jobs).

#include <fmt/format.h>

#include "../commands.hpp"
#include "../job_view.hpp"
#include "../output.hpp"
#include "filter.hpp"

namespace jobq::cli {

namespace {

int run_dlq(Context& ctx, const ParsedArgs& args) {
    const JobFilter filter = read_filter(args);
    const JobPage page =
        in_option_terms(filter_fields, [&] { return ctx.queue().dead_letters(filter); });
    if (ctx.json()) {
        print_json(ctx.out(), page_to_json(page));
    } else {
        print_dead_letter_table(ctx.out(), page);
    }
    return 0;
}

int run_replay(Context& ctx, const ParsedArgs& args) {
    const bool all = args.has("--all");
    const bool has_id = !args.positionals().empty();
    if (all == has_id) throw UsageError("give either a job ID or --all");
    if (has_id) {
        // A filter next to an ID would be silently ignored; refuse it instead.
        for (std::string_view option : {"--queue", "--kind", "--tenant"}) {
            if (args.has(option)) {
                throw UsageError(
                    fmt::format("{} filters 'dlq replay --all'; not a job ID", option));
            }
        }
        const JobId id = parse_job_id(args.positionals().front());
        const Job job = ctx.queue().replay(id);
        if (ctx.json()) {
            print_json(ctx.out(), to_json(job));
        } else {
            ctx.out() << fmt::format("replayed job {}: {}\n", job.id, to_string(job.state));
        }
        return 0;
    }
    const JobFilter filter = read_filter(args);
    const std::int64_t replayed =
        in_option_terms(filter_fields, [&] { return ctx.queue().replay_all(filter); });
    if (ctx.json()) {
        print_json(ctx.out(), {{"replayed", replayed}});
    } else {
        ctx.out() << fmt::format("replayed {} job{}\n", replayed, replayed == 1 ? "" : "s");
    }
    return 0;
}

}  // namespace

Command dlq_command() {
    return {
        .name = "dlq",
        .synopsis = "[options]",
        .summary = "List the dead-letter queue (discarded jobs) with each one's last error",
        .details = "'jobq show ID' prints a job's every error; 'jobq dlq replay' runs jobs again.",
        .positionals = {},
        .options = filter_options(true),
        .run = run_dlq,
    };
}

Command dlq_replay_command() {
    std::vector<OptionSpec> options{{"--all", "", "replay every discarded job the filters match"}};
    for (OptionSpec& o : filter_options(false)) options.push_back(o);
    return {
        .name = "dlq replay",
        .synopsis = "ID | --all [--queue Q] [--kind K] [--tenant T]",
        .summary = "Make discarded jobs available again",
        .details = "A job that used all its attempts gets one more. Its error history is kept.",
        .positionals = {{"ID", false}},
        .options = std::move(options),
        .run = run_replay,
    };
}

}  // namespace jobq::cli
