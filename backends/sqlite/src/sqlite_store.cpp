#include "jobq/sqlite/sqlite_store.hpp"

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>

#include <fmt/format.h>
#include <sqlite3.h>

#include "connection.hpp"
#include "flow_claim.hpp"
#include "job_insert.hpp"
#include "job_row.hpp"
#include "jobq/backend/job_columns.hpp"
#include "jobq/backend/limit_release.hpp"
#include "jobq/backend/notifier.hpp"
#include "jobq/error.hpp"
#include "notifier_registry.hpp"
#include "schema.hpp"
#include "store_impl.hpp"
#include "workflow_ops.hpp"

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

// Whether `queue` has an available job with a tenant: one seek into the tenant claimable
// index. Such a queue takes the flow claim even without limits, so tenants take turns.
bool queue_has_tenant_jobs(Connection& w, const std::string& queue) {
    Statement s = w.statement(Sql::queue_has_tenant_jobs, "claim");
    s.bind(1, std::string_view{queue});
    return s.step();
}

}  // namespace

std::vector<std::string> sqlite_detail::apply_release(Connection& w, const LimitRelease& release,
                                                      std::string_view op) {
    std::set<LimitScope> changed;
    Statement s = w.statement(Sql::limit_release, op);
    for (const auto& [scope, n] : release.per_scope()) {
        s.bind(1, to_string(scope.type));
        s.bind(2, std::string_view{scope.name});
        s.bind(3, n);
        s.run();
        if (sqlite3_changes(w.handle()) > 0) changed.insert(scope);
        s.reset();
    }
    return release.queues_to_wake(changed);
}

using sqlite_detail::apply_release;

SqliteStore::Impl::Impl(std::string p, SqliteOptions o)
    : path(std::move(p)), options(o), writer(path, options, false) {
    file = database_file(writer.handle());
    if (file.empty()) {
        // A second connection to ":memory:" would open a second, empty database.
        reader = &writer;
        notifier = std::make_shared<LocalNotifier>();
    } else {
        // The writer has found out whether this process may write; the reader follows it.
        SqliteOptions reader_options = options;
        reader_options.access =
            writer.read_only() ? SqliteAccess::read_only : SqliteAccess::read_write;
        own_reader = std::make_unique<Connection>(path, reader_options, true);
        reader = own_reader.get();
        std::error_code ec;
        const std::filesystem::path canonical = std::filesystem::weakly_canonical(file, ec);
        notifier = sqlite_detail::shared_notifier(ec ? file : canonical.string());
        if (!writer.read_only()) {
            checkpointer = std::make_unique<sqlite_detail::Checkpointer>(writer.handle(), file,
                                                                         options.durability);
        }
    }
}

