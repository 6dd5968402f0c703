#pragma once
// The insert of a batch of jobs with unique-key coalescing, shared by SqliteStore::insert (on
// the store's writer, cached statements) and enqueue_in (on the caller's connection).

#include <span>
#include <string_view>
#include <vector>

#include "connection.hpp"
#include "jobq/backend/new_job.hpp"
#include "jobq/backend/store.hpp"

namespace jobq::sqlite_detail {

/// Inserts `jobs` in order with the given find_unique and insert_job statements; the caller
/// owns the transaction. A job whose unique key matches an existing job (including one
/// inserted earlier in the batch) is not inserted and reports that job's id as a duplicate.
/// With `quotas`, a new job of a tenant with a quota (max_queued) that its queued jobs, with
/// the batch's earlier ones, already fill throws QuotaExceeded; the caller rolls back. The
/// quota statements come from `cached` when given (the store's writer), else are prepared on
/// `db` for the call.
/// Appends the queues that received a job to `queues`, each once.
std::vector<InsertResult> insert_jobs(sqlite3* db, Connection* cached, Statement& find_unique,
                                      Statement& insert, std::span<const NewJob> jobs,
                                      std::vector<std::string_view>& queues, bool quotas = true);

}  // namespace jobq::sqlite_detail
