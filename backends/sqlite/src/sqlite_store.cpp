#include "jobq/sqlite/sqlite_store.hpp"

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <limits>
#include <tuple>

#include <fmt/format.h>
#include <sqlite3.h>

#include "connection.hpp"
#include "job_insert.hpp"
#include "job_row.hpp"
#include "jobq/detail/job_columns.hpp"
#include "jobq/error.hpp"
#include "jobq/notifier.hpp"
#include "notifier_registry.hpp"
#include "schema.hpp"
#include "store_impl.hpp"

namespace jobq {

using sqlite_detail::Connection;
using sqlite_detail::Sql;
using sqlite_detail::Statement;
using sqlite_detail::Transaction;

using detail::outcome_is_terminal;
using detail::outcome_state;

namespace {

// The name SQLite resolved for the main database of `db`; empty for in-memory and temporary
// databases, which no other connection can reach.
std::string database_file(sqlite3* db) {
    const char* name = sqlite3_db_filename(db, "main");
    return name != nullptr ? std::string(name) : std::string();
}

// Whether two connections' main databases are one file; an in-memory database is never
// shared, so it matches nothing.
bool same_file(const std::string& a, const std::string& b) {
    if (a.empty() || b.empty()) return false;
    if (a == b) return true;
    std::error_code ec;
    return std::filesystem::equivalent(a, b, ec);
}

void add_queue(std::vector<std::string>& queues, std::string_view queue) {
    if (std::find(queues.begin(), queues.end(), queue) == queues.end()) queues.emplace_back(queue);
}

// Binds a filter string, NULL when empty (empty filters match everything).
void bind_filter(Statement& s, int index, const std::string& value) {
    s.bind_text_or_null(index, value);
}

// Runs a statement that returns at most one job and steps it to the end, so that a
// RETURNING statement has finished its work before it is reset.
std::optional<Job> one_job(Statement& s) {
    std::optional<Job> job;
    if (s.step()) job = sqlite_detail::read_job(s);
    s.run();
    return job;
}

}  // namespace

SqliteStore::Impl::Impl(std::string p, SqliteOptions o)
    : path(std::move(p)), options(o), writer(path, options, false) {
    file = database_file(writer.handle());
    if (file.empty()) {
        // A second connection to ":memory:" would open a second, empty database.
        reader = &writer;
        notifier = std::make_shared<LocalNotifier>();
    } else {
        own_reader = std::make_unique<Connection>(path, options, true);
        reader = own_reader.get();
        std::error_code ec;
        const std::filesystem::path canonical = std::filesystem::weakly_canonical(file, ec);
        notifier = sqlite_detail::shared_notifier(ec ? file : canonical.string());
    }
}

ChangeResult SqliteStore::Impl::change_one(Sql sql, const char* op, JobId id,
                                           std::optional<Timestamp> now) {
    ChangeResult result;
    std::lock_guard lock(writer.mutex());
    require_schema(writer);
    Transaction tx(writer, op);
    {
        Statement s = writer.statement(sql, op);
        s.bind(1, id);
        if (now) s.bind(2, *now);
        result.job = one_job(s);
    }
    result.changed = result.job.has_value();
    if (!result.changed) {
        Statement s = writer.statement(Sql::get_for_update, op);
        s.bind(1, id);
        result.job = one_job(s);
    }
    tx.commit();
    return result;
}

SqliteStore::SqliteStore(std::string path, SqliteOptions options)
    : impl_(std::make_unique<Impl>(std::move(path), options)) {
    if (options.migrate) migrate();
}

SqliteStore::~SqliteStore() = default;

const std::string& SqliteStore::path() const noexcept {
    return impl_->path;
}

Notifier& SqliteStore::notifier() {
    return *impl_->notifier;
}

int SqliteStore::migrate() {
    std::lock_guard lock(impl_->writer.mutex());
    const int version = sqlite_detail::migrate(impl_->writer);
    impl_->schema_verified = true;
    return version;
}

int SqliteStore::schema_version() {
    Connection& r = *impl_->reader;
    std::lock_guard lock(r.mutex());
    return sqlite_detail::read_schema_version(r.handle(), "schema_version");
}

// ---- insert and transactional enqueue ----------------------------------------------------

std::vector<InsertResult> SqliteStore::insert(std::span<const NewJob> jobs) {
    if (jobs.empty()) return {};
    std::vector<std::string_view> queues;
    std::vector<InsertResult> results;
    {
        Connection& w = impl_->writer;
        std::lock_guard lock(w.mutex());
        impl_->require_schema(w);
        Transaction tx(w, "insert");
        Statement find = w.statement(Sql::find_unique, "insert");
        Statement ins = w.statement(Sql::insert_job, "insert");
        results = sqlite_detail::insert_jobs(w.handle(), find, ins, jobs, queues);
        tx.commit();
    }
    // After the lock is released: a subscriber that claims at once must not find it held.
    impl_->notify(queues);
    return results;
}

std::vector<InsertResult> SqliteStore::enqueue_in(sqlite3* connection,
                                                  std::span<const JobSpec> specs,
                                                  const Clock& clock) {
    if (connection == nullptr) {
        throw Error(ErrorCode::invalid_argument, "enqueue_in: the connection is null",
                    "connection");
    }
    const std::vector<NewJob> jobs = to_new_jobs(specs, clock.now());  // all valid, or throws
    if (jobs.empty()) return {};

    if (impl_->file.empty()) {
        throw Error(ErrorCode::invalid_argument,
                    "enqueue_in: this store's database is in memory, where no other connection "
                    "can reach it",
                    "connection");
    }
    const std::string theirs = database_file(connection);
    if (!same_file(theirs, impl_->file)) {
        throw Error(ErrorCode::invalid_argument,
                    fmt::format("enqueue_in: the connection is on '{}', not on this store's "
                                "database '{}'",
                                theirs, impl_->file),
                    "connection");
    }
    // Checked through the caller's connection: taking our writer's lock here could deadlock
    // against a claim that waits for the write lock the caller's transaction holds.
    sqlite_detail::require_schema(connection, impl_->schema_verified);

    // Inside the caller's transaction a savepoint nests; without one, BEGIN IMMEDIATE takes
    // the write lock before the unique-key lookup reads, so the insert cannot fail to upgrade
    // a stale read snapshot.
    const bool own_transaction = sqlite3_get_autocommit(connection) != 0;
    auto exec = [connection](const char* sql) {
        if (sqlite3_exec(connection, sql, nullptr, nullptr, nullptr) != SQLITE_OK) {
            sqlite_detail::throw_storage(connection, "enqueue_in");
        }
    };
    exec(own_transaction ? "BEGIN IMMEDIATE" : "SAVEPOINT jobq_enqueue_in");
    std::vector<std::string_view> queues;
    std::vector<InsertResult> results;
    try {
        {
            Statement find = sqlite_detail::prepare_once(
                connection, sqlite_detail::sql_text(Sql::find_unique), "enqueue_in");
            Statement ins = sqlite_detail::prepare_once(
                connection, sqlite_detail::sql_text(Sql::insert_job), "enqueue_in");
            results = sqlite_detail::insert_jobs(connection, find, ins, jobs, queues);
        }
        exec(own_transaction ? "COMMIT" : "RELEASE jobq_enqueue_in");
    } catch (...) {
        if (own_transaction) {
            sqlite_detail::rollback_quietly(connection);
        } else if (sqlite3_get_autocommit(connection) == 0) {
            // Undo our part only; the caller's transaction stays open and theirs to finish.
            sqlite3_exec(connection, "ROLLBACK TO jobq_enqueue_in; RELEASE jobq_enqueue_in",
                         nullptr, nullptr, nullptr);
        }
        throw;
    }
    impl_->notify(queues);
    return results;
}

InsertResult SqliteStore::enqueue_in(sqlite3* connection, const JobSpec& spec, const Clock& clock) {
    return enqueue_in(connection, std::span<const JobSpec>(&spec, 1), clock).front();
}

// ---- the worker's path: claim, heartbeat, complete ---------------------------------------

ClaimResult SqliteStore::claim(const ClaimRequest& request) {
    std::vector<Job> jobs;
    Connection& w = impl_->writer;
    std::lock_guard lock(w.mutex());
    impl_->require_schema(w);
    Transaction tx(w, "claim");
    {
        // Due scheduled and retryable jobs join the available ones first, so one index walk
        // per queue sees every claimable job in order.
        Statement promote = w.statement(Sql::promote_due, "claim");
        promote.bind(1, request.now);
        promote.run();
    }
    Statement claim = w.statement(Sql::claim, "claim");
    for (const QueueDemand& demand : request.queues) {
        if (demand.limit <= 0) continue;
        const std::size_t first = jobs.size();
        claim.bind(1, request.now);
        claim.bind(2, std::string_view{request.worker_id});
        claim.bind(3, request.lease_expires_at);
        claim.bind(4, std::string_view{demand.queue});
        claim.bind(5, demand.limit);
        while (claim.step()) jobs.push_back(sqlite_detail::read_job(claim));
        claim.reset();
        // RETURNING gives rows in no promised order; callers get them in claim order.
        std::sort(jobs.begin() + static_cast<std::ptrdiff_t>(first), jobs.end(),
                  [](const Job& a, const Job& b) {
                      return std::tie(a.priority, a.run_at, a.id) <
                             std::tie(b.priority, b.run_at, b.id);
                  });
    }
    tx.commit();
    return ClaimResult{std::move(jobs), {}, {}};
}

std::vector<JobId> SqliteStore::heartbeat(const HeartbeatRequest& request) {
    std::vector<JobId> lost;
    if (request.jobs.empty()) return lost;
    Connection& w = impl_->writer;
    std::lock_guard lock(w.mutex());
    impl_->require_schema(w);
    Transaction tx(w, "heartbeat");
    Statement s = w.statement(Sql::heartbeat, "heartbeat");
    for (const JobAttempt& ja : request.jobs) {
        s.bind(1, ja.id);
        s.bind(2, ja.attempt);
        s.bind(3, std::string_view{request.worker_id});
        s.bind(4, request.lease_expires_at);
        s.run();
        if (sqlite3_changes(w.handle()) == 0) lost.push_back(ja.id);
        s.reset();
    }
    tx.commit();
    return lost;
}

std::vector<bool> SqliteStore::complete(std::span<const Outcome> outcomes) {
    std::vector<bool> applied;
    if (outcomes.empty()) return applied;
    applied.reserve(outcomes.size());
    Connection& w = impl_->writer;
    std::lock_guard lock(w.mutex());
    impl_->require_schema(w);
    Transaction tx(w, "complete");
    Statement s = w.statement(Sql::complete, "complete");
    std::string error;
    for (const Outcome& o : outcomes) {
        s.bind(1, o.id);
        s.bind(2, o.attempt);
        s.bind(3, std::string_view{o.worker_id});
        s.bind(4, o.only_if_lease_expired_by);
        s.bind(5, outcome_state(o));
        if (o.kind == OutcomeKind::retry || o.kind == OutcomeKind::snooze) {
            s.bind(6, o.run_at);
        } else {
            s.bind_null(6);
        }
        if (outcome_is_terminal(o.kind)) {
            s.bind(7, o.at);
        } else {
            s.bind_null(7);
        }
        s.bind_text_or_null(8, o.result);
        if (o.error) {
            error = sqlite_detail::encode_error(*o.error);
            s.bind(9, std::string_view{error});
        } else {
            s.bind_null(9);
        }
        s.bind(10, o.refund_attempt ? 1 : 0);
        s.run();
        applied.push_back(sqlite3_changes(w.handle()) > 0);
        s.reset();
    }
    tx.commit();
    return applied;
}

// ---- inspection (reader connection) -------------------------------------------------------

std::optional<Job> SqliteStore::get(JobId id) {
    Connection& r = *impl_->reader;
    std::lock_guard lock(r.mutex());
    impl_->require_schema(r);
    Statement s = r.statement(Sql::get, "get");
    s.bind(1, id);
    return one_job(s);
}

JobPage SqliteStore::list(const JobFilter& filter) {
    if (filter.limit < 1) {
        throw Error(ErrorCode::invalid_argument,
                    fmt::format("limit: must be at least 1 (got {})", filter.limit), "limit");
    }
    const std::string states =
        filter.states.empty() ? std::string() : sqlite_detail::encode_states(filter.states);
    JobPage page;
    Connection& r = *impl_->reader;
    std::lock_guard lock(r.mutex());
    impl_->require_schema(r);
    Statement s = r.statement(Sql::list, "list");
    s.bind(1, filter.before_id.value_or(std::numeric_limits<JobId>::max()));
    bind_filter(s, 2, states);
    bind_filter(s, 3, filter.queue);
    bind_filter(s, 4, filter.kind);
    bind_filter(s, 5, filter.tenant);
    // One row more than asked says whether another page follows.
    s.bind(6, static_cast<std::int64_t>(filter.limit) + 1);
    page.jobs.reserve(static_cast<std::size_t>(std::min(filter.limit, 1000)));
    while (s.step()) {
        if (page.jobs.size() == static_cast<std::size_t>(filter.limit)) {
            page.next_before_id = page.jobs.back().id;
            break;
        }
        page.jobs.push_back(sqlite_detail::read_job(s));
    }
    return page;
}

std::vector<QueueStats> SqliteStore::stats(Timestamp now) {
    std::vector<QueueStats> result;
    Connection& r = *impl_->reader;
    std::lock_guard lock(r.mutex());
    impl_->require_schema(r);
    Statement s = r.statement(Sql::stats, "stats");
    s.bind(1, now);
    while (s.step()) {
        const std::string_view queue = s.text(0);
        if (result.empty() || result.back().queue != queue) {
            result.emplace_back().queue = queue;
        }
        QueueStats& qs = result.back();
        if (const auto state = parse_job_state(s.text(1))) {
            qs.counts[static_cast<std::size_t>(*state)] += s.int64(2);
        }
        if (const auto oldest = s.optional_timestamp(3)) {
            if (!qs.oldest_runnable_since || *oldest < *qs.oldest_runnable_since) {
                qs.oldest_runnable_since = oldest;
            }
        }
    }
    return result;
}

std::vector<Job> SqliteStore::expired_leases(Timestamp now, int limit) {
    std::vector<Job> jobs;
    if (limit <= 0) return jobs;
    Connection& r = *impl_->reader;
    std::lock_guard lock(r.mutex());
    impl_->require_schema(r);
    Statement s = r.statement(Sql::expired_leases, "expired_leases");
    s.bind(1, now);
    s.bind(2, limit);
    while (s.step()) jobs.push_back(sqlite_detail::read_job(s));
    return jobs;
}

std::optional<Timestamp> SqliteStore::next_run_at(std::span<const std::string> queues) {
    const std::string names =
        queues.empty() ? std::string() : sqlite_detail::encode_strings(queues);
    Connection& r = *impl_->reader;
    std::lock_guard lock(r.mutex());
    impl_->require_schema(r);
    Statement s = r.statement(Sql::next_run_at, "next_run_at");
    bind_filter(s, 1, names);
    if (!s.step()) return std::nullopt;
    return s.timestamp(0);
}

// ---- operator actions and maintenance (writer connection) ---------------------------------

ChangeResult SqliteStore::cancel(JobId id, Timestamp now) {
    return impl_->change_one(Sql::cancel, "cancel", id, now);
}

ChangeResult SqliteStore::retry(JobId id, Timestamp now) {
    ChangeResult result = impl_->change_one(Sql::retry, "retry", id, now);
    if (result.changed) impl_->notifier->notify(result.job->queue);
    return result;
}

ChangeResult SqliteStore::remove(JobId id) {
    return impl_->change_one(Sql::remove, "remove", id, std::nullopt);
}

std::int64_t SqliteStore::replay_discarded(const JobFilter& filter, Timestamp now) {
    std::vector<JobId> candidates;
    {
        Connection& r = *impl_->reader;
        std::lock_guard lock(r.mutex());
        impl_->require_schema(r);
        Statement s = r.statement(Sql::discarded_candidates, "replay_discarded");
        bind_filter(s, 1, filter.queue);
        bind_filter(s, 2, filter.kind);
        bind_filter(s, 3, filter.tenant);
        while (s.step()) candidates.push_back(s.int64(0));
    }
    if (candidates.empty()) return 0;
    std::int64_t count = 0;
    std::vector<std::string> queues;
    {
        Connection& w = impl_->writer;
        std::lock_guard lock(w.mutex());
        Transaction tx(w, "replay_discarded");
        Statement s = w.statement(Sql::replay_one, "replay_discarded");
        for (const JobId id : candidates) {
            s.bind(1, id);
            s.bind(2, now);
            while (s.step()) {
                ++count;
                add_queue(queues, s.text(0));
            }
            s.reset();
        }
        tx.commit();
    }
    impl_->notify(queues);
    return count;
}

std::int64_t SqliteStore::promote_due(Timestamp now) {
    std::int64_t count = 0;
    std::vector<std::string> queues;
    {
        Connection& w = impl_->writer;
        std::lock_guard lock(w.mutex());
        impl_->require_schema(w);
        Transaction tx(w, "promote_due");
        {
            Statement s = w.statement(Sql::promote_due_queues, "promote_due");
            s.bind(1, now);
            while (s.step()) {
                ++count;
                add_queue(queues, s.text(0));
            }
        }
        tx.commit();
    }
    // Workers idle until a job is due; the promoted queues have work now.
    impl_->notify(queues);
    return count;
}

std::int64_t SqliteStore::prune(const PruneRequest& request) {
    struct Cutoff {
        JobState state;
        std::optional<Timestamp> before;
        std::vector<JobId> ids;
    };
    Cutoff cutoffs[] = {
        {JobState::completed, request.completed_before, {}},
        {JobState::cancelled, request.cancelled_before, {}},
        {JobState::discarded, request.discarded_before, {}},
    };
    std::int64_t found = 0;
    {
        Connection& r = *impl_->reader;
        std::lock_guard lock(r.mutex());
        impl_->require_schema(r);
        Statement s = r.statement(Sql::prune_candidates, "prune");
        for (Cutoff& c : cutoffs) {
            if (!c.before || found >= request.limit) continue;
            s.bind(1, to_string(c.state));
            s.bind(2, *c.before);
            s.bind(3, request.limit - found);
            while (s.step()) c.ids.push_back(s.int64(0));
            s.reset();
            found += static_cast<std::int64_t>(c.ids.size());
        }
    }
    const bool prune_runs = request.schedule_runs_before.has_value() && request.limit > 0;
    if (found == 0 && !prune_runs) return 0;
    std::int64_t deleted = 0;
    Connection& w = impl_->writer;
    std::lock_guard lock(w.mutex());
    Transaction tx(w, "prune");
    {
        Statement s = w.statement(Sql::prune_one, "prune");
        for (const Cutoff& c : cutoffs) {
            for (const JobId id : c.ids) {
                s.bind(1, id);
                s.bind(2, to_string(c.state));
                s.bind(3, *c.before);
                s.run();
                deleted += sqlite3_changes(w.handle());
                s.reset();
            }
        }
    }
    if (prune_runs) {
        // Cron history has an index on recorded_at, so the writer finds its rows itself
        // without the reader's scan that finished jobs need.
        Statement s = w.statement(Sql::prune_schedule_runs, "prune");
        s.bind(1, *request.schedule_runs_before);
        s.bind(2, request.limit);
        s.run();
        deleted += sqlite3_changes(w.handle());
    }
    tx.commit();
    return deleted;
}

}  // namespace jobq
