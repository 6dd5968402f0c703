#pragma once
// SqliteStore::Impl: the connections and notifier behind a SqliteStore, shared by the files
// that implement its methods (sqlite_store.cpp for jobs, sqlite_schedules.cpp for cron,
// sqlite_flow.cpp for limits, workers and explain).

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

#include "checkpointer.hpp"
#include "connection.hpp"
#include "jobq/backend/notifier.hpp"
#include "jobq/sqlite/sqlite_store.hpp"
#include "schema.hpp"

namespace jobq {

struct SqliteStore::Impl {
    std::string path;
    SqliteOptions options;
    sqlite_detail::Connection writer;
    std::unique_ptr<sqlite_detail::Connection> own_reader;
    sqlite_detail::Connection* reader = nullptr;  // the writer itself for in-memory databases
    std::string file;                             // as SQLite resolved it; empty when in memory
    std::shared_ptr<LocalNotifier> notifier;
    std::atomic<bool> schema_verified{false};
    /// Per queue, the tenant the latest flow claim visited last: the next one starts after it,
    /// so tenants beyond one claim's reach get their turn. Guarded by the writer's mutex;
    /// in memory only, as any starting point is correct.
    std::map<std::string, std::string, std::less<>> tenant_cursors;
    /// Checkpoints the writer's log off the job path; none in memory or read-only. Declared
    /// after `writer`, so it stops watching before the writer closes.
    std::unique_ptr<sqlite_detail::Checkpointer> checkpointer;
    /// The writer may be on synchronous = NORMAL for a claim (transact_claim). Under its mutex.
    bool writer_relaxed = false;

    Impl(std::string p, SqliteOptions o);

    void require_schema(sqlite_detail::Connection& conn) {
        sqlite_detail::require_schema(conn.handle(), schema_verified);
    }

    /// Runs `f(writer)` in one BEGIN IMMEDIATE transaction, holding the writer's lock, the
    /// schema checked first; commits when `f` returns (an early return that wrote nothing
    /// commits nothing) and rolls back when it throws. Returns what `f` returns. The lock is
    /// released before the caller goes on, so it can notify workers that claim at once.
    template <class F>
    auto transact(std::string_view op, F&& f) {
        std::lock_guard lock(writer.mutex());
        return transact_locked(op, f);
    }

    /// As transact(), for a claim alone: under FULL durability its commit does not wait for
    /// the log to reach the disk (synchronous = NORMAL for this transaction). A claim lost to
    /// power loss or an OS crash leaves its jobs as they were, to be claimed again as
    /// at-least-once allows; the crash took the claiming worker with it, so no outcome of
    /// that claim is left to arrive, and the next commit that does sync (an outcome, above
    /// all) syncs the log up to and past the claim. At a trickle that sync is a third of a
    /// job's wait between enqueue and start.
    template <class F>
    auto transact_claim(std::string_view op, F&& f) {
        std::lock_guard lock(writer.mutex());
        if (options.durability != SqliteDurability::full) return transact_locked(op, f);
        writer_relaxed = true;  // before the switch: a failed switch back is retried
        writer.exec("PRAGMA synchronous = NORMAL", op);
        struct Restore {
            Impl& impl;
            ~Restore() {
                // Best effort here; transact_locked() insists before any other transaction.
                if (sqlite3_exec(impl.writer.handle(), "PRAGMA synchronous = FULL", nullptr,
                                 nullptr, nullptr) == SQLITE_OK) {
                    impl.writer_relaxed = false;
                }
            }
        } restore{*this};
        return transact_locked(op, f, true);
    }

    /// Runs `f(reader)` holding the reader's lock, the schema checked first.
    template <class F>
    auto read(F&& f) {
        std::lock_guard lock(reader->mutex());
        require_schema(*reader);
        return f(*reader);
    }

    /// Runs `f(reader)` as read(), inside one read transaction: its reads see one snapshot.
    /// Ends with ROLLBACK, which for a read is the same as COMMIT and cannot fail half-way.
    template <class F>
    auto read_snapshot(std::string_view op, F&& f) {
        return read([&](sqlite_detail::Connection& r) {
            r.exec("BEGIN", op);
            struct End {
                sqlite_detail::Connection& r;
                ~End() { sqlite_detail::rollback_quietly(r.handle()); }
            } end{r};
            return f(r);
        });
    }
    /// transact()'s body, the writer's lock held by the caller. Only a claim alone runs with
    /// the writer relaxed: any other transaction first puts FULL back, or fails before writing.
    template <class F>
    auto transact_locked(std::string_view op, F& f, bool claim_alone = false) {
        if (writer_relaxed && !claim_alone) {
            writer.exec("PRAGMA synchronous = FULL", op);
            writer_relaxed = false;
        }
        require_schema(writer);
        sqlite_detail::Transaction tx(writer, op);
        if constexpr (std::is_void_v<std::invoke_result_t<F&, sqlite_detail::Connection&>>) {
            f(writer);
            tx.commit();
        } else {
            auto result = f(writer);
            tx.commit();
            return result;
        }
    }

    /// Wakes the listeners of each queue. Call it with no connection lock held: a subscriber
    /// that claims at once must not find the writer taken.
    template <class Queues>
    void notify(const Queues& queues) {
        for (const auto& q : queues) notifier->notify(q);
    }

    // An operator action on one job, in one transaction. The statement (id, then `now` when
    // given) returns the job when it applied; otherwise the job is read as it stands, so the
    // caller can tell "no such job" from "not in a state this applies to".
    ChangeResult change_one(sqlite_detail::Sql sql, const char* op, JobId id,
                            std::optional<Timestamp> now);
};

}  // namespace jobq
