#pragma once
// PostgresStore::Impl: the state behind a PostgresStore (connection pool, statements, notifier)
// and the ways a store call reaches the database. Private to the backend; shared by the files
// that implement PostgresStore's methods.

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <pqxx/nontransaction>
#include <pqxx/result>
#include <pqxx/transaction>

#include "connection_pool.hpp"
#include "job_insert.hpp"
#include "job_row.hpp"
#include "jobq/postgres/postgres_store.hpp"
#include "limit_row.hpp"
#include "listener.hpp"
#include "schema.hpp"
#include "statements.hpp"
#include "vacuumer.hpp"

namespace jobq {

struct PostgresStore::Impl {
    using Sql = postgres_detail::Sql;
    using Statements = postgres_detail::Statements;

    std::string conninfo;
    PostgresOptions options;
    Statements sql;
    postgres_detail::Vacuumer vacuumer;
    postgres_detail::ConnectionPool pool;
    std::unique_ptr<postgres_detail::PgNotifier> notifier;
    std::atomic<bool> schema_verified{false};
    // Held around heartbeats and outcomes. A worker sends both from different threads, for
    // the same running rows, and two multi-row UPDATEs that lock shared rows in different
    // orders deadlock (seen under load: a one-second stall, then a retry). Heartbeats are
    // rare, so taking turns costs nothing measurable.
    std::mutex running_rows;
    // Flow claims (postgres_claim.cpp): whether the last look found limit rows, so the next
    // claim goes to the flow path without trying the plain claim first; and per queue the
    // tenant rotation cursor (plan_tenant_visit says how it moves).
    std::atomic<bool> flow_hint{false};
    std::mutex rotation_mutex;
    std::unordered_map<std::string, std::string> rotation;
    // Unbound flow claims (Sql::flow_unbound, one statement): the queues whose last flow claim
    // found their limits far from binding and no tenant among their jobs, and per set of
    // queues claimed together (sorted) the limit rows that claim covers as the last such
    // claim left them, each with its version. Under unbound_mutex.
    std::mutex unbound_mutex;
    // PostgresStore::claim_paths().
    std::atomic<std::uint64_t> claims_plain{0}, claims_unbound{0}, claims_flow{0};
    std::set<std::string, std::less<>> unbound_queues;
    std::map<std::vector<std::string>, std::vector<postgres_detail::VersionedLimit>> unbound_rows;

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

    // Runs `f(tx, exec)` in one transaction that `f` commits itself (left uncommitted, it
    // rolls back); exec(Sql, args...) runs a prepared statement in it. Never retried: a
    // transaction that failed is reported, so nothing in it can be applied twice.
    template <class F>
    auto transact(std::string_view op, F&& f) {
        return pool.run(op, [&](pqxx::connection& c) {
            require_schema(c);
            pqxx::work tx(c);
            auto exec = [&tx](Sql id, auto&&... args) {
                return tx.exec_prepared(Statements::name(id),
                                        std::forward<decltype(args)>(args)...);
            };
            return f(tx, exec);
        });
    }

    // Runs `f(exec)` in one transaction and commits it.
    template <class F>
    auto in_transaction(std::string_view op, F&& f) {
        return transact(op, [&](pqxx::work& tx, auto& exec) {
            auto result = f(exec);
            tx.commit();
            return result;
        });
    }

    // Wakes the workers of the queues that committed inserts made runnable (see
    // queues_to_wake); after the commit, so a woken worker finds the jobs.
    template <class Jobs>
    void wake_inserted(const Jobs& jobs, std::span<const InsertResult> results) {
        for (const std::string_view queue : postgres_detail::queues_to_wake(jobs, results)) {
            notifier->notify(queue);
        }
    }

    ChangeResult change_one(std::string_view op, Sql id, JobId job, std::optional<Timestamp> now) {
        const pqxx::result r =
            now ? exec(op, id, job, postgres_detail::micros(*now)) : exec(op, id, job);
        ChangeResult result;
        if (r.empty()) return result;
        result.job = postgres_detail::read_job(r[0]);
        result.changed = r[0][static_cast<int>(r.columns()) - 1].as<bool>();
        return result;
    }
};

}  // namespace jobq
