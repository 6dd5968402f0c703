#include "job_options.hpp"

#include <array>
#include <utility>

#include <fmt/format.h>

#include "jobq/error.hpp"
#include "jobq/time_format.hpp"

namespace jobq::cli {

namespace {

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

}  // namespace

std::vector<OptionSpec> job_options() {
    return {
        {"--queue", "Q", "queue to put the job on (default: default)"},
        {"--priority", "N", "0 (runs first, the default) to 9 (runs last)"},
        {"--max-attempts", "N", "attempts before the job is discarded (default 20)"},
        {"--unique-key", "K", "coalesce with an unfinished job that has this key"},
        {"--tenant", "T", "tenant the job belongs to (also scopes --unique-key)"},
        {"--tag", "T", "label for filtering and metrics", true},
        {"--timeout", "DURATION", "time limit of each attempt"},
    };
}

nlohmann::json parse_payload(const std::string& text, std::string_view what) {
    nlohmann::json payload;
    try {
        payload = nlohmann::json::parse(text);
    } catch (const nlohmann::json::parse_error& e) {
        // Drop the library's "[json.exception.parse_error.101] " tag; the rest says where.
        std::string_view why = e.what();
        if (const std::size_t tag_end = why.find("] "); tag_end != std::string_view::npos) {
            why.remove_prefix(tag_end + 2);
        }
        throw Error(ErrorCode::invalid_argument, fmt::format("{}: not valid JSON ({})", what, why),
                    "payload");
    }
    if (!payload.is_object()) {
        throw Error(ErrorCode::invalid_argument,
                    fmt::format("{}: must be a JSON object (got {})", what, payload.type_name()),
                    "payload");
    }
    return payload;
}

void apply_job_options(JobSpec& spec, const ParsedArgs& args) {
    if (auto queue = args.value("--queue")) spec.queue(*queue);
    if (auto priority = args.value("--priority")) spec.priority(parse_int(*priority, "--priority"));
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
}

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

}  // namespace jobq::cli
