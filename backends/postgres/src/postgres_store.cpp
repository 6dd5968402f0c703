#include "jobq/postgres/postgres_store.hpp"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <limits>
#include <tuple>
#include <unordered_map>

#include <fmt/format.h>
#include <pqxx/nontransaction>
#include <pqxx/result>
#include <pqxx/transaction>

#include "connection_pool.hpp"
#include "job_row.hpp"
#include "jobq/detail/job_columns.hpp"
#include "jobq/error.hpp"
#include "listener.hpp"
#include "pg_array.hpp"
#include "schema.hpp"
#include "statements.hpp"
#include "vacuumer.hpp"

namespace jobq {

using postgres_detail::ArrayWriter;
using postgres_detail::ConnectionPool;
using postgres_detail::read_job;
using postgres_detail::Sql;
using postgres_detail::Statements;

namespace {

std::int64_t micros(Timestamp t) {
    return t.time_since_epoch().count();
}

// NULL for an empty string: how jobq's optional text fields and "any" filters are sent.
const char* text_or_null(const std::string& s) {
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
        ++size_;
    }
    std::size_t size() const { return size_; }

    // Runs the insert through `exec(Sql, args...)`; the new ids in the order jobs were added.
    template <class Exec>
    std::vector<JobId> run(Exec&& exec, const char* channel) && {
        const pqxx::result r =
            exec(Sql::insert_jobs, std::move(kind_).finish(), std::move(queue_).finish(),
                 std::move(tenant_).finish(), std::move(payload_).finish(),
                 std::move(priority_).finish(), std::move(state_).finish(),
                 std::move(max_attempts_).finish(), std::move(created_at_).finish(),
                 std::move(run_at_).finish(), std::move(timeout_).finish(),
                 std::move(unique_key_).finish(), std::move(tags_).finish(),
                 std::move(retry_policy_).finish(), channel);
        std::vector<JobId> ids;
        ids.reserve(r.size());
        for (const pqxx::row& row : r) ids.push_back(postgres_detail::RowView(row).int64(0));
        // Identities are drawn in the order the rows are inserted, which is the order of the
        // arrays; RETURNING promises no order, ascending ids restore it.
        std::sort(ids.begin(), ids.end());
        return ids;
    }

  private:
    ArrayWriter kind_, queue_, tenant_, payload_, priority_, state_, max_attempts_, created_at_,
        run_at_, timeout_, unique_key_, tags_, retry_policy_;
    std::size_t size_ = 0;
};

// Inserts `jobs` through `exec`, in order. Jobs without a unique key go in multi-row
// statements; each unique job is looked up and inserted under its advisory lock, which
// needs `exec` to run inside a transaction when any job is unique.
template <class Exec>
std::vector<InsertResult> insert_jobs(Exec&& exec, std::span<const NewJob> jobs,
                                      const std::string& schema, const char* channel) {
    std::vector<InsertResult> results;
    results.reserve(jobs.size());
    InsertBatch batch;
    auto flush = [&] {
        if (batch.size() == 0) return;
        for (const JobId id : std::move(batch).run(exec, channel)) results.push_back({id, false});
        batch = InsertBatch{};
    };
    for (const NewJob& job : jobs) {
        if (job.unique_key.empty()) {
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
            results.push_back({postgres_detail::RowView(found[0]).int64(0), true});
            continue;
        }
        batch.add(job);
        flush();
    }
    flush();
    return results;
}

bool any_unique(std::span<const NewJob> jobs) {
    return std::any_of(jobs.begin(), jobs.end(),
                       [](const NewJob& j) { return !j.unique_key.empty(); });
}

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

struct PostgresStore::Impl {
    std::string conninfo;
    PostgresOptions options;
    Statements sql;
    postgres_detail::Vacuumer vacuumer;
    ConnectionPool pool;
    std::unique_ptr<postgres_detail::PgNotifier> notifier;
    std::atomic<bool> schema_verified{false};
    // Held around heartbeats and outcomes. A worker sends both from different threads, for
    // the same running rows, and two multi-row UPDATEs that lock shared rows in different
    // orders deadlock (seen under load: a one-second stall, then a retry). Heartbeats are
    // rare, so taking turns costs nothing measurable.
    std::mutex running_rows;

