// Flow control of the PostgresStore: the limit rows (limits, pauses, running counts, token
// buckets), worker records, and the facts explain needs. The claim that obeys the rows is in
// postgres_claim.cpp.
//
// Running counts stay exact because every transaction that moves jobs into or out of
// `running` changes the rows in the same transaction, after its job rows; and a row is
// created (its running jobs counted) under the limits table's EXCLUSIVE lock, which waits for
// every such transaction in flight (they hold ROW EXCLUSIVE on it, taken before their
// snapshot) and holds back new ones until it commits: a claim, completion or cancel either is
// counted or sees the row.
#include <algorithm>
#include <optional>

#include <fmt/format.h>

#include "jobq/backend/token_bucket_refill.hpp"
#include "jobq/error.hpp"
#include "jobq/postgres/postgres_store.hpp"
#include "limit_row.hpp"
#include "store_impl.hpp"
#include "workflow_ops.hpp"

namespace jobq {

using postgres_detail::micros;
using postgres_detail::read_limit;
using postgres_detail::RowView;
using postgres_detail::scope_text;
using postgres_detail::Sql;

namespace {

void require_name(const LimitScope& scope) {
    if (scope.name.empty()) {
        throw Error(ErrorCode::invalid_argument, "scope: the name must not be empty", "scope");
    }
}

void require_queue_name(std::string_view queue) {
    if (queue.empty()) {
        throw Error(ErrorCode::invalid_argument, "queue: the name must not be empty", "queue");
    }
}

std::vector<LimitRecord> sorted(std::vector<LimitRecord> records) {
    std::sort(records.begin(), records.end(),
              [](const LimitRecord& a, const LimitRecord& b) { return a.scope < b.scope; });
    return records;
}

std::vector<LimitRecord> read_limits(const pqxx::result& r) {
    std::vector<LimitRecord> records;
    records.reserve(r.size());
    for (const pqxx::row& row : r) records.push_back(read_limit(row));
    return sorted(std::move(records));
}

}  // namespace

// ---- limit rows ---------------------------------------------------------------------------

std::vector<LimitRecord> PostgresStore::limit_records() {
    return read_limits(impl_->exec("limit_records", Sql::limit_list));
}

std::optional<LimitRecord> PostgresStore::limit_record(const LimitScope& scope) {
    require_name(scope);
    const pqxx::result r = impl_->exec("limit_record", Sql::limit_get,
                                       std::string(scope_text(scope.type)), scope.name);
    if (r.empty()) return std::nullopt;
    return read_limit(r[0]);
}

LimitRecord PostgresStore::set_limits(const LimitScope& scope, const FlowLimits& limits,
                                      Timestamp now) {
    require_name(scope);
    const std::string type{scope_text(scope.type)};
    LimitRecord written = impl_->transact("set_limits", [&](pqxx::work& tx, auto& exec) {
        tx.exec0(impl_->sql.lock_limits());
        const pqxx::row old = exec(Sql::limit_prepare, type, scope.name)[0];
        const std::int64_t running = RowView(old).int64(0);
        std::optional<LimitRecord> before;
        if (!old[1].is_null()) before = read_limit(old, 1);

        TokenBucket bucket = before ? before->bucket : TokenBucket{};
        const std::optional<RateLimit> old_rate = before ? before->limits.rate : std::nullopt;
        if (limits.rate) {
            bucket = old_rate ? rebucket(bucket, *old_rate, *limits.rate, now)
                              : full_bucket(*limits.rate, now);
        }
        auto opt = [](const auto& o) {
            return o ? std::optional<std::int64_t>(*o) : std::optional<std::int64_t>();
        };
        const pqxx::result r = exec(
            Sql::limit_upsert, type, scope.name, opt(limits.max_running),
            limits.rate ? std::optional<std::int64_t>(limits.rate->limit) : std::nullopt,
            limits.rate ? std::optional<std::int64_t>(limits.rate->period.count()) : std::nullopt,
            limits.rate ? std::optional<std::int64_t>(limits.rate->burst) : std::nullopt,
            opt(limits.max_queued), static_cast<std::int64_t>(limits.weight), false, running,
            bucket.tokens, micros(bucket.at), micros(now));
        tx.commit();
        return read_limit(r[0]);
    });
    // A raised limit may let jobs start: a queue's workers, or every queue's.
    impl_->notifier->notify(scope.type == ScopeType::queue ? std::string_view(scope.name)
                                                           : std::string_view());
    return written;
}

bool PostgresStore::remove_limits(const LimitScope& scope, Timestamp now) {
    require_name(scope);
    const pqxx::result r =
        impl_->exec("remove_limits", Sql::limit_remove, std::string(scope_text(scope.type)),
                    scope.name, micros(now));
    const bool removed = RowView(r[0]).int64(0) > 0;
    if (removed) {
        impl_->notifier->notify(scope.type == ScopeType::queue ? std::string_view(scope.name)
                                                               : std::string_view());
    }
    return removed;
}

bool PostgresStore::set_queue_paused(std::string_view queue, bool paused, Timestamp now) {
    require_queue_name(queue);
    const std::string name{queue};
    if (paused) {
        // A new row counts the queue's running jobs: under the EXCLUSIVE lock, as set_limits.
        return impl_->transact("set_queue_paused", [&](pqxx::work& tx, auto& exec) {
            tx.exec0(impl_->sql.lock_limits());
            const bool changed = !exec(Sql::queue_pause, name, micros(now)).empty();
            tx.commit();
            return changed;
        });
    }
    const pqxx::result r = impl_->exec("set_queue_paused", Sql::queue_resume, name, micros(now));
    const bool changed = RowView(r[0]).int64(0) > 0;
    if (changed) impl_->notifier->notify(queue);
    return changed;
}

// ---- workers ------------------------------------------------------------------------------

void PostgresStore::record_worker(const WorkerRecord& worker) {
    if (worker.id.empty()) {
        throw Error(ErrorCode::invalid_argument, "id: a worker id must not be empty", "id");
    }
    impl_->exec("record_worker", Sql::worker_upsert, worker.id,
                postgres_detail::text_array(worker.queues), micros(worker.started_at),
                micros(worker.seen_at), micros(worker.expires_at));
}

void PostgresStore::remove_worker(std::string_view id) {
    impl_->exec("remove_worker", Sql::worker_remove, std::string(id));
}

std::vector<WorkerRecord> PostgresStore::workers(Timestamp now) {
    const pqxx::result r = impl_->exec("workers", Sql::worker_list, micros(now));
    std::vector<WorkerRecord> live;
    live.reserve(r.size());
    for (const pqxx::row& row : r) live.push_back(postgres_detail::read_worker(row));
    return live;
}

// ---- explain ------------------------------------------------------------------------------

std::optional<WaitFacts> PostgresStore::wait_facts(JobId id, Timestamp now) {
    std::optional<Job> job = get(id);
    if (!job) return std::nullopt;
    WaitFacts facts;
    facts.limits = read_limits(impl_->exec("wait_facts", Sql::wait_limits, job->queue, job->kind,
                                           postgres_detail::text_or_null(job->tenant)));
    // Jobs ahead: available ones and due scheduled or retryable ones, which the next claim
    // takes as available.
    const bool due = (job->state == JobState::scheduled || job->state == JobState::retryable) &&
                     job->run_at <= now;
    if (job->state == JobState::available || due) {
        const pqxx::result r = impl_->exec("wait_facts", Sql::wait_ahead, job->queue,
                                           static_cast<std::int64_t>(job->priority),
                                           micros(job->run_at), job->id, micros(now));
        facts.ahead = RowView(r[0]).int64(0);
    }
    for (const pqxx::row& row :
         impl_->exec("wait_facts", Sql::wait_workers, job->queue, micros(now))) {
        facts.workers.push_back(postgres_detail::read_worker(row));
    }
    facts.job = std::move(*job);
    if (facts.job.workflow_id != 0) {
        std::vector<Job> one{std::move(facts.job)};
        postgres_detail::apply_upstream(
            impl_->exec("wait_facts", Sql::wf_upstream, postgres_detail::upstream_ids(one)), one);
        facts.job = std::move(one.front());
    }
    return facts;
}

std::vector<WaitGroup> PostgresStore::wait_groups(Timestamp now) {
    const pqxx::result r = impl_->exec("wait_groups", Sql::wait_groups, micros(now));
    std::vector<WaitGroup> groups;
    groups.reserve(r.size());
    for (const pqxx::row& row : r) {
        const RowView v(row);
        WaitGroup g;
        g.queue = v.text(0);
        g.kind = v.text(1);
        g.tenant = v.text(2);
        const std::optional<JobState> state = parse_job_state(v.text(3));
        if (!state) {
            throw Error(ErrorCode::storage,
                        fmt::format("jobs.state: '{}' is not a state", v.text(3)));
        }
        g.state = *state;
        g.count = v.int64(4);
        groups.push_back(std::move(g));
    }
    return groups;
}

}  // namespace jobq
