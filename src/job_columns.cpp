#include "jobq/backend/job_columns.hpp"

#include <fmt/format.h>

#include "jobq/error.hpp"

namespace jobq::detail {

namespace {

// The common empty values are recognised without running the parser, which costs more than
// the rest of reading a row.
bool is_empty_array(std::string_view text) {
    return text == "[]";
}

}  // namespace

std::string dump_json(const nlohmann::json& j) {
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

nlohmann::json parse_json_column(JobId id, const char* column, std::string_view text) {
    nlohmann::json j = nlohmann::json::parse(text.begin(), text.end(), nullptr, false);
    if (j.is_discarded()) {
        throw Error(ErrorCode::storage,
                    fmt::format("job {}: the stored {} is not valid JSON", id, column));
    }
    return j;
}

nlohmann::json parse_payload(JobId id, std::string_view text) {
    return text == "{}" ? nlohmann::json::object() : parse_json_column(id, "payload", text);
}

std::vector<AttemptError> parse_errors(JobId id, std::string_view text) {
    std::vector<AttemptError> errors;
    if (is_empty_array(text)) return errors;
    const nlohmann::json j = parse_json_column(id, "errors", text);
    if (!j.is_array()) {
        throw Error(ErrorCode::storage,
                    fmt::format("job {}: the stored errors are not an array", id));
    }
    errors.reserve(j.size());
    for (const nlohmann::json& e : j) {
        if (!e.is_object()) continue;
        AttemptError& out = errors.emplace_back();
        out.attempt = e.value("attempt", 0);
        out.at = Timestamp{Duration{e.value("at", std::int64_t{0})}};
        out.kind = e.value("kind", std::string{});
        out.message = e.value("message", std::string{});
    }
    return errors;
}

std::vector<std::string> parse_tags(JobId id, std::string_view text) {
    std::vector<std::string> tags;
    if (is_empty_array(text)) return tags;
    const nlohmann::json j = parse_json_column(id, "tags", text);
    if (!j.is_array()) return tags;
    tags.reserve(j.size());
    for (const nlohmann::json& t : j) {
        if (t.is_string()) tags.push_back(t.get<std::string>());
    }
    return tags;
}

RetryPolicy parse_retry_policy(JobId id, std::string_view text) {
    try {
        return RetryPolicy::from_json(parse_json_column(id, "retry_policy", text));
    } catch (const Error& e) {
        if (e.code() == ErrorCode::storage) throw;
        throw Error(ErrorCode::storage,
                    fmt::format("job {}: the stored retry policy is invalid: {}", id, e.what()));
    }
}

JobState parse_state_column(JobId id, std::string_view text) {
    if (auto s = parse_job_state(text)) return *s;
    throw Error(ErrorCode::storage, fmt::format("job {}: unknown state '{}'", id, text));
}

std::string encode_error(const AttemptError& error) {
    return dump_json({{"attempt", error.attempt},
                      {"at", error.at.time_since_epoch().count()},
                      {"kind", error.kind},
                      {"message", error.message}});
}

std::string encode_strings(std::span<const std::string> values) {
    if (values.empty()) return "[]";
    nlohmann::json j = nlohmann::json::array();
    for (const std::string& v : values) j.push_back(v);
    return dump_json(j);
}

std::string encode_states(std::span<const JobState> states) {
    nlohmann::json j = nlohmann::json::array();
    for (JobState s : states) j.push_back(to_string(s));
    return dump_json(j);
}

std::string_view outcome_state(const Outcome& o) {
    switch (o.kind) {
        case OutcomeKind::complete:
            return "completed";
        case OutcomeKind::retry:
            return "retryable";
        case OutcomeKind::snooze:
            return o.run_at <= o.at ? "available" : "scheduled";
        case OutcomeKind::discard:
            return "discarded";
        case OutcomeKind::cancel:
            return "cancelled";
    }
    throw Error(ErrorCode::invalid_argument, "complete: unknown outcome kind", "kind");
}

bool outcome_is_terminal(OutcomeKind kind) {
    return kind == OutcomeKind::complete || kind == OutcomeKind::discard ||
           kind == OutcomeKind::cancel;
}

}  // namespace jobq::detail
