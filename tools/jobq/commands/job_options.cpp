#include "job_options.hpp"

#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <utility>

#include <fmt/format.h>

#include "../option_terms.hpp"
#include "jobq/error.hpp"
#include "jobq/json_input.hpp"
#include "jobq/time_format.hpp"

namespace jobq::cli {

namespace {

// JobSpec::validate names its fields as the C++ API spells them; a CLI user typed options.
constexpr std::array<FieldOption, 9> option_of_field{{
    {"queue", "--queue"},
    {"priority", "--priority"},
    {"delay", "--in"},
    {"run_at", "--at"},
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

std::string payload_text(const std::string& arg, std::string_view what) {
    // Far above any payload limit, low enough that a stray pipe cannot exhaust memory; what
    // is read is then held to the queue's real limit by enqueue.
    constexpr std::size_t max_read = std::size_t{64} << 20;
    if (arg != "-" && !arg.starts_with("@")) return arg;
    const bool from_stdin = arg == "-";
    const std::string source = from_stdin ? "standard input" : fmt::format("'{}'", arg.substr(1));
    std::ifstream file;
    if (!from_stdin) {
        std::error_code ec;
        if (std::filesystem::is_directory(arg.substr(1), ec)) {
            throw Error(ErrorCode::invalid_argument,
                        fmt::format("{}: cannot read {}: it is a directory", what, source),
                        std::string(what));
        }
        file.open(arg.substr(1), std::ios::binary);
        if (!file) {
            throw Error(ErrorCode::invalid_argument,
                        fmt::format("{}: cannot read {}: {}", what, source, std::strerror(errno)),
                        std::string(what));
        }
    }
    std::istream& in = from_stdin ? std::cin : file;
    std::string text;
    char buffer[65536];
    while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
        text.append(buffer, static_cast<std::size_t>(in.gcount()));
        if (text.size() > max_read) {
            throw Error(ErrorCode::invalid_argument,
                        fmt::format("{}: {} is larger than {} MiB", what, source, max_read >> 20),
                        std::string(what));
        }
    }
    if (in.bad()) {
        throw Error(ErrorCode::invalid_argument, fmt::format("{}: cannot read {}", what, source),
                    std::string(what));
    }
    return text;
}

nlohmann::json parse_payload(const std::string& text, std::string_view what) {
    // The library's one parser for outside JSON: depth, NUL and number overflow are refused
    // with the field and the place, never with nlohmann's own exception.
    nlohmann::json payload;
    try {
        payload = parse_json_input(text, "payload");
    } catch (const Error& e) {
        std::string_view why = e.what();
        if (why.starts_with("payload: ")) why.remove_prefix(9);
        throw Error(e.code(), fmt::format("{}: {}", what, why), std::string(what));
    }
    if (!payload.is_object()) {
        throw Error(ErrorCode::invalid_argument,
                    fmt::format("{}: must be a JSON object (got {})", what, payload.type_name()),
                    std::string(what));
    }
    return payload;
}

void apply_job_options(JobSpec& spec, const ParsedArgs& args) {
    if (auto queue = args.value("--queue")) spec.queue(*queue);
    if (auto priority = args.value("--priority")) spec.priority(parse_int(*priority, "--priority"));
    if (auto n = args.value("--max-attempts")) spec.max_attempts(parse_int(*n, "--max-attempts"));
    if (auto key = args.value("--unique-key")) {
        if (key->empty()) bad_value("--unique-key", "must not be empty");
        spec.unique_key(*key);
    }
    if (auto tenant = args.value("--tenant")) {
        if (tenant->empty()) bad_value("--tenant", "must not be empty");
        spec.tenant(*tenant);
    }
    for (std::string& tag : args.values("--tag")) spec.tag(std::move(tag));
    if (auto timeout = args.value("--timeout")) spec.timeout(parse_duration(*timeout, "--timeout"));
}

void validate_in_option_terms(const JobSpec& spec) {
    in_option_terms(option_of_field, [&] { spec.validate(); });
}

}  // namespace jobq::cli