    Impl(std::string info, PostgresOptions o)
        : conninfo(postgres_detail::with_connect_timeout(std::move(info), o.connect_timeout)),
          options(std::move(o)),
          sql(options.schema),
          vacuumer(conninfo, options.schema, options.vacuum_after_claims),
          pool(conninfo, options.pool_size, [this](pqxx::connection& c) {
              // Every statement here has one good plan whatever its parameters (an ordered
              // index walk, a key lookup, a batch joined by id); re-planning each execution,
              // as PostgreSQL does for a prepared statement's first runs, costs more than
              // the claim itself (measured: about 20% of claim+complete throughput). A
              // generic plan on a large table is costed high enough to be JIT-compiled,
              // which took 17 ms of a 0.2 ms claim with 1M jobs queued: no JIT for OLTP.
              pqxx::nontransaction(c).exec(
                  "SET plan_cache_mode = force_generic_plan; SET jit = off");
              // Registered here, prepared by libpqxx on first use.
              for (std::size_t i = 0; i < postgres_detail::sql_count; ++i) {
                  const auto id = static_cast<Sql>(i);
                  c.prepare(Statements::name(id), sql.text(id));
              }
          }) {
        notifier = std::make_unique<postgres_detail::PgNotifier>(conninfo, sql.channel());
    }

    void require_schema(pqxx::connection& c) {
        if (schema_verified.load(std::memory_order_relaxed)) return;
        postgres_detail::check_schema_version(
            postgres_detail::read_schema_version(c, options.schema));
        schema_verified.store(true, std::memory_order_relaxed);
    }

    // One statement on its own (autocommit: one round trip), after the schema check.
    template <class... Args>
    pqxx::result exec(std::string_view op, Sql id, Args&&... args) {
        return pool.run(op, [&](pqxx::connection& c) {
            require_schema(c);
            pqxx::nontransaction tx(c);
            return tx.exec_prepared(Statements::name(id), std::forward<Args>(args)...);
        });
    }

    // Runs `f(exec)` in one transaction, where exec(Sql, args...) runs a prepared statement.
    template <class F>
    auto in_transaction(std::string_view op, F&& f) {
        return pool.run(op, [&](pqxx::connection& c) {
            require_schema(c);
            pqxx::work tx(c);
            auto exec = [&tx](Sql id, auto&&... args) {
                return tx.exec_prepared(Statements::name(id),
                                        std::forward<decltype(args)>(args)...);
            };
            auto result = f(exec);
            tx.commit();
            return result;
        });
    }

