#pragma once
// The jobs table row as C++ sees it: the column list every job query selects, the conversion
// of such a row into a Job, and the JSON text of the columns stored as JSON.

#include <span>
#include <string>
#include <string_view>

#include "connection.hpp"
#include "jobq/job.hpp"

namespace jobq::sqlite_detail {

/// Every job column, in the order read_job() expects.
inline constexpr std::string_view job_columns =
    "id, kind, queue, tenant, payload, priority, state, attempt, max_attempts, created_at, "
    "run_at, attempted_at, finished_at, lease_expires_at, worker_id, timeout_us, unique_key, "
    "tags, errors, result, retry_policy";

/// The job in the current row of a statement that selected (or returned) `job_columns`.
Job read_job(const Statement& row);

/// One entry of the errors column: {"attempt":1,"at":<us>,"kind":"...","message":"..."}.
std::string encode_error(const AttemptError& error);

/// A JSON array of strings (tags, and the queue lists bound as parameters).
std::string encode_strings(std::span<const std::string> values);

/// A JSON array of state names, bound where a query takes a set of states.
std::string encode_states(std::span<const JobState> states);

}  // namespace jobq::sqlite_detail