ChangeResult SqliteStore::Impl::change_one(Sql sql, const char* op, JobId id,
                                           std::optional<Timestamp> now) {
    return transact(op, [&](Connection& w) {
        ChangeResult result;
        {
            Statement s = w.statement(sql, op);
            s.bind(1, id);
            if (now) s.bind(2, *now);
            result.job = one_job(s);
        }
        result.changed = result.job.has_value();
        if (!result.changed) {
            Statement s = w.statement(Sql::get_for_update, op);
            s.bind(1, id);
            result.job = one_job(s);
        }
        return result;
    });
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

bool SqliteStore::read_only() const noexcept {
    return impl_->writer.read_only();
}

int SqliteStore::migrate() {
    std::lock_guard lock(impl_->writer.mutex());
    if (impl_->writer.read_only()) {
        // Nothing to write when the schema is current; otherwise the transaction says why not.
        const int current = sqlite_detail::read_schema_version(impl_->writer.handle(), "migrate");
        if (current == sqlite_detail::library_schema_version()) {
            impl_->schema_verified = true;
            return current;
        }
    }
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
    std::vector<InsertResult> results = impl_->transact("insert", [&](Connection& w) {
        Statement find = w.statement(Sql::find_unique, "insert");
        Statement ins = w.statement(Sql::insert_job, "insert");
        return sqlite_detail::insert_jobs(w.handle(), &w, find, ins, jobs, queues);
    });
    // After the lock is released: a subscriber that claims at once must not find it held.
    impl_->notify(queues);
    return results;
}

namespace {

// Runs `f(connection)` inside the caller's transaction on their own connection to this store's
// database (a savepoint), or in one of its own when the caller has none open; undoes only its
// own part when `f` throws. `op` names the operation in messages.
template <class F>
auto on_callers_connection(SqliteStore::Impl& impl, sqlite3* connection, std::string_view op,
                           F&& f) {
    if (impl.file.empty()) {
        throw Error(ErrorCode::invalid_argument,
                    fmt::format("{}: this store's database is in memory, where no other "
                                "connection can reach it",
                                op),
                    "connection");
    }
    const std::string theirs = database_file(connection);
    if (!same_file(theirs, impl.file)) {
        throw Error(ErrorCode::invalid_argument,
                    fmt::format("{}: the connection is on '{}', not on this store's "
                                "database '{}'",
                                op, theirs, impl.file),
                    "connection");
    }
    // Checked through the caller's connection: taking our writer's lock here could deadlock
    // against a claim that waits for the write lock the caller's transaction holds.
    sqlite_detail::require_schema(connection, impl.schema_verified);

    // Inside the caller's transaction a savepoint nests; without one, BEGIN IMMEDIATE takes
    // the write lock before the unique-key lookup reads, so the insert cannot fail to upgrade
    // a stale read snapshot.
    const bool own_transaction = sqlite3_get_autocommit(connection) != 0;
    auto exec = [connection, op](const char* sql) {
        if (sqlite3_exec(connection, sql, nullptr, nullptr, nullptr) != SQLITE_OK) {
            sqlite_detail::throw_storage(connection, op);
        }
    };
    exec(own_transaction ? "BEGIN IMMEDIATE" : "SAVEPOINT jobq_enqueue_in");
    try {
        auto result = f(connection);
        exec(own_transaction ? "COMMIT" : "RELEASE jobq_enqueue_in");
        return result;
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
}

void refuse_null_connection(sqlite3* connection) {
    if (connection == nullptr) {
        throw Error(ErrorCode::invalid_argument, "enqueue_in: the connection is null",
                    "connection");
    }
}

}  // namespace

std::vector<InsertResult> SqliteStore::enqueue_in(sqlite3* connection,
                                                  std::span<const JobSpec> specs,
                                                  const Clock& clock) {
    refuse_null_connection(connection);
    const std::vector<NewJob> jobs = to_new_jobs(specs, clock.now());  // all valid, or throws
    if (jobs.empty()) return {};
    std::vector<std::string_view> queues;
    std::vector<InsertResult> results =
        on_callers_connection(*impl_, connection, "enqueue_in", [&](sqlite3* db) {
            Statement find = sqlite_detail::prepare_once(
                db, sqlite_detail::sql_text(Sql::find_unique), "enqueue_in");
            Statement ins = sqlite_detail::prepare_once(
                db, sqlite_detail::sql_text(Sql::insert_job), "enqueue_in");
            return sqlite_detail::insert_jobs(db, nullptr, find, ins, jobs, queues);
        });
    impl_->notify(queues);
    return results;
}

WorkflowInsert SqliteStore::enqueue_in(sqlite3* connection, const WorkflowSpec& spec,
                                       const Clock& clock) {
    refuse_null_connection(connection);
    const NewWorkflow wf = to_new_workflow(spec, clock.now());  // valid, or throws
    sqlite_detail::WorkflowEffects effects;
    WorkflowInsert out = on_callers_connection(*impl_, connection, "enqueue_in", [&](sqlite3* db) {
        const sqlite_detail::Db on{db, nullptr};
        WorkflowInsert ins = sqlite_detail::insert_workflow_in(on, wf, std::nullopt, effects);
        sqlite_detail::settle_in(on, effects, wf.now);
        return ins;
    });
    // Woken after our part is written; a worker that looks before the caller commits finds
    // nothing yet and is woken again by whatever comes next (or its poll).
    impl_->notify(effects.queues);
    return out;
}

InsertResult SqliteStore::enqueue_in(sqlite3* connection, const JobSpec& spec, const Clock& clock) {
    return enqueue_in(connection, std::span<const JobSpec>(&spec, 1), clock).front();
}

// ---- the worker's path: claim, heartbeat, complete ---------------------------------------

namespace {

// The claim of claim() and complete_and_claim(), inside the caller's transaction. `cursors`
// are the store's tenant cursors: the write lock is held, so moving them is this claim's.
ClaimResult claim_in(Connection& w, const ClaimRequest& request,
                     std::map<std::string, std::string, std::less<>>& cursors) {
    ClaimResult result;
    std::vector<Job>& jobs = result.jobs;
    std::optional<sqlite_detail::FlowClaim> flow;
    Timestamp now = request.now;
    Timestamp lease = request.lease_expires_at;
    if (request.clock != nullptr) {
        // Read once the write lock is held: no completion that freed a slot can commit after
        // the start it made room for.
        now = request.clock->now();
        lease += now - request.now;
    }
    {
        // Due scheduled and retryable jobs join the available ones first, so one index walk
        // per queue sees every claimable job in order.
        Statement promote = w.statement(Sql::promote_due, "claim");
        promote.bind(1, now);
        promote.run();
    }
    // With no limit row at all, a queue whose available jobs have no tenant is claimed as in
    // version 2; anything else goes through the flow claim (limits, tenants taking turns).
    const bool any_limits = w.statement(Sql::any_limits, "claim").step();
    Statement claim = w.statement(Sql::claim, "claim");
    for (const QueueDemand& demand : request.queues) {
        if (demand.limit <= 0) continue;
        if (any_limits || queue_has_tenant_jobs(w, demand.queue)) {
            if (!flow) flow.emplace(w, any_limits, request.worker_id, now, lease);
            flow->claim_queue(demand, cursors[demand.queue], jobs);
            continue;
        }
        const std::size_t first = jobs.size();
        claim.bind(1, now);
        claim.bind(2, std::string_view{request.worker_id});
        claim.bind(3, lease);
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
    if (flow) {
        result.more = std::move(flow->more);
        result.throttled_until = flow->throttled_until;
    }
    // Read now, in the claim's transaction: the results as they stand when the job starts.
    sqlite_detail::fill_upstream(sqlite_detail::Db{w.handle(), &w}, jobs);
    return result;
}

// The outcomes of complete() and complete_and_claim(), inside the caller's transaction:
// appends to `applied` whether each passed its fence, and returns the queues where a limited
// slot came free (to wake after commit).
std::vector<std::string> complete_in(Connection& w, std::span<const Outcome> outcomes,
                                     std::vector<bool>& applied,
                                     sqlite_detail::WorkflowEffects& effects) {
    std::vector<std::string> freed;
    std::vector<std::pair<JobId, DependencyEnd>> finished;  // jobs of workflows
    // Once per batch: without limit rows there are no running counts to keep, and the
    // statement is the one of version 2.
    const bool limited = w.statement(Sql::any_limits, "complete").step();
    Statement s = w.statement(Sql::complete, "complete");
    LimitRelease release;
    std::string ended = "[";  // ids of the jobs whose slots come free, as JSON
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
        const bool passed = sqlite3_changes(w.handle()) > 0;
        s.reset();
        applied.push_back(passed);
        if (passed && o.workflow_id != 0 && outcome_is_terminal(o.kind)) {
            finished.emplace_back(o.id, dependency_end_of(o.kind));
            effects.touched.insert(o.workflow_id);
            if (o.kind == OutcomeKind::discard) effects.discarded.insert(o.workflow_id);
        }
        if (passed && limited) {
            // The fence passed: the job's rows get its slot back.
            if (ended.size() > 1) ended += ',';
            ended += std::to_string(o.id);
        }
    }
    if (ended.size() > 1) {
        ended += ']';
        Statement scopes = w.statement(Sql::job_scopes, "complete");
        scopes.bind(1, std::string_view{ended});
        while (scopes.step()) release.add(scopes.text(0), scopes.text(1), scopes.text(2));
        freed = apply_release(w, release, "complete");
    }
    if (!finished.empty()) {
        Timestamp now = outcomes.front().at;
        for (const Outcome& o : outcomes) now = std::max(now, o.at);
        const sqlite_detail::Db db{w.handle(), &w};
        sqlite_detail::release_in(db, std::move(finished), now, effects);
        sqlite_detail::settle_in(db, effects, now);
    }
    return freed;
}

}  // namespace

ClaimResult SqliteStore::claim(const ClaimRequest& request) {
    return impl_->transact_claim(
        "claim", [&](Connection& w) { return claim_in(w, request, impl_->tenant_cursors); });
}

std::vector<LostLease> SqliteStore::heartbeat(const HeartbeatRequest& request) {
    if (request.jobs.empty()) return {};
    return impl_->transact("heartbeat", [&](Connection& w) {
        std::vector<LostLease> lost;
        Statement s = w.statement(Sql::heartbeat, "heartbeat");
        for (const JobAttempt& ja : request.jobs) {
            s.bind(1, ja.id);
            s.bind(2, ja.attempt);
            s.bind(3, std::string_view{request.worker_id});
            s.bind(4, request.lease_expires_at);
            s.run();
            const bool renewed = sqlite3_changes(w.handle()) > 0;
            s.reset();
            if (renewed) continue;
            // Why, read under the same write lock: nothing can change the job in between.
            Statement why = w.statement(Sql::heartbeat_lost, "heartbeat");
            why.bind(1, ja.id);
            std::optional<JobState> state;
            int attempt = 0;
            if (why.step()) {
                state = parse_job_state(why.text(0));
                // A state this version does not know is no cancellation of this attempt.
                if (!state) state = JobState::running;
                attempt = why.int32(1);
            }
            lost.push_back({ja.id, lease_loss(state, attempt, ja.attempt)});
        }
        return lost;
    });
}

std::vector<bool> SqliteStore::complete(std::span<const Outcome> outcomes) {
    std::vector<bool> applied;
    if (outcomes.empty()) return applied;
    applied.reserve(outcomes.size());
    std::vector<std::string> freed;
    sqlite_detail::WorkflowEffects effects;
    impl_->transact("complete",
                    [&](Connection& w) { freed = complete_in(w, outcomes, applied, effects); });
    impl_->notify(freed);
    impl_->notify(effects.queues);
    return applied;
}

CompletedAndClaimed SqliteStore::complete_and_claim(std::span<const Outcome> outcomes,
                                                    const ClaimRequest& request) {
    CompletedAndClaimed out;
    out.applied.reserve(outcomes.size());
    std::vector<std::string> freed;
    sqlite_detail::WorkflowEffects effects;
    impl_->transact("complete and claim", [&](Connection& w) {
        freed = complete_in(w, outcomes, out.applied, effects);
        out.claimed = claim_in(w, request, impl_->tenant_cursors);
    });
    // The claim has taken what it could of the freed slots; another worker may use the rest.
    impl_->notify(freed);
    impl_->notify(effects.queues);
    return out;
}

// ---- inspection (reader connection) -------------------------------------------------------

std::optional<Job> SqliteStore::get(JobId id) {
    return impl_->read([&](Connection& r) {
        Statement s = r.statement(Sql::get, "get");
        s.bind(1, id);
        return one_job(s);
    });
}

JobPage SqliteStore::list(const JobFilter& filter) {
    if (filter.limit < 1) {
        throw Error(ErrorCode::invalid_argument,
                    fmt::format("limit: must be at least 1 (got {})", filter.limit), "limit");
    }
    const std::string states =
        filter.states.empty() ? std::string() : sqlite_detail::encode_states(filter.states);
    return impl_->read([&](Connection& r) {
        JobPage page;
        Statement s = r.statement(Sql::list, "list");
        s.bind(1, filter.before_id.value_or(std::numeric_limits<JobId>::max()));
        bind_filter(s, 2, states);
        bind_filter(s, 3, filter.queue);
        bind_filter(s, 4, filter.kind);
        bind_filter(s, 5, filter.tenant);
        // One row more than asked says whether another page follows.
        s.bind(6, static_cast<std::int64_t>(filter.limit) + 1);
        bind_filter(s, 7, filter.tag);
        s.bind(8, filter.finished_after);
        s.bind(9, filter.finished_before);
        page.jobs.reserve(static_cast<std::size_t>(std::min(filter.limit, 1000)));
        while (s.step()) {
            if (page.jobs.size() == static_cast<std::size_t>(filter.limit)) {
                page.next_before_id = page.jobs.back().id;
                break;
            }
            page.jobs.push_back(sqlite_detail::read_job(s));
        }
        return page;
    });
}

std::vector<QueueStats> SqliteStore::stats(Timestamp now) {
    return impl_->read([&](Connection& r) {
        std::vector<QueueStats> result;
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
    });
}

std::vector<Job> SqliteStore::expired_leases(Timestamp now, int limit) {
    if (limit <= 0) return {};
    return impl_->read([&](Connection& r) {
        std::vector<Job> jobs;
        Statement s = r.statement(Sql::expired_leases, "expired_leases");
        s.bind(1, now);
        s.bind(2, limit);
        while (s.step()) jobs.push_back(sqlite_detail::read_job(s));
        return jobs;
    });
}

std::optional<Timestamp> SqliteStore::next_run_at(std::span<const std::string> queues) {
    const std::string names =
        queues.empty() ? std::string() : sqlite_detail::encode_strings(queues);
    return impl_->read([&](Connection& r) -> std::optional<Timestamp> {
        Statement s = r.statement(Sql::next_run_at, "next_run_at");
        bind_filter(s, 1, names);
        if (!s.step()) return std::nullopt;
        return s.timestamp(0);
    });
}

// ---- operator actions and maintenance (writer connection) ---------------------------------

ChangeResult SqliteStore::cancel(JobId id, Timestamp now) {
    ChangeResult result;
    bool was_running = false;
    sqlite_detail::WorkflowEffects effects;
    impl_->transact("cancel", [&](Connection& w) {
        {
            // Read first: RETURNING shows the row as cancelled, not what it was.
            Statement s = w.statement(Sql::get_for_update, "cancel");
            s.bind(1, id);
            result.job = one_job(s);
        }
        if (!result.job) return;
        was_running = result.job->state == JobState::running;
        {
            Statement s = w.statement(Sql::cancel, "cancel");
            s.bind(1, id);
            s.bind(2, now);
            if (std::optional<Job> cancelled = one_job(s)) {
                result.job = std::move(cancelled);
                result.changed = true;
            }
        }
        was_running = was_running && result.changed;
        if (was_running && w.statement(Sql::any_limits, "cancel").step()) {
            LimitRelease release;
            release.add(result.job->queue, result.job->kind, result.job->tenant);
            apply_release(w, release, "cancel");
        }
        if (result.changed && result.job->workflow_id != 0) {
            const sqlite_detail::Db db{w.handle(), &w};
            effects.touched.insert(result.job->workflow_id);
            sqlite_detail::release_in(db, {{id, DependencyEnd::cancelled}}, now, effects);
            sqlite_detail::settle_in(db, effects, now);
        }
    });
    impl_->notify(effects.queues);
    if (was_running) {
        // Its worker stops it (in this process at once; elsewhere at its next check), and its
        // slot is free for the next job.
        impl_->notifier->notify_cancelled(id);
        impl_->notifier->notify(result.job->queue);
    }
    return result;
}

ChangeResult SqliteStore::retry(JobId id, Timestamp now) {
    sqlite_detail::WorkflowEffects effects;
    std::optional<ChangeResult> of_workflow =
        impl_->transact("retry", [&](Connection& w) -> std::optional<ChangeResult> {
            std::optional<Job> job;
            {
                Statement s = w.statement(Sql::get_for_update, "retry");
                s.bind(1, id);
                job = one_job(s);
            }
            if (!job || job->workflow_id == 0) return std::nullopt;
            // A workflow's job: a rerun from it, so what waits on it runs again too; a
            // pending job waits for its dependencies, whatever an operator asks.
            ChangeResult r;
            if (job->state == JobState::discarded || job->state == JobState::cancelled) {
                r.changed = sqlite_detail::rerun_in(sqlite_detail::Db{w.handle(), &w},
                                                    job->workflow_id, id, now, effects)
                                .value_or(0) > 0;
            }
            Statement again = w.statement(Sql::get_for_update, "retry");
            again.bind(1, id);
            r.job = one_job(again);
            return r;
        });
    if (of_workflow) {
        impl_->notify(effects.queues);
        return *of_workflow;
    }
    ChangeResult result = impl_->change_one(Sql::retry, "retry", id, now);
    if (result.changed) impl_->notifier->notify(result.job->queue);
    return result;
}

ChangeResult SqliteStore::remove(JobId id) {
    sqlite_detail::WorkflowEffects effects;
    ChangeResult result = impl_->transact("remove", [&](Connection& w) {
        ChangeResult r;
        {
            Statement s = w.statement(Sql::get_for_update, "remove");
            s.bind(1, id);
            r.job = one_job(s);
        }
        if (!r.job || r.job->state == JobState::running) return r;
        const sqlite_detail::Db db{w.handle(), &w};
        if (r.job->workflow_id != 0) {
            // Jobs waiting for it judge its removal as a cancellation, before it is gone.
            if (!is_terminal(r.job->state)) {
                sqlite_detail::release_in(db, {{id, DependencyEnd::removed}}, system_clock().now(),
                                          effects);
            }
            Statement edges = w.statement(Sql::job_delete_edges, "remove");
            edges.bind(1, id);
            edges.run();
            effects.touched.insert(r.job->workflow_id);
        }
        Statement s = w.statement(Sql::remove, "remove");
        s.bind(1, id);
        r.changed = one_job(s).has_value();
        if (r.job->workflow_id != 0) {
            sqlite_detail::settle_in(db, effects, system_clock().now());
        }
        return r;
    });
    impl_->notify(effects.queues);
    return result;
}

std::int64_t SqliteStore::replay_discarded(const JobFilter& filter, Timestamp now) {
    const std::vector<JobId> candidates = impl_->read([&](Connection& r) {
        std::vector<JobId> ids;
        Statement s = r.statement(Sql::discarded_candidates, "replay_discarded");
        bind_filter(s, 1, filter.queue);
        bind_filter(s, 2, filter.kind);
        bind_filter(s, 3, filter.tenant);
        while (s.step()) ids.push_back(s.int64(0));
        return ids;
    });
    if (candidates.empty()) return 0;
    std::int64_t count = 0;
    std::vector<std::string> queues;
    sqlite_detail::WorkflowEffects effects;
    impl_->transact("replay_discarded", [&](Connection& w) {
        Statement s = w.statement(Sql::replay_one, "replay_discarded");
        Statement get = w.statement(Sql::get_for_update, "replay_discarded");
        for (const JobId id : candidates) {
            get.bind(1, id);
            std::optional<Job> job;
            if (get.step()) job = sqlite_detail::read_job(get);
            get.reset();
            if (job && job->workflow_id != 0) {
                // A workflow's job reruns with what waits on it.
                if (job->state == JobState::discarded) {
                    count += sqlite_detail::rerun_in(sqlite_detail::Db{w.handle(), &w},
                                                     job->workflow_id, id, now, effects)
                                 .value_or(0) > 0;
                }
                continue;
            }
            s.bind(1, id);
            s.bind(2, now);
            while (s.step()) {
                ++count;
                add_queue(queues, s.text(0));
            }
            s.reset();
        }
    });
    impl_->notify(queues);
    impl_->notify(effects.queues);
    return count;
}

std::int64_t SqliteStore::promote_due(Timestamp now) {
    std::int64_t count = 0;
    std::vector<std::string> queues;
    impl_->transact("promote_due", [&](Connection& w) {
        Statement s = w.statement(Sql::promote_due_queues, "promote_due");
        s.bind(1, now);
        while (s.step()) {
            ++count;
            add_queue(queues, s.text(0));
        }
    });
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
    // A finished workflow goes whole (workflow_prunable); the latest cutoff bounds the
    // candidates.
    const std::optional<Timestamp> latest = latest_prune_cutoff(request);
    std::vector<WorkflowId> workflows;
    std::int64_t found = 0;
    impl_->read([&](Connection& r) {
        if (latest && request.limit > 0) {
            Statement s = r.statement(Sql::wf_prune_candidates, "prune");
            s.bind(1, *latest);
            s.bind(2, request.limit);
            std::vector<std::pair<WorkflowId, Timestamp>> finished;
            while (s.step()) finished.emplace_back(s.int64(0), s.timestamp(1));
            s.reset();
            for (const auto& [id, at] : finished) {
                Statement st = r.statement(Sql::wf_distinct_states, "prune");
                st.bind(1, id);
                std::vector<JobState> states;
                while (st.step())
                    states.push_back(parse_job_state(st.text(0)).value_or(JobState::pending));
                if (workflow_prunable(request, at, states)) workflows.push_back(id);
            }
        }
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
    });
    const bool prune_runs = request.schedule_runs_before.has_value() && request.limit > 0;
    if (found == 0 && !prune_runs && workflows.empty()) return 0;
    return impl_->transact("prune", [&](Connection& w) {
        std::int64_t deleted = 0;
        for (const WorkflowId id : workflows) {
            {
                // Still finished? A rerun or append since the reader looked keeps it.
                Statement s = w.statement(Sql::wf_get, "prune");
                s.bind(1, id);
                if (!s.step() || s.text(3) == "running") continue;
            }
            for (const Sql sql : {Sql::wf_delete_edges, Sql::wf_delete_jobs, Sql::wf_delete}) {
                Statement s = w.statement(sql, "prune");
                s.bind(1, id);
                s.run();
                if (sql == Sql::wf_delete_jobs) deleted += sqlite3_changes(w.handle());
            }
        }
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
        return deleted;
    });
}

}  // namespace jobq
