#include "jobq/postgres/postgres_store.hpp"

#include <algorithm>
#include <limits>
#include <mutex>
#include <unordered_map>

#include <fmt/format.h>

#include "jobq/backend/limit_release.hpp"
#include "jobq/error.hpp"
#include "store_impl.hpp"
#include "workflow_ops.hpp"

namespace jobq {

using postgres_detail::any_unique;
using postgres_detail::ArrayWriter;
using postgres_detail::insert_jobs;
using postgres_detail::load_quotas;
using postgres_detail::micros;
using postgres_detail::read_job;
using postgres_detail::Sql;
using postgres_detail::text_or_null;

namespace {

// Splits outcomes into rounds in which no job appears twice: one multi-row UPDATE applies
// at most one change per row, while outcomes must apply in order (a repeat fails its fence).
std::vector<std::vector<std::size_t>> rounds_of(std::span<const Outcome> outcomes) {
    std::vector<std::vector<std::size_t>> rounds(1);
    std::unordered_map<JobId, std::size_t> next_round;
    next_round.reserve(outcomes.size());
    for (std::size_t i = 0; i < outcomes.size(); ++i) {
        std::size_t& r = next_round[outcomes[i].id];
        if (r == rounds.size()) rounds.emplace_back();
        rounds[r].push_back(i);
        ++r;
    }
    return rounds;
}

}  // namespace

PostgresStore::PostgresStore(std::string conninfo, PostgresOptions options) {
    postgres_detail::validate_schema_name(options.schema);
    if (options.pool_size < 1) {
        throw Error(ErrorCode::invalid_argument,
                    fmt::format("pool_size: must be at least 1 (got {})", options.pool_size),
                    "pool_size");
    }
    if (options.vacuum_after_claims < 0) {
        throw Error(ErrorCode::invalid_argument,
                    fmt::format("vacuum_after_claims: must be 0 (off) or positive (got {})",
                                options.vacuum_after_claims),
                    "vacuum_after_claims");
    }
    if (options.connect_timeout.count() <= 0) {
        throw Error(ErrorCode::invalid_argument, "connect_timeout: must be positive",
                    "connect_timeout");
    }
    if (conninfo.empty()) {
        throw Error(ErrorCode::invalid_argument, "conninfo: the connection string is empty",
                    "conninfo");
    }
    postgres_detail::validate_conninfo(conninfo);
    const bool run_migrate = options.migrate;
    impl_ = std::make_unique<Impl>(std::move(conninfo), std::move(options));
    if (run_migrate) migrate();
}

PostgresStore::~PostgresStore() = default;

const std::string& PostgresStore::schema() const noexcept {
    return impl_->options.schema;
}

PostgresStore::ClaimPaths PostgresStore::claim_paths() const noexcept {
    ClaimPaths paths;
    paths.plain = impl_->claims_plain.load(std::memory_order_relaxed);
    paths.unbound = impl_->claims_unbound.load(std::memory_order_relaxed);
    paths.flow = impl_->claims_flow.load(std::memory_order_relaxed);
    return paths;
}

Notifier& PostgresStore::notifier() {
    return *impl_->notifier;
}

int PostgresStore::migrate() {
    const int version = impl_->pool.run("migrate", [&](pqxx::connection& c) {
        return postgres_detail::migrate(c, impl_->options.schema);
    });
    impl_->schema_verified = true;
    return version;
}

int PostgresStore::schema_version() {
    return impl_->pool.run("schema_version", [&](pqxx::connection& c) {
        return postgres_detail::read_schema_version(c, impl_->options.schema);
    });
}

// ---- insert and transactional enqueue ----------------------------------------------------

std::vector<InsertResult> PostgresStore::insert(std::span<const NewJob> jobs) {
    if (jobs.empty()) return {};
    const std::string& schema = impl_->options.schema;
    const std::string tenants = postgres_detail::tenants_of(jobs);
    std::vector<InsertResult> results;
    if (!any_unique(jobs)) {
        // One statement: the common path is one round trip and one commit. A batch with
        // tenants inserts nothing there when one of them has a quota; then the quota path.
        auto exec = [this](Sql id, auto&&... args) {
            return impl_->exec("insert", id, std::forward<decltype(args)>(args)...);
        };
        results = insert_jobs(exec, jobs, schema, nullptr, text_or_null(tenants));
        if (results.size() != jobs.size()) {
            results = impl_->in_transaction("insert", [&](auto& exec) {
                TenantQuotas quota = load_quotas(exec, tenants, schema);
                for (const NewJob& job : jobs) quota.admit(job.tenant);  // throws before any write
                return insert_jobs(exec, jobs, schema, nullptr);
            });
        }
    } else {
        results = impl_->in_transaction("insert", [&](auto& exec) {
            TenantQuotas quota;
            if (!tenants.empty()) quota = load_quotas(exec, tenants, schema);
            // A quota exceeded midway throws out of the uncommitted transaction: nothing stays.
            return insert_jobs(exec, jobs, schema, nullptr, nullptr,
                               !quota.any() ? nullptr : &quota);
        });
    }
    impl_->wake_inserted(jobs, results);
    return results;
}

std::vector<InsertResult> PostgresStore::enqueue_in(pqxx::transaction_base& tx,
                                                    std::span<const JobSpec> specs,
                                                    const Clock& clock) {
    const std::vector<NewJob> jobs = to_new_jobs(specs, clock.now());  // all valid, or throws
    if (jobs.empty()) return {};
    // The caller's connection has none of our prepared statements: the same texts go as
    // one-off parameterised statements. Errors leave the caller's transaction to the caller.
    auto exec = [&](Sql id, auto&&... args) {
        return tx.exec_params(impl_->sql.text(id), std::forward<decltype(args)>(args)...);
    };
    const std::string& schema = impl_->options.schema;
    // The NOTIFY goes with the caller's commit, so nobody is woken for a rollback.
    const char* channel = impl_->sql.channel().c_str();
    try {
        const std::string tenants = postgres_detail::tenants_of(jobs);
        if (tenants.empty()) return insert_jobs(exec, jobs, schema, channel);
        if (!any_unique(jobs)) {
            std::vector<InsertResult> results =
                insert_jobs(exec, jobs, schema, channel, tenants.c_str());
            if (results.size() == jobs.size()) return results;
            // A tenant has a quota: every job is new, so the check is done before any write
            // and a QuotaExceeded leaves the caller's transaction as it found it.
            TenantQuotas quota = load_quotas(exec, tenants, schema);
            for (const NewJob& job : jobs) quota.admit(job.tenant);
            return insert_jobs(exec, jobs, schema, channel);
        }
        TenantQuotas quota = load_quotas(exec, tenants, schema);
        if (!quota.any()) return insert_jobs(exec, jobs, schema, channel);
        // Which unique jobs coalesce is known only while inserting: the jobs go in under a
        // savepoint that a QuotaExceeded rolls back, so the caller's transaction stays usable
        // and holds none of them. (Other errors leave it as they always have.)
        tx.exec0("SAVEPOINT jobq_quota");
        try {
            std::vector<InsertResult> results =
                insert_jobs(exec, jobs, schema, channel, nullptr, &quota);
            tx.exec0("RELEASE SAVEPOINT jobq_quota");
            return results;
        } catch (const QuotaExceeded&) {
            tx.exec0("ROLLBACK TO SAVEPOINT jobq_quota");
            tx.exec0("RELEASE SAVEPOINT jobq_quota");
            throw;
        }
    } catch (...) {
        bool lost = false;
        postgres_detail::rethrow_as_error("enqueue_in", lost);
    }
}

WorkflowInsert PostgresStore::enqueue_in(pqxx::transaction_base& tx, const WorkflowSpec& spec,
                                         const Clock& clock) {
    const NewWorkflow wf = to_new_workflow(spec, clock.now());  // valid, or throws
    // The caller's connection has none of our prepared statements: the same texts go as
    // one-off statements, and wake-ups as NOTIFYs that go with the caller's commit.
    const postgres_detail::Tx on{tx, impl_->sql, false, impl_->sql.channel().c_str(),
                                 impl_->options.schema};
    try {
        // A savepoint: a refusal (an unknown name, a full quota) leaves the caller's
        // transaction as it was, usable.
        tx.exec0("SAVEPOINT jobq_workflow");
        try {
            postgres_detail::WorkflowEffects effects;
            WorkflowInsert out = postgres_detail::insert_workflow_in(on, wf, std::nullopt, effects);
            postgres_detail::settle_in(on, effects, wf.now);
            for (const std::string& q : effects.queues) {
                tx.exec_params("SELECT pg_notify($1, $2)", impl_->sql.channel(), q);
            }
            tx.exec0("RELEASE SAVEPOINT jobq_workflow");
            return out;
        } catch (const Error&) {
            tx.exec0("ROLLBACK TO SAVEPOINT jobq_workflow");
            tx.exec0("RELEASE SAVEPOINT jobq_workflow");
            throw;
        }
    } catch (...) {
        bool lost = false;
        postgres_detail::rethrow_as_error("enqueue_in", lost);
    }
}

InsertResult PostgresStore::enqueue_in(pqxx::transaction_base& tx, const JobSpec& spec,
                                       const Clock& clock) {
    return enqueue_in(tx, std::span<const JobSpec>(&spec, 1), clock).front();
}

// ---- the worker's path: claim, heartbeat, complete ---------------------------------------

std::vector<LostLease> PostgresStore::heartbeat(const HeartbeatRequest& request) {
    std::vector<LostLease> lost;
    if (request.jobs.empty()) return lost;
    ArrayWriter ids;
    ArrayWriter attempts;
    for (const JobAttempt& ja : request.jobs) {
        ids.add(ja.id);
        attempts.add(ja.attempt);
    }
    std::lock_guard lock(impl_->running_rows);
    // Both statements on one connection, the second only when a lease was lost (rarely). It
    // runs after the renewal, not inside it: a cancellation the renewal waited for commits
    // before the second statement's snapshot, which then sees it (the first one's does not).
    // So why each lease is lost comes from the heartbeat's own call, in one round trip when
    // none is.
    impl_->pool.run("heartbeat", [&](pqxx::connection& c) {
        impl_->require_schema(c);
        pqxx::nontransaction tx(c);
        const pqxx::result r = tx.exec_prepared(
            postgres_detail::Statements::name(Sql::heartbeat), std::move(ids).finish(),
            std::move(attempts).finish(), request.worker_id, micros(request.lease_expires_at));
        std::vector<JobId> held;
        held.reserve(r.size());
        for (const pqxx::row& row : r) held.push_back(postgres_detail::RowView(row).int64(0));
        std::sort(held.begin(), held.end());
        ArrayWriter lost_ids;
        std::vector<const JobAttempt*> not_held;
        for (const JobAttempt& ja : request.jobs) {
            if (std::binary_search(held.begin(), held.end(), ja.id)) continue;
            lost_ids.add(ja.id);
            not_held.push_back(&ja);
        }
        if (not_held.empty()) return;
        const pqxx::result why = tx.exec_prepared(
            postgres_detail::Statements::name(Sql::heartbeat_lost), std::move(lost_ids).finish());
        std::unordered_map<JobId, std::pair<std::optional<JobState>, int>> now;
        for (const pqxx::row& row : why) {
            const postgres_detail::RowView v(row);
            if (v.is_null(1)) continue;
            // A state this version does not know is no cancellation of this attempt.
            now[v.int64(0)] = {parse_job_state(v.text(1)).value_or(JobState::running), v.int32(2)};
        }
        for (const JobAttempt* ja : not_held) {
            const auto it = now.find(ja->id);
            lost.push_back(it == now.end()
                               ? LostLease{ja->id, LeaseLoss::missing}
                               : LostLease{ja->id, lease_loss(it->second.first, it->second.second,
                                                              ja->attempt)});
        }
    });
    return lost;
}

std::vector<bool> PostgresStore::complete(std::span<const Outcome> outcomes) {
    std::vector<bool> applied(outcomes.size(), false);
    if (outcomes.empty()) return applied;
    for (const Outcome& o : outcomes) detail::outcome_state(o);  // rejects unknown kinds

    // What the applied outcomes free: the (scope, name) of each of their jobs' limit rows,
    // and the jobs' queues; how many of the rows were full.
    ArrayWriter freed_scopes, freed_names;
    std::vector<std::string> queues;
    std::int64_t freed = 0;

    // The arrays of one round (see Sql::complete); ordinals are 1-based positions in it.
    auto run_round = [&](auto& exec, const std::vector<std::size_t>& round, bool release) {
        ArrayWriter id, attempt, worker, expired_by, state, run_at, finished_at, result, error,
            refund;
        for (const std::size_t i : round) {
            const Outcome& o = outcomes[i];
            id.add(o.id);
            attempt.add(o.attempt);
            worker.add(o.worker_id);
            expired_by.add(o.only_if_lease_expired_by
                               ? std::optional<std::int64_t>(micros(*o.only_if_lease_expired_by))
                               : std::nullopt);
            state.add(detail::outcome_state(o));
            const bool moves = o.kind == OutcomeKind::retry || o.kind == OutcomeKind::snooze;
            run_at.add(moves ? std::optional<std::int64_t>(micros(o.run_at)) : std::nullopt);
            finished_at.add(detail::outcome_is_terminal(o.kind)
                                ? std::optional<std::int64_t>(micros(o.at))
                                : std::nullopt);
            result.add_text_or_null(o.result);
            if (o.error) {
                error.add(detail::encode_error(*o.error));
            } else {
                error.add_null();
            }
            refund.add(o.refund_attempt ? 1 : 0);
        }
        const pqxx::result r = exec(
            Sql::complete, std::move(id).finish(), std::move(attempt).finish(),
            std::move(worker).finish(), std::move(expired_by).finish(), std::move(state).finish(),
            std::move(run_at).finish(), std::move(finished_at).finish(), std::move(result).finish(),
            std::move(error).finish(), std::move(refund).finish(), release);
        for (const pqxx::row& row : r) {
            const postgres_detail::RowView v(row);
            const auto ord = static_cast<std::size_t>(v.int64(0));
            if (ord >= 1 && ord <= round.size()) applied[round[ord - 1]] = true;
            const std::string_view queue = v.text(1);
            if (std::find(queues.begin(), queues.end(), queue) == queues.end()) {
                queues.emplace_back(queue);
            }
            freed = std::max(freed, v.int64(4));
            if (release) continue;
            // The rows the job held (jobq/backend/limit_release.hpp); the one-round path's
            // statement names the same three in SQL.
            for (const LimitScope& scope :
                 held_scopes(queue, v.text(2), v.is_null(3) ? std::string_view{} : v.text(3))) {
                freed_scopes.add(to_string(scope.type));
                freed_names.add(scope.name);
            }
        }
    };

    const auto rounds = rounds_of(outcomes);
    // Jobs of workflows release or cancel what waits for them in the same transaction.
    const bool workflows = std::any_of(outcomes.begin(), outcomes.end(), [](const Outcome& o) {
        return o.workflow_id != 0 && detail::outcome_is_terminal(o.kind);
    });
    postgres_detail::WorkflowEffects effects;
    std::lock_guard lock(impl_->running_rows);
    if (rounds.size() == 1 && !workflows) {
        // One statement, limit rows included: the common path is one round trip.
        auto exec = [this](Sql id, auto&&... args) {
            return impl_->exec("complete", id, std::forward<decltype(args)>(args)...);
        };
        run_round(exec, rounds.front(), true);
    } else {
        impl_->transact("complete", [&](pqxx::work& work, auto& exec) {
            // The limit rows once, after every job row: a transaction that holds limit rows
            // never waits for a job row (that is what keeps claims, completions and cancels
            // free of deadlocks). The jobs a workflow job releases are job rows too: before.
            // One round gives its limit rows back in its own statement, as the plain path
            // does (it takes no limit row lock: see release_running in statements.cpp).
            const bool one_round = rounds.size() == 1;
            for (const auto& round : rounds) run_round(exec, round, one_round);
            if (workflows) {
                std::vector<std::pair<JobId, DependencyEnd>> ended;
                Timestamp now{};
                for (std::size_t i = 0; i < outcomes.size(); ++i) {
                    const Outcome& o = outcomes[i];
                    if (!applied[i] || o.workflow_id == 0 || !detail::outcome_is_terminal(o.kind)) {
                        continue;
                    }
                    ended.emplace_back(o.id, dependency_end_of(o.kind));
                    effects.touched.insert(o.workflow_id);
                    if (o.kind == OutcomeKind::discard) effects.discarded.insert(o.workflow_id);
                    now = std::max(now, o.at);
                }
                const postgres_detail::Tx tx{work, impl_->sql, true, nullptr,
                                             impl_->options.schema};
                postgres_detail::release_in(tx, std::move(ended), now, effects);
                postgres_detail::settle_in(tx, effects, now);
            }
            if (!one_round && !queues.empty()) {
                const pqxx::result r = exec(Sql::release_running, std::move(freed_scopes).finish(),
                                            std::move(freed_names).finish());
                freed = postgres_detail::RowView(r[0]).int64(0);
            }
            work.commit();
            return 0;
        });
    }
    for (const std::string& queue : effects.queues) impl_->notifier->notify(queue);
    // A slot came free under a cap that was full: whoever waits for one may claim now. (Under
    // limits that do not bind, completions wake nobody: each wake-up is a NOTIFY and a claim.)
    if (freed > 0) {
        for (const std::string& queue : queues) impl_->notifier->notify(queue);
    }
    return applied;
}

// ---- inspection ---------------------------------------------------------------------------

std::optional<Job> PostgresStore::get(JobId id) {
    const pqxx::result r = impl_->exec("get", Sql::get, id);
    if (r.empty()) return std::nullopt;
    return read_job(r[0]);
}

JobPage PostgresStore::list(const JobFilter& filter) {
    if (filter.limit < 1) {
        throw Error(ErrorCode::invalid_argument,
                    fmt::format("limit: must be at least 1 (got {})", filter.limit), "limit");
    }
    std::string states;
    if (!filter.states.empty()) {
        ArrayWriter w;
        for (const JobState s : filter.states) w.add(to_string(s));
        states = std::move(w).finish();
    }
    const pqxx::result r =
        impl_->exec("list", Sql::list, filter.before_id.value_or(std::numeric_limits<JobId>::max()),
                    text_or_null(states), text_or_null(filter.queue), text_or_null(filter.kind),
                    text_or_null(filter.tenant), static_cast<std::int64_t>(filter.limit) + 1,
                    text_or_null(filter.tag),
                    filter.finished_after ? std::optional<std::int64_t>(micros(*filter.finished_after))
                                          : std::nullopt,
                    filter.finished_before
                        ? std::optional<std::int64_t>(micros(*filter.finished_before))
                        : std::nullopt);
    JobPage page;
    page.jobs.reserve(std::min<std::size_t>(r.size(), static_cast<std::size_t>(filter.limit)));
    for (const pqxx::row& row : r) {
        // One row more than asked says whether another page follows.
        if (page.jobs.size() == static_cast<std::size_t>(filter.limit)) {
            page.next_before_id = page.jobs.back().id;
            break;
        }
        page.jobs.push_back(read_job(row));
    }
    return page;
}

std::vector<QueueStats> PostgresStore::stats(Timestamp now) {
    const pqxx::result r = impl_->exec("stats", Sql::stats, micros(now));
    std::vector<QueueStats> result;
    for (const pqxx::row& row : r) {
        const postgres_detail::RowView v(row);
        const std::string_view queue = v.text(0);
        if (result.empty() || result.back().queue != queue) result.emplace_back().queue = queue;
        QueueStats& qs = result.back();
        if (const auto state = parse_job_state(v.text(1))) {
            qs.counts[static_cast<std::size_t>(*state)] += v.int64(2);
        }
        if (!v.is_null(3)) {
            const Timestamp oldest{Duration{v.int64(3)}};
            if (!qs.oldest_runnable_since || oldest < *qs.oldest_runnable_since) {
                qs.oldest_runnable_since = oldest;
            }
        }
    }
    return result;
}

std::vector<Job> PostgresStore::expired_leases(Timestamp now, int limit) {
    std::vector<Job> jobs;
    if (limit <= 0) return jobs;
    const pqxx::result r = impl_->exec("expired_leases", Sql::expired_leases, micros(now), limit);
    jobs.reserve(r.size());
    for (const pqxx::row& row : r) jobs.push_back(read_job(row));
    return jobs;
}

std::optional<Timestamp> PostgresStore::next_run_at(std::span<const std::string> queues) {
    const std::string names = queues.empty() ? std::string() : postgres_detail::text_array(queues);
    const pqxx::result r = impl_->exec("next_run_at", Sql::next_run_at, text_or_null(names));
    if (r.empty()) return std::nullopt;
    return Timestamp{Duration{postgres_detail::RowView(r[0]).int64(0)}};
}

// ---- operator actions and maintenance ----------------------------------------------------

ChangeResult PostgresStore::cancel(JobId id, Timestamp now) {
    ChangeResult result;
    bool was_running = false;
    postgres_detail::WorkflowEffects effects;
    impl_->transact("cancel", [&](pqxx::work& work, auto& exec) {
        const pqxx::result r = exec(Sql::cancel, id, micros(now));
        if (!r.empty()) {
            const int columns = static_cast<int>(r.columns());
            result.job = read_job(r[0]);
            result.changed = r[0][columns - 1].as<bool>();
            was_running = result.changed && r[0][columns - 2].as<bool>();
            if (result.changed && result.job->workflow_id != 0) {
                // What waits for it is cancelled (or released) in the same transaction.
                const postgres_detail::Tx tx{work, impl_->sql, true, nullptr,
                                             impl_->options.schema};
                effects.touched.insert(result.job->workflow_id);
                postgres_detail::release_in(tx, {{id, DependencyEnd::cancelled}}, now, effects);
                postgres_detail::settle_in(tx, effects, now);
            }
        }
        work.commit();
        return 0;
    });
    if (was_running) {
        // It was running: its worker (in whichever process) stops it, and its slot is free.
        impl_->notifier->notify_cancelled(id);
        impl_->notifier->notify(result.job->queue);
    }
    for (const std::string& q : effects.queues) impl_->notifier->notify(q);
    return result;
}

ChangeResult PostgresStore::retry(JobId id, Timestamp now) {
    {
        const pqxx::result r = impl_->exec("retry", Sql::get, id);
        if (!r.empty() && !postgres_detail::RowView(r[0]).is_null(detail::c_workflow_id)) {
            // A workflow's job: a rerun from it, so what waits on it runs again too; a pending
            // job waits for its dependencies, whatever an operator asks.
            const Job job = read_job(r[0]);
            ChangeResult result;
            if (job.state == JobState::discarded || job.state == JobState::cancelled) {
                result.changed = rerun_workflow(job.workflow_id, id, now).value_or(0) > 0;
            }
            result.job = get(id);
            return result;
        }
    }
    ChangeResult result = impl_->change_one("retry", Sql::retry, id, now);
    if (result.changed) impl_->notifier->notify(result.job->queue);
    return result;
}

ChangeResult PostgresStore::remove(JobId id) {
    const pqxx::result r = impl_->exec("remove", Sql::get, id);
    if (r.empty() || postgres_detail::RowView(r[0]).is_null(detail::c_workflow_id)) {
        return impl_->change_one("remove", Sql::remove, id, std::nullopt);
    }
    // A workflow's job: those waiting for it judge its removal as a cancellation first.
    postgres_detail::WorkflowEffects effects;
    const Timestamp now = system_clock().now();
    ChangeResult result = impl_->transact("remove", [&](pqxx::work& work, auto& exec) {
        const postgres_detail::Tx tx{work, impl_->sql, true, nullptr, impl_->options.schema};
        const pqxx::result job = exec(Sql::get, id);
        ChangeResult out;
        if (job.empty()) return out;
        out.job = read_job(job[0]);
        if (out.job->state == JobState::running) return out;
        if (!is_terminal(out.job->state)) {
            postgres_detail::release_in(tx, {{id, DependencyEnd::removed}}, now, effects);
        }
        exec(Sql::job_delete_edges, id);
        const pqxx::result removed = exec(Sql::remove, id);
        const int columns = static_cast<int>(removed.columns());
        out.changed = !removed.empty() && removed[0][columns - 1].as<bool>();
        effects.touched.insert(out.job->workflow_id);
        postgres_detail::settle_in(tx, effects, now);
        work.commit();
        return out;
    });
    for (const std::string& q : effects.queues) impl_->notifier->notify(q);
    return result;
}

std::int64_t PostgresStore::replay_discarded(const JobFilter& filter, Timestamp now) {
    const pqxx::result r = impl_->exec(
        "replay_discarded", Sql::replay_discarded, text_or_null(filter.queue),
        text_or_null(filter.kind), text_or_null(filter.tenant), micros(now), impl_->sql.channel());
    std::int64_t count = postgres_detail::RowView(r[0]).int64(0);
    // A workflow's job reruns with what waits on it.
    const pqxx::result of =
        impl_->exec("replay_discarded", Sql::wf_discarded_of, text_or_null(filter.queue),
                    text_or_null(filter.kind), text_or_null(filter.tenant));
    for (const pqxx::row& row : of) {
        const postgres_detail::RowView v(row);
        count += rerun_workflow(v.int64(1), v.int64(0), now).value_or(0) > 0;
    }
    return count;
}

std::int64_t PostgresStore::promote_due(Timestamp now) {
    const pqxx::result r =
        impl_->exec("promote_due", Sql::promote_due, micros(now), impl_->sql.channel());
    return postgres_detail::RowView(r[0]).int64(0);
}

std::int64_t PostgresStore::prune(const PruneRequest& request) {
    const std::pair<JobState, std::optional<Timestamp>> cutoffs[] = {
        {JobState::completed, request.completed_before},
        {JobState::cancelled, request.cancelled_before},
        {JobState::discarded, request.discarded_before},
    };
    std::int64_t deleted = 0;
    // A finished workflow goes whole (workflow_prunable); the latest cutoff bounds the
    // candidates.
    const std::optional<Timestamp> latest = latest_prune_cutoff(request);
    if (latest && request.limit > 0) {
        const pqxx::result r =
            impl_->exec("prune", Sql::wf_prune_candidates, micros(*latest), request.limit);
        for (const pqxx::row& row : r) {
            const postgres_detail::RowView v(row);
            const WorkflowId id = v.int64(0);
            const Timestamp finished{Duration{v.int64(1)}};
            std::vector<JobState> states;
            for (const pqxx::row& st : impl_->exec("prune", Sql::wf_distinct_states, id)) {
                states.push_back(parse_job_state(postgres_detail::RowView(st).text(0))
                                     .value_or(JobState::pending));
            }
            if (!workflow_prunable(request, finished, states)) continue;
            deleted += postgres_detail::RowView(impl_->exec("prune", Sql::wf_delete_whole, id)[0])
                           .int64(0);
        }
    }
    for (const auto& [state, before] : cutoffs) {
        if (!before || deleted >= request.limit) continue;
        const pqxx::result r = impl_->exec("prune", Sql::prune, std::string(to_string(state)),
                                           micros(*before), request.limit - deleted);
        deleted += postgres_detail::RowView(r[0]).int64(0);
    }
    // Cron history has a budget of its own: `limit` bounds each kind of row (store.hpp).
    if (request.schedule_runs_before && request.limit > 0) {
        const pqxx::result r = impl_->exec("prune", Sql::schedule_runs_prune,
                                           micros(*request.schedule_runs_before), request.limit);
        deleted += postgres_detail::RowView(r[0]).int64(0);
    }
    return deleted;
}

}  // namespace jobq
