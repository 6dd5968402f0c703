// cancel, retry and delete: operator actions on one job.

#include <fmt/format.h>

#include "../commands.hpp"
#include "../output.hpp"

namespace jobq::cli {

namespace {

void print_new_state(Context& ctx, const Job& job) {
    if (ctx.json()) {
        print_json(ctx.out(), to_json(job));
    } else {
        ctx.out() << fmt::format("job {}: {}\n", job.id, to_string(job.state));
    }
}

int run_cancel(Context& ctx, const ParsedArgs& args) {
    const JobId id = parse_job_id(args.positionals().at(0));
    print_new_state(ctx, ctx.queue().cancel(id));
    return 0;
}

int run_retry(Context& ctx, const ParsedArgs& args) {
    const JobId id = parse_job_id(args.positionals().at(0));
    print_new_state(ctx, ctx.queue().retry(id));
    return 0;
}

int run_delete(Context& ctx, const ParsedArgs& args) {
    const JobId id = parse_job_id(args.positionals().at(0));
    ctx.queue().remove(id);
    if (ctx.json()) {
        print_json(ctx.out(), {{"id", id}, {"deleted", true}});
    } else {
        ctx.out() << fmt::format("job {}: deleted\n", id);
    }
    return 0;
}

}  // namespace

Command cancel_command() {
    return {
        .name = "cancel",
        .synopsis = "ID",
        .summary = "Cancel a job that has not finished",
        .details = "A running job's worker loses its lease; its outcome is then ignored.",
        .positionals = {{"ID"}},
        .options = {},
        .run = run_cancel,
    };
}

Command retry_command() {
    return {
        .name = "retry",
        .synopsis = "ID",
        .summary = "Make a job that is not running available now",
        .details = "A job that used all its attempts gets one more.",
        .positionals = {{"ID"}},
        .options = {},
        .run = run_retry,
    };
}

Command delete_command() {
    return {
        .name = "delete",
        .synopsis = "ID",
        .summary = "Delete a job that is not running",
        .details = "Cancel a running job first.",
        .positionals = {{"ID"}},
        .options = {},
        .run = run_delete,
    };
}

}  // namespace jobq::cli
