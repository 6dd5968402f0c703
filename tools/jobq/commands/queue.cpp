// queue: the queues of a store with their limits, pause and workers (list), and stopping or
// restarting the start of new jobs from one queue in every worker process (pause, resume).

#include <fmt/format.h>

#include "../commands.hpp"
#include "../flow_view.hpp"
#include "../output.hpp"
#include "jobq/error.hpp"
#include "jobq/flow_control.hpp"
#include "jobq/limit_scope.hpp"

namespace jobq::cli {

namespace {

constexpr std::string_view queue_subcommands = "list, pause, resume";

FlowControl flow_of(Context& ctx) {
    return FlowControl(ctx.queue().store());
}

// Checked before the database is opened, so a mistyped name never reaches it; the library
// words the rule for a scope ("scope: queue name ..."), the user typed QUEUE.
std::string read_queue_name(const ParsedArgs& args) {
    std::string name = args.positionals().at(0);
    try {
        LimitScope::queue(name).validate();
    } catch (const Error& e) {
        const std::string message = e.what();
        constexpr std::string_view prefix = "scope: queue name ";
        if (message.starts_with(prefix)) {
            throw Error(e.code(), fmt::format("QUEUE: {}", message.substr(prefix.size())), "queue");
        }
        throw;
    }
    return name;
}

int run_queue(Context&, const ParsedArgs& args) {
    if (args.positionals().empty()) {
        throw UsageError(fmt::format("missing queue command (one of: {})", queue_subcommands));
    }
    throw UsageError(fmt::format("unknown queue command '{}' (one of: {})",
                                 args.positionals().front(), queue_subcommands));
}

int run_list(Context& ctx, const ParsedArgs&) {
    const std::vector<QueueInfo> queues = flow_of(ctx).queues();
    if (ctx.json()) {
        const Timestamp now = system_clock().now();
        nlohmann::json all = nlohmann::json::array();
        for (const QueueInfo& q : queues) all.push_back(queue_to_json(q, now));
        print_json_list(ctx.out(), "queues", std::move(all));
    } else {
        print_queue_table(ctx.out(), queues);
    }
    return 0;
}

// Pause and resume are idempotent; saying which case it was tells the operator whether the
// command changed anything, and both succeed so that scripts can simply repeat them.
void print_pause_result(Context& ctx, const std::string& queue, bool paused, bool changed) {
    if (ctx.json()) {
        print_json(ctx.out(), {{"queue", queue}, {"paused", paused}, {"changed", changed}});
        return;
    }
    std::string_view what;
    if (paused) {
        what = changed ? "paused" : "was already paused";
    } else {
        what = changed ? "resumed" : "was not paused";
    }
    ctx.out() << fmt::format("queue {} {}\n", queue, what);
}

int run_pause(Context& ctx, const ParsedArgs& args) {
    const std::string queue = read_queue_name(args);
    const bool changed = flow_of(ctx).pause(queue);
    print_pause_result(ctx, queue, true, changed);
    return 0;
}

int run_resume(Context& ctx, const ParsedArgs& args) {
    const std::string queue = read_queue_name(args);
    const bool changed = flow_of(ctx).resume(queue);
    print_pause_result(ctx, queue, false, changed);
    return 0;
}

}  // namespace

Command queue_command() {
    return {
        .name = "queue",
        .synopsis = "COMMAND [ARGS...]",
        .summary = "Queues with their limits, pause and workers; pause and resume a queue",
        .details =
            "Commands: list, pause, resume. 'jobq queue COMMAND --help' describes one.\n"
            "Limits of a queue (and of kinds and tenants) are set with 'jobq limit'.",
        .positionals = {{"COMMAND", false}},
        .options = {},
        .run = run_queue,
    };
}

Command queue_list_command() {
    return {
        .name = "queue list",
        .synopsis = "",
        .summary = "List the queues: state, limits, job counts and live workers",
        .details =
            "Every queue that has jobs, limits, a pause or a live worker. MAX RUNNING and\n"
            "RATE are the queue's own limits ('jobq limit list' shows those of kinds and\n"
            "tenants too); WORKERS counts the live worker processes that claim from it.\n"
            "--json adds the counts of every state and the ids of the workers.",
        .positionals = {},
        .options = {},
        .run = run_list,
    };
}

Command queue_pause_command() {
    return {
        .name = "queue pause",
        .synopsis = "QUEUE",
        .summary = "Stop starting jobs from a queue in every worker process",
        .details =
            "Running jobs finish; no new job of QUEUE starts until 'jobq queue resume'.\n"
            "Jobs can still be enqueued. The pause is stored, so it holds across worker\n"
            "restarts, and it stays when the queue's limits are removed. Pausing a paused\n"
            "queue changes nothing and succeeds.",
        .positionals = {{"QUEUE"}},
        .options = {},
        .run = run_pause,
    };
}

Command queue_resume_command() {
    return {
        .name = "queue resume",
        .synopsis = "QUEUE",
        .summary = "Let a paused queue's jobs start again",
        .details =
            "Workers waiting on the queue are woken. Resuming a queue that is not paused\n"
            "changes nothing and succeeds.",
        .positionals = {{"QUEUE"}},
        .options = {},
        .run = run_resume,
    };
}

}  // namespace jobq::cli
