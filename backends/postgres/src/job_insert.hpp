#pragma once
// The one way this backend inserts jobs: insert(), enqueue_in() and fire_schedule() all go
// through insert_jobs(), so unique keys and wake-ups behave the same whoever enqueues; and the
// tenant quotas that insert() and enqueue_in() check (TenantQuotas).

#include <algorithm>
#include <cstdint>
#include <functional>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <pqxx/result>

#include "job_row.hpp"
#include "jobq/backend/job_columns.hpp"
#include "jobq/backend/new_job.hpp"
#include "jobq/backend/tenant_quota.hpp"
#include "jobq/clock.hpp"
#include "pg_array.hpp"
#include "statements.hpp"

namespace jobq::postgres_detail {

inline std::int64_t micros(Timestamp t) {
    return t.time_since_epoch().count();
}

inline Timestamp from_micros(std::int64_t us) {
    return Timestamp{Duration{us}};
}

// NULL for an empty string: how jobq's optional text fields and "any" filters are sent.
inline const char* text_or_null(const std::string& s) {
    return s.empty() ? nullptr : s.c_str();
}

// The arrays of one multi-row insert (see Sql::insert_jobs), one element per job.
class InsertBatch {
  public:
    void add(const NewJob& job) {
        kind_.add(job.kind);
        queue_.add(job.queue);
        tenant_.add_text_or_null(job.tenant);
        payload_.add(job.payload);
        priority_.add(job.priority);
        state_.add(to_string(job.state));
        max_attempts_.add(job.max_attempts);
        created_at_.add(micros(job.created_at));
        run_at_.add(micros(job.run_at));
        if (job.timeout) {
            timeout_.add(job.timeout->count());
        } else {
            timeout_.add_null();
        }
        unique_key_.add_text_or_null(job.unique_key);
        tags_.add(detail::encode_strings(job.tags));
        retry_policy_.add_text_or_null(job.retry_policy);
        if (job.workflow_id != 0) {
            workflow_id_.add(job.workflow_id);
            step_.add(job.step);
            open_deps_.add(job.open_deps);
            of_workflow_ = true;
        } else {
            workflow_id_.add_null();
            step_.add_null();
            open_deps_.add(0);
        }
        ++size_;
    }
    std::size_t size() const { return size_; }

    // Runs the insert through `exec(Sql, args...)`; the new ids in the order jobs were added.
    // `quota_guard`: see Sql::insert_jobs ($15).
    template <class Exec>
    std::vector<JobId> run(Exec&& exec, const char* channel, const char* quota_guard) && {
        const std::string workflow_ids =
            of_workflow_ ? std::move(workflow_id_).finish() : std::string();
        const std::string steps = of_workflow_ ? std::move(step_).finish() : std::string();
        const std::string open = of_workflow_ ? std::move(open_deps_).finish() : std::string();
        const pqxx::result r =
            exec(Sql::insert_jobs, std::move(kind_).finish(), std::move(queue_).finish(),
                 std::move(tenant_).finish(), std::move(payload_).finish(),
                 std::move(priority_).finish(), std::move(state_).finish(),
                 std::move(max_attempts_).finish(), std::move(created_at_).finish(),
                 std::move(run_at_).finish(), std::move(timeout_).finish(),
                 std::move(unique_key_).finish(), std::move(tags_).finish(),
                 std::move(retry_policy_).finish(), channel, quota_guard,
                 text_or_null(workflow_ids), text_or_null(steps), text_or_null(open));
        std::vector<JobId> ids;
        ids.reserve(r.size());
        for (const pqxx::row& row : r) ids.push_back(RowView(row).int64(0));
        // Identities are drawn in the order the rows are inserted, which is the order of the
        // arrays; RETURNING promises no order, ascending ids restore it.
        std::sort(ids.begin(), ids.end());
        return ids;
    }

