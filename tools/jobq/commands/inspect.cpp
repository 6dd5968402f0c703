// show and list: the read-only views of jobs.

#include <fmt/format.h>

#include "../commands.hpp"
#include "../job_view.hpp"
#include "../output.hpp"
#include "filter.hpp"
#include "jobq/error.hpp"

namespace jobq::cli {

namespace {

std::string state_names() {
    std::string names;
    for (JobState s : all_job_states) {
        if (!names.empty()) names += ", ";
        names += to_string(s);
    }
    return names;
}

// --state may be repeated or hold a comma-separated list; both read naturally.
std::vector<JobState> read_states(const ParsedArgs& args) {
    std::vector<JobState> states;
    for (const std::string& value : args.values("--state")) {
        std::string_view rest = value;
        while (true) {
            const std::size_t comma = rest.find(',');
            const std::string_view name = rest.substr(0, comma);
            const std::optional<JobState> state = parse_job_state(name);
            if (!state) {
                bad_value("--state",
                          fmt::format("unknown state '{}' (one of: {})", name, state_names()));
            }
            states.push_back(*state);
            if (comma == std::string_view::npos) break;
            rest = rest.substr(comma + 1);
        }
    }
    return states;
}

int run_show(Context& ctx, const ParsedArgs& args) {
    const JobId id = parse_job_id(args.positionals().at(0));
    const std::optional<Job> job = ctx.queue().get(id);
    if (!job) throw Error(ErrorCode::not_found, fmt::format("job {} does not exist", id), "id");
    if (ctx.json()) {
        print_json(ctx.out(), to_json(*job));
    } else {
        print_job_details(ctx.out(), *job, system_clock().now());
    }
    return 0;
}

int run_list(Context& ctx, const ParsedArgs& args) {
    JobFilter filter = read_filter(args);
    filter.states = read_states(args);
    const JobPage page = in_option_terms(filter_fields, [&] { return ctx.queue().list(filter); });
    if (ctx.json()) {
        print_json(ctx.out(), page_to_json(page));
    } else {
        print_job_table(ctx.out(), page);
    }
    return 0;
}

}  // namespace

Command show_command() {
    return {
        .name = "show",
        .synopsis = "ID",
        .summary = "Print every field of a job, each attempt's error and the result",
        .details = "",
        .positionals = {{"ID"}},
        .options = {},
        .run = run_show,
    };
}

Command list_command() {
    std::vector<OptionSpec> options{
        {"--state", "S", "only jobs in state S (or S1,S2,...)", true},
    };
    for (OptionSpec& o : filter_options(true)) options.push_back(o);
    return {
        .name = "list",
        .synopsis = "[options]",
        .summary = "List jobs, newest first",
        .details =
            "States: pending, scheduled, available, running, retryable, completed,\n"
            "cancelled, discarded. When more jobs match than --limit, the last line gives\n"
            "the --before cursor of the next page.",
        .positionals = {},
        .options = std::move(options),
        .run = run_list,
    };
}

}  // namespace jobq::cli
