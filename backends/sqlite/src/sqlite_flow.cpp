// Flow-control storage of the SqliteStore (sql/003_flow.sql): limit rows and queue pauses,
// worker records, and the facts explain and metrics read. Writes go through the serialised
// writer, each in one BEGIN IMMEDIATE transaction, so a row's running count is recounted and
// written while no claim or completion can change it; reads go through the reader. The claim
// that applies the rows is in flow_claim.cpp.
#include <algorithm>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include <sqlite3.h>

#include "connection.hpp"
#include "job_row.hpp"
#include "jobq/backend/limit_release.hpp"
#include "jobq/backend/token_bucket_refill.hpp"
#include "jobq/job_state.hpp"
#include "jobq/sqlite/sqlite_store.hpp"
#include "limit_row.hpp"
#include "store_impl.hpp"
#include "workflow_ops.hpp"

namespace jobq {

using sqlite_detail::Connection;
using sqlite_detail::Sql;
using sqlite_detail::Statement;
using sqlite_detail::Transaction;

namespace {

std::optional<LimitRecord> find_limit(Connection& conn, Sql sql, const LimitScope& scope,
                                      std::string_view op) {
    Statement s = conn.statement(sql, op);
    s.bind(1, to_string(scope.type));
    s.bind(2, std::string_view{scope.name});
    if (!s.step()) return std::nullopt;
    return sqlite_detail::read_limit(s);
}

void write_limit(Connection& w, const LimitRecord& record, std::string_view op) {
    Statement s = w.statement(Sql::limit_write, op);
    sqlite_detail::bind_limit(s, record);
    s.run();
}

void delete_limit(Connection& w, const LimitScope& scope, std::string_view op) {
    Statement s = w.statement(Sql::limit_delete, op);
    s.bind(1, to_string(scope.type));
    s.bind(2, std::string_view{scope.name});
    s.run();
}

// Jobs of the scope running now. Inside the writer's transaction nothing can start or stop
// one in between, so the count is exact when the row is written.
std::int64_t count_running(Connection& w, const LimitScope& scope, std::string_view op) {
    Statement s = w.statement(Sql::count_running, op);
    s.bind(1, to_string(scope.type));
    s.bind(2, std::string_view{scope.name});
    return s.step() ? s.int64(0) : 0;
}

bool is_due(const Job& job, Timestamp now) {
    return job.state == JobState::available ||
           ((job.state == JobState::scheduled || job.state == JobState::retryable) &&
            job.run_at <= now);
}

}  // namespace

// ---- limit rows ---------------------------------------------------------------------------

std::vector<LimitRecord> SqliteStore::limit_records() {
    std::vector<LimitRecord> rows = impl_->read([](Connection& r) {
        std::vector<LimitRecord> all;
        Statement s = r.statement(Sql::limit_list, "limit_records");
        while (s.step()) all.push_back(sqlite_detail::read_limit(s));
        return all;
    });
    // By scope type in declaration order (queue, kind, tenant), which text order is not.
    std::sort(rows.begin(), rows.end(),
              [](const LimitRecord& a, const LimitRecord& b) { return a.scope < b.scope; });
    return rows;
}

std::optional<LimitRecord> SqliteStore::limit_record(const LimitScope& scope) {
    return impl_->read(
        [&](Connection& r) { return find_limit(r, Sql::limit_get, scope, "limit_record"); });
}

namespace {

// Who may start a job once a scope's limits changed: a queue's own workers, or for a kind or
// a tenant every queue's.
void wake_for(Notifier& notifier, const LimitScope& scope) {
    notifier.notify(scope.type == ScopeType::queue ? std::string_view{scope.name}
                                                   : std::string_view{});
}

}  // namespace

LimitRecord SqliteStore::set_limits(const LimitScope& scope, const FlowLimits& limits,
                                    Timestamp now) {
    constexpr std::string_view op = "set_limits";
    const LimitRecord written = impl_->transact(op, [&](Connection& w) {
        const std::optional<LimitRecord> old = find_limit(w, Sql::limit_get_for_update, scope, op);
        LimitRecord row;
        row.scope = scope;
        row.limits = limits;
        row.paused = old && old->paused;
        row.running = count_running(w, scope, op);
        if (old) row.bucket = old->bucket;  // no rate now: left as it is
        if (limits.rate) {
            row.bucket = old && old->limits.rate
                             ? rebucket(old->bucket, *old->limits.rate, *limits.rate, now)
                             : full_bucket(*limits.rate, now);
        }
        row.updated_at = now;
        write_limit(w, row, op);
        return row;
    });
    wake_for(*impl_->notifier, scope);
    return written;
}

bool SqliteStore::remove_limits(const LimitScope& scope, Timestamp now) {
    constexpr std::string_view op = "remove_limits";
    const bool removed = impl_->transact(op, [&](Connection& w) {
        const std::optional<LimitRecord> old = find_limit(w, Sql::limit_get_for_update, scope, op);
        if (!old) return false;
        if (old->paused) {
            // The row keeps the pause; only its limits go.
            if (!sqlite_detail::has_limits(old->limits)) return false;
            LimitRecord kept = *old;
            kept.limits = FlowLimits{};
            kept.updated_at = now;
            write_limit(w, kept, op);
        } else {
            delete_limit(w, scope, op);
        }
        return true;
    });
    if (removed) wake_for(*impl_->notifier, scope);
    return removed;
}

bool SqliteStore::set_queue_paused(std::string_view queue, bool paused, Timestamp now) {
    constexpr std::string_view op = "set_queue_paused";
    const LimitScope scope = LimitScope::queue(std::string(queue));
    const bool changed = impl_->transact(op, [&](Connection& w) {
        std::optional<LimitRecord> row = find_limit(w, Sql::limit_get_for_update, scope, op);
        if ((row && row->paused) == paused) return false;
        if (!row) {
            row.emplace();
            row->scope = scope;
            row->running = count_running(w, scope, op);
        }
        if (!paused && !sqlite_detail::has_limits(row->limits)) {
            // It existed only to hold the pause.
            delete_limit(w, scope, op);
        } else {
            row->paused = paused;
            row->updated_at = now;
            write_limit(w, *row, op);
        }
        return true;
    });
    if (changed && !paused) impl_->notifier->notify(queue);
    return changed;
}

// ---- workers ------------------------------------------------------------------------------

void SqliteStore::record_worker(const WorkerRecord& worker) {
    constexpr std::string_view op = "record_worker";
    impl_->transact(op, [&](Connection& w) {
        std::string queues;
        Statement s = w.statement(Sql::worker_upsert, op);
        sqlite_detail::bind_worker(s, worker, queues);
        s.run();
    });
}

void SqliteStore::remove_worker(std::string_view id) {
    constexpr std::string_view op = "remove_worker";
    impl_->transact(op, [&](Connection& w) {
        Statement s = w.statement(Sql::worker_delete, op);
        s.bind(1, id);
        s.run();
    });
}

std::vector<WorkerRecord> SqliteStore::workers(Timestamp now) {
    constexpr std::string_view op = "workers";
    const auto list_live = [&](Connection& c) {
        std::vector<WorkerRecord> live;
        Statement s = c.statement(Sql::worker_list_live, op);
        s.bind(1, now);
        while (s.step()) live.push_back(sqlite_detail::read_worker(s));
        return live;
    };
    // Read-only: expired records stay for a writer to remove; the list leaves them out anyway.
    if (impl_->writer.read_only()) return impl_->read(list_live);
    return impl_->transact(op, [&](Connection& w) {
        {
            Statement expire = w.statement(Sql::worker_expire, op);
            expire.bind(1, now);
            expire.run();
        }
        return list_live(w);
    });
}

// ---- explain ------------------------------------------------------------------------------

std::optional<WaitFacts> SqliteStore::wait_facts(JobId id, Timestamp now) {
    constexpr std::string_view op = "wait_facts";
    return impl_->read_snapshot(op, [&](Connection& r) -> std::optional<WaitFacts> {
        WaitFacts facts;
        {
            Statement s = r.statement(Sql::get, op);
            s.bind(1, id);
            if (!s.step()) return std::nullopt;
            facts.job = sqlite_detail::read_job(s);
        }
        if (facts.job.workflow_id != 0) {
            std::vector<Job> one{std::move(facts.job)};
            sqlite_detail::fill_upstream(sqlite_detail::Db{r.handle(), &r}, one);
            facts.job = std::move(one.front());
        }
        const Job& job = facts.job;
        for (const LimitScope& scope : held_scopes(job.queue, job.kind, job.tenant)) {
            if (std::optional<LimitRecord> row = find_limit(r, Sql::limit_get, scope, op)) {
                facts.limits.push_back(std::move(*row));
            }
        }
        // Counted among available and due jobs alike: a claim promotes the due ones first.
        if (is_due(job, now)) {
            Statement s = r.statement(Sql::wait_ahead, op);
            s.bind(1, std::string_view{job.queue});
            s.bind(2, job.priority);
            s.bind(3, job.run_at);
            s.bind(4, job.id);
            s.bind(5, now);
            if (s.step()) facts.ahead = s.int64(0);
        }
        {
            Statement s = r.statement(Sql::wait_workers, op);
            s.bind(1, now);
            s.bind(2, std::string_view{job.queue});
            while (s.step()) facts.workers.push_back(sqlite_detail::read_worker(s));
        }
        return facts;
    });
}

std::vector<WaitGroup> SqliteStore::wait_groups(Timestamp now) {
    std::vector<WaitGroup> groups;
    impl_->read([&](Connection& r) {
        Statement s = r.statement(Sql::wait_groups, "wait_groups");
        s.bind(1, now);
        while (s.step()) {
            const std::optional<JobState> state = parse_job_state(s.text(3));
            if (!state) continue;  // the state check keeps unknown states out
            WaitGroup g;
            g.queue = s.text(0);
            g.kind = s.text(1);
            g.tenant = s.text(2);
            g.state = *state;
            g.count = s.int64(4);
            groups.push_back(std::move(g));
        }
    });
    std::sort(groups.begin(), groups.end(), [](const WaitGroup& a, const WaitGroup& b) {
        return std::tie(a.queue, a.kind, a.tenant, a.state) <
               std::tie(b.queue, b.kind, b.tenant, b.state);
    });
    return groups;
}

}  // namespace jobq
