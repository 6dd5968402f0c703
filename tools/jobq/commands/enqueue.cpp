#include <array>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "../commands.hpp"
#include "../output.hpp"
#include "jobq/error.hpp"
#include "jobq/job_spec.hpp"
#include "jobq/time_format.hpp"

namespace jobq::cli {

namespace {

nlohmann::json parse_payload(const std::string& text) {
    nlohmann::json payload;
    try {
        payload = nlohmann::json::parse(text);
    } catch (const nlohmann::json::parse_error& e) {
        // Drop the library's "[json.exception.parse_error.101] " tag; the rest says where.
        std::string_view why = e.what();
        if (const std::size_t tag_end = why.find("] "); tag_end != std::string_view::npos) {
            why.remove_prefix(tag_end + 2);
        }
        throw Error(ErrorCode::invalid_argument, fmt::format("payload: not valid JSON ({})", why),
                    "payload");
    }
    if (!payload.is_object()) {
        throw Error(ErrorCode::invalid_argument,
                    fmt::format("payload: must be a JSON object (got {})", payload.type_name()),
                    "payload");
    }
    return payload;
}

// JobSpec::validate names its fields as the C++ API spells them; a CLI user typed options.
constexpr std::array<std::pair<std::string_view, std::string_view>, 8> option_of_field{{
    {"queue", "--queue"},
    {"priority", "--priority"},
    {"delay", "--in"},
    {"max_attempts", "--max-attempts"},
    {"timeout", "--timeout"},
    {"unique_key", "--unique-key"},
    {"tags", "--tag"},
    {"tenant", "--tenant"},
}};

void validate_in_option_terms(const JobSpec& spec) {
    try {
        spec.validate();
    } catch (const Error& e) {
        for (const auto& [field, option] : option_of_field) {
            const std::string_view message = e.what();
            if (e.field() == field && message.starts_with(field)) {
                throw Error(e.code(), fmt::format("{}{}", option, message.substr(field.size())),
                            e.field());
            }
        }
        throw;
    }
}

JobSpec read_spec(const ParsedArgs& args) {
    const auto& positionals = args.positionals();
    JobSpec spec(positionals.at(0), parse_payload(positionals.size() > 1 ? positionals[1] : "{}"));
    if (auto queue = args.value("--queue")) spec.queue(*queue);
    if (auto priority = args.value("--priority")) spec.priority(parse_int(*priority, "--priority"));
    if (args.has("--in") && args.has("--at")) {
        throw UsageError("--in and --at both set the run time; give one of them");
    }
    if (auto in = args.value("--in")) spec.delay(parse_duration(*in, "--in"));
    if (auto at = args.value("--at")) spec.run_at(parse_timestamp(*at, "--at"));
    if (auto n = args.value("--max-attempts")) spec.max_attempts(parse_int(*n, "--max-attempts"));
    if (auto key = args.value("--unique-key")) {
        if (key->empty()) throw UsageError("--unique-key: must not be empty");
        spec.unique_key(*key);
    }
    if (auto tenant = args.value("--tenant")) {
        if (tenant->empty()) throw UsageError("--tenant: must not be empty");
        spec.tenant(*tenant);
    }
    for (std::string& tag : args.values("--tag")) spec.tag(std::move(tag));
    if (auto timeout = args.value("--timeout")) spec.timeout(parse_duration(*timeout, "--timeout"));
    validate_in_option_terms(spec);
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
    return {
        .name = "enqueue",
        .synopsis = "KIND [PAYLOAD_JSON] [options]",
        .summary = "Enqueue a job of KIND with a JSON object payload; print its id",
        .details =
            "PAYLOAD_JSON defaults to {}. With --unique-key, an enqueue that matches an\n"
            "unfinished job with the same key returns that job's id instead.\n"
            "Durations: 500ms, 90s, 10m, 1h30m, 2d. Times: ISO 8601, e.g.\n"
            "2026-11-23T10:56:00Z or 2026-11-23T11:56:00+01:00.",
        .positionals = {{"KIND"}, {"PAYLOAD_JSON", false}},
        .options =
            {
                {"--queue", "Q", "queue to put the job on (default: default)"},
                {"--priority", "N", "0 (runs first, the default) to 9 (runs last)"},
                {"--in", "DURATION", "run no earlier than this long from now"},
                {"--at", "TIME", "run no earlier than this time (ISO 8601)"},
                {"--max-attempts", "N", "attempts before the job is discarded (default 20)"},
                {"--unique-key", "K", "coalesce with an unfinished job that has this key"},
                {"--tenant", "T", "tenant the job belongs to (also scopes --unique-key)"},
                {"--tag", "T", "label for filtering and metrics", true},
                {"--timeout", "DURATION", "time limit of each attempt"},
            },
        .run = run_enqueue,
    };
}

}  // namespace jobq::cli
