#include <fmt/format.h>

#include "../commands.hpp"
#include "../output.hpp"
#include "job_options.hpp"
#include "jobq/time_format.hpp"

#ifdef JOBQ_CLI_WITH_KINDS
#include "jobq/error.hpp"
#include "jobq/kinds/email_kind.hpp"
#include "jobq/kinds/http_request.hpp"
#endif

namespace jobq::cli {

namespace {

JobSpec read_spec(const ParsedArgs& args) {
    const auto& positionals = args.positionals();
    JobSpec spec(
        positionals.at(0),
        parse_payload(payload_text(positionals.size() > 1 ? positionals[1] : "{}", "payload"),
                      "payload"));
    if (args.has("--in") && args.has("--at")) {
        throw UsageError("--in and --at both set the run time; give one of them");
    }
    if (auto in = args.value("--in")) spec.delay(parse_duration(*in, "--in"));
    if (auto at = args.value("--at")) spec.run_at(parse_timestamp(*at, "--at"));
    apply_job_options(spec, args);
    validate_in_option_terms(spec);
#ifdef JOBQ_CLI_WITH_KINDS
    // A built-in kind's payload is checked now, so a bad one is refused before anything is
    // written rather than discarded by the worker later.
    if (spec.kind() == kinds::http_kind || spec.kind() == kinds::email_kind) {
        try {
            if (spec.kind() == kinds::http_kind) {
                (void)kinds::parse_http_request(spec.payload());
            } else {
                // No sender default here: the worker's JOBQ_SMTP_FROM may supply `from`.
                (void)kinds::email_job(spec.payload());
            }
        } catch (const Error& e) {
            throw Error(e.code(), fmt::format("payload of a {} job: {}", spec.kind(), e.what()),
                        "payload." + e.field());
        }
    }
#endif
    return spec;
}

int run_enqueue(Context& ctx, const ParsedArgs& args) {
    const JobSpec spec = read_spec(args);
    const EnqueueResult result = ctx.queue().enqueue(spec);
    if (ctx.json()) {
        print_json(ctx.out(), {{"id", result.id}, {"duplicate", result.duplicate}});
    } else if (result.duplicate) {
        ctx.out() << fmt::format(
            "job {} already exists with unique key '{}'; nothing new was enqueued\n", result.id,
            spec.unique_key());
    } else {
        ctx.out() << fmt::format("enqueued job {}\n", result.id);
    }
    return 0;
}

}  // namespace

Command enqueue_command() {
    std::vector<OptionSpec> options = job_options();
    // --in and --at follow --priority, where they have always been listed.
    options.insert(options.begin() + 2,
                   {{"--in", "DURATION", "run no earlier than this long from now"},
                    {"--at", "TIME", "run no earlier than this time (ISO 8601)"}});
    return {
        .name = "enqueue",
        .synopsis = "KIND [PAYLOAD_JSON] [options]",
        .summary = "Enqueue a job of KIND with a JSON object payload; print its id",
        .details =
            "PAYLOAD_JSON defaults to {}; '-' reads it from standard input and '@FILE'\n"
            "from a file, for payloads too large for one argument. With --unique-key, an enqueue "
            "that matches an\n"
            "unfinished job with the same key returns that job's id instead.\n"
            "With --tenant, an enqueue that would take the tenant over its quota of queued\n"
            "jobs ('jobq limit set tenant:T --max-queued N') is refused with exit code 3\n"
            "and writes nothing.\n"
            "Durations: 500ms, 90s, 10m, 1h30m, 2d. Times: ISO 8601, e.g.\n"
            "2026-11-23T10:56:00Z or 2026-11-23T11:56:00+01:00.",
        .positionals = {{"KIND"}, {"PAYLOAD_JSON", false}},
        .options = std::move(options),
        .run = run_enqueue,
    };
}

}  // namespace jobq::cli