  private:
    ArrayWriter kind_, queue_, tenant_, payload_, priority_, state_, max_attempts_, created_at_,
        run_at_, timeout_, unique_key_, tags_, retry_policy_, workflow_id_, step_, open_deps_;
    std::size_t size_ = 0;
    bool of_workflow_ = false;  // plain batches send NULL for the workflow arrays
};

// The distinct tenants of `jobs` as an array literal; empty when no job has a tenant.
template <class Jobs>
std::string tenants_of(const Jobs& jobs) {
    std::vector<std::string_view> tenants;
    for (const NewJob& job : jobs) {
        if (!job.tenant.empty() &&
            std::find(tenants.begin(), tenants.end(), job.tenant) == tenants.end()) {
            tenants.push_back(job.tenant);
        }
    }
    return tenants.empty() ? std::string() : text_array(tenants);
}

// Reads the quotas of `tenants` (an array literal) through `exec`, inside the inserting
// transaction: takes each quota'd tenant's advisory lock (Sql::quota_lock), then counts its
// queued jobs in a statement of its own, whose snapshot includes every insert committed by
// whoever held the lock before.
template <class Exec>
TenantQuotas load_quotas(Exec&& exec, const std::string& tenants, const std::string& schema) {
    TenantQuotas check;
    const pqxx::result limited = exec(Sql::quota_lock, tenants, schema);
    if (limited.empty()) return check;
    std::unordered_map<std::string, std::int64_t> limits;
    std::vector<std::string> names;
    for (const pqxx::row& row : limited) {
        const RowView v(row);
        names.emplace_back(v.text(0));
        limits[names.back()] = v.int64(1);
    }
    for (const pqxx::row& row : exec(Sql::quota_count, text_array(names))) {
        const RowView v(row);
        const std::string name{v.text(0)};
        check.add(name, limits[name], v.int64(1));
    }
    return check;
}

// Inserts `jobs` (any range of const NewJob&) through `exec`, in order. Jobs without a unique
// key go in multi-row statements; each unique job is looked up and inserted under its advisory
// lock, which needs `exec` to run inside a transaction when any job is unique. `quota`, when
// given, admits every new job before it is written (and throws QuotaExceeded); `quota_guard`
// (Sql::insert_jobs $15) makes the statements insert nothing when a tenant has a quota.
template <class Exec, class Jobs>
std::vector<InsertResult> insert_jobs(Exec&& exec, const Jobs& jobs, const std::string& schema,
                                      const char* channel, const char* quota_guard = nullptr,
                                      TenantQuotas* quota = nullptr) {
    std::vector<InsertResult> results;
    results.reserve(std::size(jobs));
    InsertBatch batch;
    auto flush = [&] {
        if (batch.size() == 0) return;
        for (const JobId id : std::move(batch).run(exec, channel, quota_guard)) {
            results.push_back({id, false});
        }
        batch = InsertBatch{};
    };
    for (const NewJob& job : jobs) {
        if (job.unique_key.empty()) {
            if (quota != nullptr) quota->admit(job.tenant);
            batch.add(job);
            continue;
        }
        flush();
        exec(Sql::unique_lock, schema, job.unique_key);
        const std::int64_t since =
            job.unique_since ? micros(*job.unique_since) : std::numeric_limits<std::int64_t>::min();
        ArrayWriter states;
        for (const JobState s : job.unique_states) states.add(to_string(s));
        const pqxx::result found =
            exec(Sql::find_unique, job.unique_key, since, std::move(states).finish());
        if (!found.empty()) {
            results.push_back({RowView(found[0]).int64(0), true});
            continue;
        }
        if (quota != nullptr) quota->admit(job.tenant);
        batch.add(job);
        flush();
    }
    flush();
    return results;
}

template <class Jobs>
bool any_unique(const Jobs& jobs) {
    return std::any_of(std::begin(jobs), std::end(jobs),
                       [](const NewJob& j) { return !j.unique_key.empty(); });
}

// The queues to wake once inserted jobs are committed: those of jobs that are new and
// runnable now, each once. `results[i]` belongs to the i-th job of `jobs`.
template <class Jobs>
std::vector<std::string_view> queues_to_wake(const Jobs& jobs,
                                             std::span<const InsertResult> results) {
    std::vector<std::string_view> woken;
    std::size_t i = 0;
    for (const NewJob& job : jobs) {
        const InsertResult& r = results[i++];
        if (r.duplicate || job.state != JobState::available) continue;
        if (std::find(woken.begin(), woken.end(), job.queue) == woken.end()) {
            woken.push_back(job.queue);
        }
    }
    return woken;
}

}  // namespace jobq::postgres_detail
