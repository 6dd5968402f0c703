// Cron schedule storage of the SqliteStore (sql/002_schedules.sql): the schedules, their
// history, and the exactly-once fire step. Reads go through the reader connection, writes
// through the serialised writer, each write in one BEGIN IMMEDIATE transaction.
#include <mutex>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <sqlite3.h>

#include "connection.hpp"
#include "job_insert.hpp"
#include "jobq/error.hpp"
#include "jobq/sqlite/sqlite_store.hpp"
#include "schedule_row.hpp"
#include "store_impl.hpp"

namespace jobq {

using sqlite_detail::Connection;
using sqlite_detail::Sql;
using sqlite_detail::Statement;
using sqlite_detail::Transaction;

namespace {

void require_name(std::string_view name) {
    if (name.empty()) {
        throw Error(ErrorCode::invalid_argument, "name: must not be empty", "name");
    }
}

// A history entry handed in by the caller belongs to the schedule the request names; one for
// another schedule would be written where nobody asked for it. Empty means "this one".
void require_entry_of(const ScheduleRun& run, std::string_view name, const char* field) {
    if (!run.schedule.empty() && run.schedule != name) {
        throw Error(ErrorCode::invalid_argument,
                    fmt::format("{}: an entry of schedule '{}' in a request for '{}'", field,
                                run.schedule, name),
                    field);
    }
}

bool changed_rows(const Connection& conn) {
    return sqlite3_changes(conn.handle()) > 0;
}

// Steps a statement that selects at most one schedule to its end, so it is done before reset.
std::optional<ScheduleRecord> one_schedule(Statement& s) {
    std::optional<ScheduleRecord> record;
    if (s.step()) record = sqlite_detail::read_schedule(s);
    s.run();
    return record;
}

std::optional<ScheduleRecord> find_schedule(Connection& conn, Sql sql, std::string_view name,
                                            std::string_view op) {
    Statement s = conn.statement(sql, op);
    s.bind(1, name);
    return one_schedule(s);
}

// Inserts `record` with `declared` in place of its own; false when the name is taken.
bool insert_schedule(Connection& w, const ScheduleRecord& record, bool declared,
                     std::string_view op) {
    Statement s = w.statement(Sql::schedule_insert, op);
    s.bind(1, std::string_view{record.name});
    s.bind(2, std::string_view{record.expression});
    s.bind(3, std::string_view{record.zone});
    s.bind(4, std::string_view{record.job});
    s.bind(5, std::string_view{record.misfire});
    s.bind(6, declared ? 1 : 0);
    s.bind(7, record.paused ? 1 : 0);
    s.bind(8, record.cursor);
    s.bind(9, record.created_at);
    s.bind(10, record.updated_at);
    s.run();
    return changed_rows(w);
}

// Replaces the definition of the schedule named in `record`; false when there is none.
bool update_definition(Connection& w, const ScheduleRecord& record, bool declared,
                       Timestamp updated_at, std::string_view op) {
    Statement s = w.statement(Sql::schedule_update, op);
    s.bind(1, std::string_view{record.name});
    s.bind(2, std::string_view{record.expression});
    s.bind(3, std::string_view{record.zone});
    s.bind(4, std::string_view{record.job});
    s.bind(5, std::string_view{record.misfire});
    s.bind(6, declared ? 1 : 0);
    s.bind(7, updated_at);
    s.run();
    return changed_rows(w);
}

// Deletes a schedule with its history; false when there is none.
bool delete_schedule(Connection& w, std::string_view name, std::string_view op) {
    {
        Statement s = w.statement(Sql::schedule_delete, op);
        s.bind(1, name);
        s.run();
        if (!changed_rows(w)) return false;
    }
    Statement s = w.statement(Sql::schedule_delete_runs, op);
    s.bind(1, name);
    s.run();
    return true;
}

bool same_definition(const ScheduleRecord& a, const ScheduleRecord& b) {
    return a.expression == b.expression && a.zone == b.zone && a.job == b.job &&
           a.misfire == b.misfire;
}

// Adds `entry` to the history of `schedule` with the statement schedule_run_insert, unless
// its window is there already.
void insert_run(Statement& s, std::string_view schedule, const ScheduleRun& entry) {
    s.bind(1, schedule);
    s.bind(2, entry.fire_at);
    s.bind(3, sqlite_detail::to_string(entry.outcome));
    if (entry.job_id) {
        s.bind(4, *entry.job_id);
    } else {
        s.bind_null(4);
    }
    s.bind(5, entry.last_fire_at);
    s.bind(6, entry.count);
    s.bind(7, std::string_view{entry.reason});
    s.bind(8, entry.recorded_at);
    s.run();
    s.reset();
}

// A caller's entry for a run of skipped windows as stored: being in the skipped list is what
// makes it one, whatever its own outcome field says.
ScheduleRun as_skipped(const ScheduleRun& entry) {
    ScheduleRun run = entry;
    run.outcome = WindowOutcome::skipped;
    run.job_id.reset();
    return run;
}

}  // namespace

// ---- reads (reader connection) ------------------------------------------------------------

std::vector<ScheduleRecord> SqliteStore::schedules() {
    return impl_->read([](Connection& r) {
        std::vector<ScheduleRecord> records;
        Statement s = r.statement(Sql::schedule_list, "schedules");
        while (s.step()) records.push_back(sqlite_detail::read_schedule(s));
        return records;
    });
}

std::optional<ScheduleRecord> SqliteStore::schedule(std::string_view name) {
    require_name(name);
    return impl_->read(
        [&](Connection& r) { return find_schedule(r, Sql::schedule_get, name, "schedule"); });
}

std::vector<ScheduleRun> SqliteStore::schedule_runs(std::string_view name, int limit) {
    require_name(name);
    if (limit < 1) {
        throw Error(ErrorCode::invalid_argument,
                    fmt::format("limit: must be at least 1 (got {})", limit), "limit");
    }
    return impl_->read([&](Connection& r) {
        std::vector<ScheduleRun> runs;
        Statement s = r.statement(Sql::schedule_runs, "schedule_runs");
        s.bind(1, name);
        s.bind(2, limit);
        while (s.step()) runs.push_back(sqlite_detail::read_schedule_run(s));
        return runs;
    });
}

// ---- changes of the definition (writer connection) ----------------------------------------

bool SqliteStore::add_schedule(const ScheduleRecord& record) {
    require_name(record.name);
    return impl_->transact("add_schedule", [&](Connection& w) {
        return insert_schedule(w, record, record.declared, "add_schedule");
    });
}

bool SqliteStore::update_schedule(const ScheduleRecord& record) {
    require_name(record.name);
    return impl_->transact("update_schedule", [&](Connection& w) {
        return update_definition(w, record, record.declared, record.updated_at, "update_schedule");
    });
}

bool SqliteStore::remove_schedule(std::string_view name) {
    require_name(name);
    return impl_->transact("remove_schedule", [&](Connection& w) {
        return delete_schedule(w, name, "remove_schedule");
    });
}

ScheduleChange SqliteStore::set_schedule_paused(const PauseRequest& request) {
    require_name(request.name);
    const bool resume = !request.paused;
    if (resume && request.skipped)
        require_entry_of(*request.skipped, request.name, "skipped.schedule");
    constexpr std::string_view op = "set_schedule_paused";
    return impl_->transact(op, [&](Connection& w) {
        ScheduleChange change;
        {
            Statement s = w.statement(resume ? Sql::schedule_resume : Sql::schedule_pause, op);
            s.bind(1, std::string_view{request.name});
            s.bind(2, request.now);
            if (resume) s.bind(3, request.resume_cursor);
            s.run();
            change.changed = changed_rows(w);
        }
        // Only the resume that ended the pause records it: a repeated resume must not add a
        // second account of the same windows.
        if (change.changed && resume && request.skipped) {
            Statement s = w.statement(Sql::schedule_run_insert, op);
            insert_run(s, request.name, as_skipped(*request.skipped));
        }
        change.record = find_schedule(w, Sql::schedule_get_for_update, request.name, op);
        return change;
    });
}

ScheduleSync SqliteStore::sync_declared_schedules(std::span<const ScheduleRecord> declared,
                                                  Timestamp now) {
    // Checked before anything is written: with a name twice, which definition wins would
    // depend on the order of the list.
    std::set<std::string_view> names;
    for (const ScheduleRecord& record : declared) {
        require_name(record.name);
        if (!names.insert(record.name).second) {
            throw Error(ErrorCode::invalid_argument,
                        fmt::format("name: schedule '{}' is declared twice", record.name), "name");
        }
    }
    constexpr std::string_view op = "sync_declared_schedules";
    return impl_->transact(op, [&](Connection& w) {
        ScheduleSync sync;
        for (const ScheduleRecord& record : declared) {
            const std::optional<ScheduleRecord> existing =
                find_schedule(w, Sql::schedule_get_for_update, record.name, op);
            if (!existing) {
                insert_schedule(w, record, true, op);
                ++sync.added;
            } else if (!existing->declared || !same_definition(*existing, record)) {
                update_definition(w, record, true, now, op);
                ++sync.updated;
            }
            // An unchanged schedule is not written: updated_at tells operators when the
            // definition last changed, not when the process last started.
        }
        std::vector<std::string> gone;
        {
            Statement s = w.statement(Sql::schedule_declared_names, op);
            while (s.step()) {
                const std::string_view name = s.text(0);
                if (!names.contains(name)) gone.emplace_back(name);
            }
        }
        for (const std::string& name : gone) {
            if (delete_schedule(w, name, op)) ++sync.removed;
        }
        return sync;
    });
}

// ---- the exactly-once step (writer connection) --------------------------------------------

FireResult SqliteStore::fire_schedule(const FireRequest& request) {
    require_name(request.name);
    for (const ScheduleRun& run : request.skipped)
        require_entry_of(run, request.name, "skipped.schedule");
    constexpr std::string_view op = "fire_schedule";
    FireResult result;
    std::vector<std::string_view> queues;
    impl_->transact(op, [&](Connection& w) {
        {
            Statement s = w.statement(Sql::schedule_fire, op);
            s.bind(1, std::string_view{request.name});
            s.bind(2, request.expected_cursor);
            s.bind(3, request.new_cursor);
            s.run();
            // Another scheduler moved the cursor first, or the schedule is paused or gone:
            // nothing was written, nothing more is.
            if (!changed_rows(w)) return;
        }
        result.jobs.reserve(request.windows.size());
        Statement exists = w.statement(Sql::schedule_run_exists, op);
        Statement find = w.statement(Sql::find_unique, op);
        Statement ins = w.statement(Sql::insert_job, op);
        Statement run = w.statement(Sql::schedule_run_insert, op);
        for (const WindowJob& window : request.windows) {
            exists.bind(1, std::string_view{request.name});
            exists.bind(2, window.fire_at);
            const bool handled = exists.step();
            exists.reset();
            if (handled) {
                result.jobs.push_back(InsertResult{0, false});
                continue;
            }
            // The same code path as insert(), so a window's job coalesces by its unique key
            // exactly as any other insert would. Tenant quotas bind enqueues only: a refused
            // window would hold the cursor, and every later window, until the tenant drained.
            const InsertResult job = sqlite_detail::insert_jobs(
                w.handle(), &w, find, ins, std::span<const NewJob>(&window.job, 1), queues,
                /*quotas=*/false)[0];
            result.jobs.push_back(job);
            ScheduleRun entry;
            entry.fire_at = window.fire_at;
            entry.outcome = WindowOutcome::enqueued;
            entry.job_id = job.id;
            entry.last_fire_at = window.fire_at;
            entry.count = 1;
            entry.recorded_at = request.now;
            insert_run(run, request.name, entry);
        }
        for (const ScheduleRun& skipped : request.skipped) {
            insert_run(run, request.name, as_skipped(skipped));
        }
        result.applied = true;
    });
    // After the lock is released, as insert() does: a woken worker claims through the writer.
    impl_->notify(queues);
    return result;
}

}  // namespace jobq
