#include "job_insert.hpp"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>

#include "job_row.hpp"
#include "jobq/backend/tenant_quota.hpp"

namespace jobq::sqlite_detail {

namespace {

// Returns the id of a job that blocks `job` as a duplicate, or 0.
JobId find_duplicate(Statement& find, const NewJob& job) {
    const std::string states = encode_states(job.unique_states);
    find.bind(1, std::string_view{job.unique_key});
    find.bind(2, job.unique_since ? job.unique_since->time_since_epoch().count()
                                  : std::numeric_limits<std::int64_t>::min());
    find.bind(3, std::string_view{states});
    const JobId id = find.step() ? find.int64(0) : 0;
    find.reset();
    return id;
}

Statement statement_on(sqlite3* db, Connection* cached, Sql id, std::string_view op) {
    if (cached != nullptr) return cached->statement(id, op);
    return prepare_once(db, sql_text(id), op);
}

// Records `tenant`'s quota in `quotas` as the store holds it.
void read_quota(sqlite3* db, Connection* cached, const std::string& tenant, std::string_view op,
                TenantQuotas& quotas) {
    std::optional<std::int64_t> max_queued;
    std::int64_t queued = 0;
    {
        Statement s = statement_on(db, cached, Sql::tenant_max_queued, op);
        s.bind(1, std::string_view{tenant});
        if (s.step()) max_queued = s.int64(0);
    }
    if (max_queued) {
        Statement s = statement_on(db, cached, Sql::tenant_queued, op);
        s.bind(1, std::string_view{tenant});
        if (s.step()) queued = s.int64(0);
    }
    quotas.add(tenant, max_queued, queued);
}

}  // namespace

std::vector<InsertResult> insert_jobs(sqlite3* db, Connection* cached, Statement& find_unique,
                                      Statement& insert, std::span<const NewJob> jobs,
                                      std::vector<std::string_view>& queues, bool quotas) {
    std::vector<InsertResult> results;
    results.reserve(jobs.size());
    TenantQuotas used;  // only tenants of this batch
    for (const NewJob& job : jobs) {
        if (!job.unique_key.empty()) {
            if (const JobId existing = find_duplicate(find_unique, job); existing != 0) {
                results.push_back({existing, true});
                continue;
            }
        }
        if (quotas && !job.tenant.empty()) {
            if (!used.knows(job.tenant)) read_quota(db, cached, job.tenant, insert.op(), used);
            used.admit(job.tenant);  // throws QuotaExceeded before this job is written
        }
        const std::string tags = encode_strings(job.tags);
        insert.bind(1, std::string_view{job.kind});
        insert.bind(2, std::string_view{job.queue});
        insert.bind_text_or_null(3, job.tenant);
        insert.bind(4, std::string_view{job.payload});
        insert.bind(5, job.priority);
        insert.bind(6, to_string(job.state));
        insert.bind(7, job.max_attempts);
        insert.bind(8, job.created_at);
        insert.bind(9, job.run_at);
        if (job.timeout) {
            insert.bind(10, job.timeout->count());
        } else {
            insert.bind_null(10);
        }
        insert.bind_text_or_null(11, job.unique_key);
        insert.bind(12, std::string_view{tags});
        insert.bind_text_or_null(13, job.retry_policy);
        if (job.workflow_id != 0) {
            insert.bind(14, job.workflow_id);
        } else {
            insert.bind_null(14);
        }
        insert.bind_text_or_null(15, job.step);
        insert.bind(16, job.open_deps);
        insert.run();
        insert.reset();
        results.push_back({sqlite3_last_insert_rowid(db), false});
        if (std::find(queues.begin(), queues.end(), job.queue) == queues.end()) {
            queues.push_back(job.queue);
        }
    }
    return results;
}

}  // namespace jobq::sqlite_detail
