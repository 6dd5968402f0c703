// limit: the flow limits of a store — concurrency caps, rate limits, tenant quotas and weights
// per queue, kind or tenant (list, set, remove).

#include <array>
#include <utility>

#include <fmt/format.h>

#include "../commands.hpp"
#include "../flow_view.hpp"
#include "../option_terms.hpp"
#include "../output.hpp"
#include "jobq/error.hpp"
#include "jobq/flow_control.hpp"
#include "jobq/flow_limits.hpp"
#include "jobq/limit_scope.hpp"
#include "jobq/rate_limit.hpp"

namespace jobq::cli {

namespace {

constexpr std::string_view limit_subcommands = "list, set, remove";

// FlowLimits, RateLimit and LimitScope name their fields as the C++ API spells them; a CLI user
// typed options. "rate" is RateLimit::parse's own field.
constexpr std::array<FieldOption, 7> option_of_field{{
    {"max_running", "--max-running"},
    {"rate.limit", "--rate"},
    {"rate.period", "--rate"},
    {"rate.burst", "--burst"},
    {"rate", "--rate"},
    {"max_queued", "--max-queued"},
    {"weight", "--weight"},
}};

FlowControl flow_of(Context& ctx) {
    return FlowControl(ctx.queue().store());
}

LimitScope read_scope(const ParsedArgs& args) {
    return LimitScope::parse(args.positionals().at(0));
}

// Every value is checked, in option terms, before the database is opened: bad input never
// reaches it.
FlowLimits read_limits(const ParsedArgs& args, const LimitScope& scope) {
    FlowLimits limits;
    if (auto n = args.value("--max-running")) {
        limits.max_running = parse_int(*n, "--max-running");
    }
    if (auto rate = args.value("--rate")) {
        limits.rate = in_option_terms(option_of_field, [&] { return RateLimit::parse(*rate); });
    }
    if (auto burst = args.value("--burst")) {
        if (!limits.rate) throw UsageError("--burst sizes the bucket of --rate; give --rate too");
        limits.rate->burst = parse_int(*burst, "--burst");
        // RateLimit reads 0 as "the rate's count"; a user who typed 0 meant something else.
        if (limits.rate->burst < 1) {
            throw Error(ErrorCode::invalid_argument,
                        fmt::format("--burst: must be at least 1 (got {})", limits.rate->burst),
                        "--burst");
        }
    }
    if (auto n = args.value("--max-queued")) limits.max_queued = parse_integer(*n, "--max-queued");
    if (auto weight = args.value("--weight")) limits.weight = parse_int(*weight, "--weight");
    if (!args.has("--max-running") && !args.has("--rate") && !args.has("--max-queued") &&
        !args.has("--weight")) {
        throw UsageError(
            "give at least one limit: --max-running, --rate, --max-queued or --weight (to "
            "remove a scope's limits: jobq limit remove SCOPE)");
    }
    in_option_terms(option_of_field, [&] { limits.validate(scope); });
    // The library lets a weight of 1 pass anywhere, as it is every scope's default; said
    // explicitly on a queue or kind it is a misunderstanding worth pointing out.
    if (args.has("--weight") && scope.type != ScopeType::tenant) {
        throw Error(ErrorCode::invalid_argument,
                    fmt::format("--weight: applies to a tenant only, not to {} (got {})",
                                scope.to_string(), limits.weight),
                    "--weight");
    }
    return limits;
}

int run_limit(Context&, const ParsedArgs& args) {
    if (args.positionals().empty()) {
        throw UsageError(fmt::format("missing limit command (one of: {})", limit_subcommands));
    }
    throw UsageError(fmt::format("unknown limit command '{}' (one of: {})",
                                 args.positionals().front(), limit_subcommands));
}

int run_list(Context& ctx, const ParsedArgs&) {
    const std::vector<LimitRecord> records = flow_of(ctx).list();
    if (ctx.json()) {
        const Timestamp now = system_clock().now();
        nlohmann::json all = nlohmann::json::array();
        for (const LimitRecord& r : records) all.push_back(limit_to_json(r, now));
        print_json_list(ctx.out(), "limits", std::move(all));
    } else {
        print_limit_table(ctx.out(), records);
    }
    return 0;
}

int run_set(Context& ctx, const ParsedArgs& args) {
    const LimitScope scope = read_scope(args);
    const FlowLimits limits = read_limits(args, scope);
    FlowControl flow = flow_of(ctx);
    // `set` replaces every limit of the scope: saying what was there makes a dropped limit
    // visible to the operator who forgot to repeat it.
    const std::optional<LimitRecord> before = flow.get(scope);
    const LimitRecord record = flow.set(scope, limits);
    if (ctx.json()) {
        print_json(ctx.out(), limit_to_json(record, system_clock().now()));
        return 0;
    }
    std::string line =
        fmt::format("set limits of {}: {}", scope.to_string(), limits_summary(scope, limits));
    if (before && before->limits != FlowLimits{}) {
        line += fmt::format(" (was: {})", limits_summary(scope, before->limits));
    }
    ctx.out() << line << '\n';
    return 0;
}

int run_remove(Context& ctx, const ParsedArgs& args) {
    const LimitScope scope = read_scope(args);
    FlowControl flow = flow_of(ctx);
    const bool removed = flow.remove(scope);
    if (ctx.json()) {
        print_json(ctx.out(), {{"scope", scope.to_string()}, {"removed", removed}});
        return 0;
    }
    if (!removed) {
        ctx.out() << fmt::format("{} has no limits; nothing to remove\n", scope.to_string());
        return 0;
    }
    // Limits and the pause share a queue's row, but removing limits is not resuming.
    const std::optional<LimitRecord> after =
        scope.type == ScopeType::queue ? flow.get(scope) : std::nullopt;
    if (after && after->paused) {
        ctx.out() << fmt::format("removed the limits of {}; queue {} stays paused\n",
                                 scope.to_string(), scope.name);
    } else {
        ctx.out() << fmt::format("removed the limits of {}\n", scope.to_string());
    }
    return 0;
}

}  // namespace

Command limit_command() {
    return {
        .name = "limit",
        .synopsis = "COMMAND [ARGS...]",
        .summary = "Concurrency caps, rate limits and tenant quotas per queue, kind or tenant",
        .details =
            "Commands: list, set, remove. 'jobq limit COMMAND --help' describes one.\n"
            "Every worker process obeys a change at its next claim.",
        .positionals = {{"COMMAND", false}},
        .options = {},
        .run = run_limit,
    };
}

Command limit_list_command() {
    return {
        .name = "limit list",
        .synopsis = "",
        .summary = "List the limits of every scope, with their running counts",
        .details =
            "RUNNING is how many jobs of the scope run now across every worker process.\n"
            "A paused queue is listed even without limits. --json adds the tokens each\n"
            "rate limit's bucket holds now.",
        .positionals = {},
        .options = {},
        .run = run_list,
    };
}

Command limit_set_command() {
    return {
        .name = "limit set",
        .synopsis =
            "SCOPE [--max-running N] [--rate N/UNIT [--burst N]] [--max-queued N] [--weight N]",
        .summary = "Set the limits of a scope, replacing all the ones it had",
        .details =
            "SCOPE is queue:NAME (every job of a queue), kind:NAME (every job of a kind, in\n"
            "any queue) or tenant:NAME (every job of a tenant).\n"
            "Limits not given are dropped: 'set' replaces the scope's limits as a whole.\n"
            "At least one option is required; 'jobq limit remove' drops them all.\n"
            "A rate is a count per period: 50/s, 100/10s, 5/1m, 1000/h, 20/500ms, 3/d.",
        .positionals = {{"SCOPE"}},
        .options =
            {
                {"--max-running", "N", "at most N jobs of the scope run at once (N >= 1)"},
                {"--rate", "N/UNIT", "at most N job starts per period (units ms, s, m, h, d)"},
                {"--burst", "N", "with --rate: up to N starts at once (default: the rate's N)"},
                {"--max-queued", "N",
                 "tenant only: at most N queued jobs; enqueues over it are\n"
                 "refused (exit code 3)"},
                {"--weight", "N",
                 "tenant only: share of claims among tenants, 1 to 100 (default 1)"},
            },
        .run = run_set,
    };
}

Command limit_remove_command() {
    return {
        .name = "limit remove",
        .synopsis = "SCOPE",
        .summary = "Remove every limit of a scope",
        .details =
            "SCOPE is queue:NAME (every job of a queue), kind:NAME (every job of a kind, in\n"
            "any queue) or tenant:NAME (every job of a tenant).\n"
            "A paused queue stays paused ('jobq queue resume' resumes it). Removing the\n"
            "limits of a scope that has none changes nothing and succeeds.",
        .positionals = {{"SCOPE"}},
        .options = {},
        .run = run_remove,
    };
}

}  // namespace jobq::cli
