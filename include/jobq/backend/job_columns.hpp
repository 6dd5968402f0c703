#pragma once
// For backend authors. The JSON-valued columns of a stored job as every backend writes and reads
// them: tags and errors as JSON arrays, payload, result and retry policy as JSON documents. Shared
// by the backends so a job reads back the same from SQLite and PostgreSQL. Not part of the API.

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "jobq/backend/store.hpp"
#include "jobq/clock.hpp"
#include "jobq/job.hpp"
#include "jobq/job_state.hpp"
#include "jobq/retry_policy.hpp"

namespace jobq::detail {

/// Every job column, in the order read_job_row() expects; both backends' tables have them.
inline constexpr std::string_view job_columns =
    "id, kind, queue, tenant, payload, priority, state, attempt, max_attempts, created_at, "
    "run_at, attempted_at, finished_at, lease_expires_at, worker_id, timeout_us, unique_key, "
    "tags, errors, result, retry_policy, workflow_id, step";

/// Positions in `job_columns`.
enum JobColumn : int {
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
    c_workflow_id,
    c_step,
    job_column_count,
};

/// Serialises JSON that may hold invalid UTF-8 (handler or operator text) with replacement
/// characters instead of failing.
std::string dump_json(const nlohmann::json& j);

/// Parses a stored JSON column of job `id`; Error(storage) naming the column when invalid.
nlohmann::json parse_json_column(JobId id, const char* column, std::string_view text);
/// The payload column ("{}" recognised without the parser).
nlohmann::json parse_payload(JobId id, std::string_view text);
/// The errors column: a JSON array of encode_error() entries.
std::vector<AttemptError> parse_errors(JobId id, std::string_view text);
/// The tags column: a JSON array of strings.
std::vector<std::string> parse_tags(JobId id, std::string_view text);
/// The retry_policy column; Error(storage) when it does not describe a policy.
RetryPolicy parse_retry_policy(JobId id, std::string_view text);
/// The state column; Error(storage) for an unknown name.
JobState parse_state_column(JobId id, std::string_view text);

/// One entry of the errors column: {"attempt":1,"at":<us>,"kind":"...","message":"..."}.
std::string encode_error(const AttemptError& error);
/// A JSON array of strings.
std::string encode_strings(std::span<const std::string> values);
/// A JSON array of state names.
std::string encode_states(std::span<const JobState> states);

/// The state an outcome moves its job to ("completed", "retryable", ...).
std::string_view outcome_state(const Outcome& outcome);
/// Whether an outcome ends the job (sets finished_at).
bool outcome_is_terminal(OutcomeKind kind);

/// The job in a row that holds `job_columns`. `Row` is a backend's row view with
/// is_null(i), int64(i), int32(i) and text(i) (a string_view, empty for NULL).
template <class Row>
Job read_job_row(const Row& row) {
    auto optional_time = [&row](int i) -> std::optional<Timestamp> {
        if (row.is_null(i)) return std::nullopt;
        return Timestamp{Duration{row.int64(i)}};
    };
    Job job;
    job.id = row.int64(c_id);
    job.kind = row.text(c_kind);
    job.queue = row.text(c_queue);
    job.tenant = row.text(c_tenant);
    job.payload = parse_payload(job.id, row.text(c_payload));
    job.priority = row.int32(c_priority);
    job.state = parse_state_column(job.id, row.text(c_state));
    job.attempt = row.int32(c_attempt);
    job.max_attempts = row.int32(c_max_attempts);
    job.created_at = Timestamp{Duration{row.int64(c_created_at)}};
    job.run_at = Timestamp{Duration{row.int64(c_run_at)}};
    job.attempted_at = optional_time(c_attempted_at);
    job.finished_at = optional_time(c_finished_at);
    job.lease_expires_at = optional_time(c_lease_expires_at);
    job.worker_id = row.text(c_worker_id);
    if (!row.is_null(c_timeout_us)) job.timeout = Duration{row.int64(c_timeout_us)};
    job.unique_key = row.text(c_unique_key);
    job.tags = parse_tags(job.id, row.text(c_tags));
    job.errors = parse_errors(job.id, row.text(c_errors));
    if (!row.is_null(c_result))
        job.result = parse_json_column(job.id, "result", row.text(c_result));
    if (!row.is_null(c_retry_policy)) {
        job.retry_policy = parse_retry_policy(job.id, row.text(c_retry_policy));
    }
    if (!row.is_null(c_workflow_id)) job.workflow_id = row.int64(c_workflow_id);
    job.step = row.text(c_step);
    return job;
}

}  // namespace jobq::detail