    ChangeResult change_one(std::string_view op, Sql id, JobId job, std::optional<Timestamp> now) {
        const pqxx::result r = now ? exec(op, id, job, micros(*now)) : exec(op, id, job);
        ChangeResult result;
        if (r.empty()) return result;
        result.job = read_job(r[0]);
        result.changed = r[0][static_cast<int>(r.columns()) - 1].as<bool>();
        return result;
    }
};

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
    std::vector<InsertResult> results;
    if (!any_unique(jobs)) {
        // One statement: the common path is one round trip and one commit.
        auto exec = [this](Sql id, auto&&... args) {
            return impl_->exec("insert", id, std::forward<decltype(args)>(args)...);
        };
        results = insert_jobs(exec, jobs, schema, nullptr);
    } else {
        results = impl_->in_transaction(
            "insert", [&](auto& exec) { return insert_jobs(exec, jobs, schema, nullptr); });
    }
    // After the commit, so a woken worker finds the jobs.
    std::vector<std::string_view> woken;
    for (std::size_t i = 0; i < jobs.size(); ++i) {
        const NewJob& job = jobs[i];
        if (results[i].duplicate || job.state != JobState::available) continue;
        if (std::find(woken.begin(), woken.end(), job.queue) == woken.end()) {
            woken.push_back(job.queue);
        }
    }
    for (const std::string_view queue : woken) impl_->notifier->notify(queue);
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
    try {
        // The NOTIFY goes with the caller's commit, so nobody is woken for a rollback.
        return insert_jobs(exec, jobs, impl_->options.schema, impl_->sql.channel().c_str());
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

std::vector<Job> PostgresStore::claim(const ClaimRequest& request) {
    ArrayWriter queues;
    ArrayWriter limits;
    std::vector<std::string_view> order;
    for (const QueueDemand& d : request.queues) {
        if (d.limit <= 0) continue;
        queues.add(d.queue);
        limits.add(d.limit);
        order.push_back(d.queue);
    }
    if (order.empty()) return {};
    const pqxx::result r =
        impl_->exec("claim", Sql::claim, std::move(queues).finish(), std::move(limits).finish(),
                    micros(request.now), request.worker_id, micros(request.lease_expires_at));
    std::vector<Job> jobs;
    jobs.reserve(r.size());
    for (const pqxx::row& row : r) jobs.push_back(read_job(row));
    impl_->vacuumer.rows_claimed(static_cast<std::int64_t>(jobs.size()));
    // Callers get each queue's jobs together, in the request's queue order, in claim order.
    auto rank = [&order](const Job& j) {
        return std::find(order.begin(), order.end(), j.queue) - order.begin();
    };
    std::sort(jobs.begin(), jobs.end(), [&](const Job& a, const Job& b) {
        return std::make_tuple(rank(a), a.priority, a.run_at, a.id) <
               std::make_tuple(rank(b), b.priority, b.run_at, b.id);
    });
    return jobs;
}

std::vector<JobId> PostgresStore::heartbeat(const HeartbeatRequest& request) {
    std::vector<JobId> lost;
    if (request.jobs.empty()) return lost;
    ArrayWriter ids;
    ArrayWriter attempts;
    for (const JobAttempt& ja : request.jobs) {
        ids.add(ja.id);
        attempts.add(ja.attempt);
    }
    std::lock_guard lock(impl_->running_rows);
    const pqxx::result r = impl_->exec("heartbeat", Sql::heartbeat, std::move(ids).finish(),
                                       std::move(attempts).finish(), request.worker_id,
                                       micros(request.lease_expires_at));
    std::vector<JobId> held;
    held.reserve(r.size());
    for (const pqxx::row& row : r) held.push_back(postgres_detail::RowView(row).int64(0));
    std::sort(held.begin(), held.end());
    for (const JobAttempt& ja : request.jobs) {
        if (!std::binary_search(held.begin(), held.end(), ja.id)) lost.push_back(ja.id);
    }
    return lost;
}

std::vector<bool> PostgresStore::complete(std::span<const Outcome> outcomes) {
    std::vector<bool> applied(outcomes.size(), false);
    if (outcomes.empty()) return applied;
    for (const Outcome& o : outcomes) detail::outcome_state(o);  // rejects unknown kinds

    // The arrays of one round (see Sql::complete); ordinals are 1-based positions in it.
    auto run_round = [&](auto& exec, const std::vector<std::size_t>& round) {
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
            std::move(error).finish(), std::move(refund).finish());
        for (const pqxx::row& row : r) {
            const auto ord = static_cast<std::size_t>(postgres_detail::RowView(row).int64(0));
            if (ord >= 1 && ord <= round.size()) applied[round[ord - 1]] = true;
        }
    };

    const auto rounds = rounds_of(outcomes);
    std::lock_guard lock(impl_->running_rows);
    if (rounds.size() == 1) {
        auto exec = [this](Sql id, auto&&... args) {
            return impl_->exec("complete", id, std::forward<decltype(args)>(args)...);
        };
        run_round(exec, rounds.front());
    } else {
        impl_->in_transaction("complete", [&](auto& exec) {
            for (const auto& round : rounds) run_round(exec, round);
            return 0;
        });
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
                    text_or_null(filter.tenant), static_cast<std::int64_t>(filter.limit) + 1);
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
    return impl_->change_one("cancel", Sql::cancel, id, now);
}

ChangeResult PostgresStore::retry(JobId id, Timestamp now) {
    ChangeResult result = impl_->change_one("retry", Sql::retry, id, now);
    if (result.changed) impl_->notifier->notify(result.job->queue);
    return result;
}

ChangeResult PostgresStore::remove(JobId id) {
    return impl_->change_one("remove", Sql::remove, id, std::nullopt);
}

std::int64_t PostgresStore::replay_discarded(const JobFilter& filter, Timestamp now) {
    const pqxx::result r = impl_->exec(
        "replay_discarded", Sql::replay_discarded, text_or_null(filter.queue),
        text_or_null(filter.kind), text_or_null(filter.tenant), micros(now), impl_->sql.channel());
    return postgres_detail::RowView(r[0]).int64(0);
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
    for (const auto& [state, before] : cutoffs) {
        if (!before || deleted >= request.limit) continue;
        const pqxx::result r = impl_->exec("prune", Sql::prune, std::string(to_string(state)),
                                           micros(*before), request.limit - deleted);
        deleted += postgres_detail::RowView(r[0]).int64(0);
    }
    return deleted;
}

}  // namespace jobq
