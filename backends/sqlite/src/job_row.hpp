#pragma once
// The jobs table row as C++ sees it: the column list every job query selects, the conversion
// of such a row into a Job, and the JSON text of the columns stored as JSON.

#include <string_view>

#include "connection.hpp"
#include "jobq/backend/job_columns.hpp"
#include "jobq/job.hpp"

namespace jobq::sqlite_detail {

using detail::encode_error;
using detail::encode_states;
using detail::encode_strings;

using detail::job_columns;

/// The job in the current row of a statement that selected (or returned) `job_columns` (see
/// jobq/backend/job_columns.hpp).
Job read_job(const Statement& row);

}  // namespace jobq::sqlite_detail
