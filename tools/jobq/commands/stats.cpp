#include "../commands.hpp"
#include "../job_view.hpp"
#include "../output.hpp"

namespace jobq::cli {

namespace {

int run_stats(Context& ctx, const ParsedArgs&) {
    const std::vector<QueueStats> stats = ctx.queue().stats();
    // The same instant the store judged "runnable" by is not exposed; the ages are read
    // against the clock just after, which is what an operator means by "how old".
    const Timestamp now = system_clock().now();
    if (ctx.json()) {
        print_json(ctx.out(), stats_to_json(stats, now));
    } else {
        print_stats_table(ctx.out(), stats, now);
    }
    return 0;
}

}  // namespace

Command stats_command() {
    return {
        .name = "stats",
        .synopsis = "",
        .summary = "Count jobs per queue and state, with the age of the oldest runnable job",
        .details = "A job is runnable when it is available, or scheduled or retryable and due.",
        .positionals = {},
        .options = {},
        .run = run_stats,
    };
}

}  // namespace jobq::cli
