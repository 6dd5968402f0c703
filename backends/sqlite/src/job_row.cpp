#include "job_row.hpp"

#include <fmt/format.h>

#include "jobq/error.hpp"

namespace jobq::sqlite_detail {

namespace {

// Positions in `job_columns`.
enum Column : int {
    c_id,
    c_kind,
    c_queue,
    c_tenant,
    c_payload,
    c_priority,
    c_state,
    c_attempt,
    c_max_attempts,
    c_created_at,
    c_run_at,
    c_attempted_at,
    c_finished_at,
    c_lease_expires_at,
    c_worker_id,
    c_timeout_us,
    c_unique_key,
    c_tags,
    c_errors,
    c_result,
    c_retry_policy,
};

// Text that other code (handlers, operators) put into a job may hold invalid UTF-8, which a
// strict dump would refuse; storing it with replacement characters is better than failing.
std::string dump(const nlohmann::json& j) {
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

nlohmann::json parse_column(JobId id, const char* column, std::string_view text) {
    nlohmann::json j = nlohmann::json::parse(text.begin(), text.end(), nullptr, false);
    if (j.is_discarded()) {
        throw Error(ErrorCode::storage,
                    fmt::format("job {}: the stored {} is not valid JSON", id, column));
    }
    return j;
}

// The common empty values are recognised without running the parser, which costs more than
// the rest of reading a row.
bool is_empty_array(std::string_view text) {
    return text == "[]";
}

std::vector<AttemptError> parse_errors(JobId id, std::string_view text) {
    std::vector<AttemptError> errors;
    if (is_empty_array(text)) return errors;
    const nlohmann::json j = parse_column(id, "errors", text);
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
    const nlohmann::json j = parse_column(id, "tags", text);
    if (!j.is_array()) return tags;
    tags.reserve(j.size());
    for (const nlohmann::json& t : j) {
        if (t.is_string()) tags.push_back(t.get<std::string>());
    }
    return tags;
}

JobState parse_state(JobId id, std::string_view text) {
    if (auto s = parse_job_state(text)) return *s;
    throw Error(ErrorCode::storage, fmt::format("job {}: unknown state '{}'", id, text));
}

}  // namespace

Job read_job(const Statement& row) {
    Job job;
    job.id = row.int64(c_id);
    job.kind = row.text(c_kind);
    job.queue = row.text(c_queue);
    job.tenant = row.text(c_tenant);
    const std::string_view payload = row.text(c_payload);
    job.payload =
        payload == "{}" ? nlohmann::json::object() : parse_column(job.id, "payload", payload);
    job.priority = row.int32(c_priority);
    job.state = parse_state(job.id, row.text(c_state));
    job.attempt = row.int32(c_attempt);
    job.max_attempts = row.int32(c_max_attempts);
    job.created_at = row.timestamp(c_created_at);
    job.run_at = row.timestamp(c_run_at);
    job.attempted_at = row.optional_timestamp(c_attempted_at);
    job.finished_at = row.optional_timestamp(c_finished_at);
    job.lease_expires_at = row.optional_timestamp(c_lease_expires_at);
    job.worker_id = row.text(c_worker_id);
    if (!row.is_null(c_timeout_us)) job.timeout = Duration{row.int64(c_timeout_us)};
    job.unique_key = row.text(c_unique_key);
    job.tags = parse_tags(job.id, row.text(c_tags));
    job.errors = parse_errors(job.id, row.text(c_errors));
    if (!row.is_null(c_result)) job.result = parse_column(job.id, "result", row.text(c_result));
    if (!row.is_null(c_retry_policy)) {
        try {
            job.retry_policy = RetryPolicy::from_json(
                parse_column(job.id, "retry_policy", row.text(c_retry_policy)));
        } catch (const Error& e) {
            if (e.code() == ErrorCode::storage) throw;
            throw Error(
                ErrorCode::storage,
                fmt::format("job {}: the stored retry policy is invalid: {}", job.id, e.what()));
        }
    }
    return job;
}

std::string encode_error(const AttemptError& error) {
    return dump({{"attempt", error.attempt},
                 {"at", error.at.time_since_epoch().count()},
                 {"kind", error.kind},
                 {"message", error.message}});
}

std::string encode_strings(std::span<const std::string> values) {
    if (values.empty()) return "[]";
    nlohmann::json j = nlohmann::json::array();
    for (const std::string& v : values) j.push_back(v);
    return dump(j);
}

std::string encode_states(std::span<const JobState> states) {
    nlohmann::json j = nlohmann::json::array();
    for (JobState s : states) j.push_back(to_string(s));
    return dump(j);
}

}  // namespace jobq::sqlite_detail
