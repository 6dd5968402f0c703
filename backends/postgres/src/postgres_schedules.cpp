// Cron schedules of the PostgresStore: the schedules with their cursors, the history of their
// windows, and fire_schedule, the step that makes each window fire once across processes.
#include "jobq/postgres/postgres_store.hpp"

#include <array>
#include <functional>
#include <set>
#include <unordered_set>

#include <fmt/format.h>

#include "jobq/error.hpp"
#include "store_impl.hpp"

namespace jobq {

using postgres_detail::ArrayWriter;
using postgres_detail::from_micros;
using postgres_detail::micros;
using postgres_detail::RowView;
using postgres_detail::Sql;

namespace {

void require_name(std::string_view name) {
    if (name.empty()) {
        throw Error(ErrorCode::invalid_argument, "name: a schedule name must not be empty", "name");
    }
}

void require_limit(int limit) {
    if (limit < 1) {
        throw Error(ErrorCode::invalid_argument,
                    fmt::format("limit: must be at least 1 (got {})", limit), "limit");
    }
}

// A history entry handed in with a request belongs to the request's schedule; one naming
// another schedule is a caller's mistake that would otherwise be stored under the wrong name.
void require_entry_of(const ScheduleRun& run, std::string_view name, const char* field) {
    if (!run.schedule.empty() && run.schedule != name) {
        throw Error(
            ErrorCode::invalid_argument,
            fmt::format("{}: the entry names schedule '{}', not '{}'", field, run.schedule, name),
            field);
    }
}

std::string_view to_text(WindowOutcome outcome) {
    return outcome == WindowOutcome::enqueued ? "enqueued" : "skipped";
}

WindowOutcome parse_outcome(std::string_view text) {
    if (text == "enqueued") return WindowOutcome::enqueued;
    if (text == "skipped") return WindowOutcome::skipped;
    throw Error(ErrorCode::storage,
                fmt::format("schedule_runs.outcome: '{}' is not an outcome", text));
}

bool read_bool(const RowView& v, int i) {
    return v.text(i) == "t";
}

// A row in schedule_columns order.
ScheduleRecord read_schedule(const pqxx::row& row) {
    const RowView v(row);
    ScheduleRecord r;
    r.name = v.text(0);
    r.expression = v.text(1);
    r.zone = v.text(2);
    r.job = v.text(3);
    r.misfire = v.text(4);
    r.declared = read_bool(v, 5);
    r.paused = read_bool(v, 6);
    r.cursor = from_micros(v.int64(7));
    r.created_at = from_micros(v.int64(8));
    r.updated_at = from_micros(v.int64(9));
    return r;
}

// A row in schedule_run_columns order.
ScheduleRun read_run(const pqxx::row& row) {
    const RowView v(row);
    ScheduleRun r;
    r.schedule = v.text(0);
    r.fire_at = from_micros(v.int64(1));
    r.outcome = parse_outcome(v.text(2));
    if (!v.is_null(3)) r.job_id = v.int64(3);
    r.last_fire_at = from_micros(v.int64(4));
    r.count = v.int64(5);
    r.reason = v.text(6);
    r.recorded_at = from_micros(v.int64(7));
    return r;
}

// The arrays of the history entries one statement writes (see insert_runs in statements.cpp).
class RunBatch {
  public:
    void add(const ScheduleRun& run, Timestamp recorded_at) {
        fire_at_.add(micros(run.fire_at));
        outcome_.add(to_text(run.outcome));
        job_id_.add(run.job_id ? std::optional<std::int64_t>(*run.job_id) : std::nullopt);
        last_fire_at_.add(micros(run.last_fire_at));
        count_.add(run.count);
        reason_.add(run.reason);
        recorded_at_.add(micros(recorded_at));
        ++size_;
    }
    std::size_t size() const { return size_; }

    std::array<std::string, 7> finish() && {
        return {std::move(fire_at_).finish(),    std::move(outcome_).finish(),
                std::move(job_id_).finish(),     std::move(last_fire_at_).finish(),
                std::move(count_).finish(),      std::move(reason_).finish(),
                std::move(recorded_at_).finish()};
    }

  private:
    ArrayWriter fire_at_, outcome_, job_id_, last_fire_at_, count_, reason_, recorded_at_;
    std::size_t size_ = 0;
};

}  // namespace

// ---- reading ------------------------------------------------------------------------------

std::vector<ScheduleRecord> PostgresStore::schedules() {
    const pqxx::result r = impl_->exec("schedules", Sql::schedule_list);
    std::vector<ScheduleRecord> records;
    records.reserve(r.size());
    for (const pqxx::row& row : r) records.push_back(read_schedule(row));
    return records;
}

std::optional<ScheduleRecord> PostgresStore::schedule(std::string_view name) {
    require_name(name);
    const pqxx::result r = impl_->exec("schedule", Sql::schedule_get, std::string(name));
    if (r.empty()) return std::nullopt;
    return read_schedule(r[0]);
}

std::vector<ScheduleRun> PostgresStore::schedule_runs(std::string_view name, int limit) {
    require_name(name);
    require_limit(limit);
    const pqxx::result r =
        impl_->exec("schedule_runs", Sql::schedule_runs_list, std::string(name), limit);
    std::vector<ScheduleRun> runs;
    runs.reserve(r.size());
    for (const pqxx::row& row : r) runs.push_back(read_run(row));
    return runs;
}

// ---- changing schedules -------------------------------------------------------------------

bool PostgresStore::add_schedule(const ScheduleRecord& record) {
    require_name(record.name);
    const pqxx::result r =
        impl_->exec("add_schedule", Sql::schedule_add, record.name, record.expression, record.zone,
                    record.job, record.misfire, record.declared, record.paused,
                    micros(record.cursor), micros(record.created_at), micros(record.updated_at));
    return r.affected_rows() == 1;
}

bool PostgresStore::update_schedule(const ScheduleRecord& record) {
    require_name(record.name);
    const pqxx::result r = impl_->exec("update_schedule", Sql::schedule_update, record.name,
                                       record.expression, record.zone, record.job, record.misfire,
                                       record.declared, micros(record.updated_at));
    return r.affected_rows() == 1;
}

bool PostgresStore::remove_schedule(std::string_view name) {
    require_name(name);
    const std::string names = postgres_detail::text_array(std::array{name});
    return impl_->in_transaction("remove_schedule", [&](auto& exec) {
        if (exec(Sql::schedule_remove, std::string(name)).affected_rows() == 0) return false;
        exec(Sql::schedule_runs_remove, names);
        return true;
    });
}

ScheduleChange PostgresStore::set_schedule_paused(const PauseRequest& request) {
    require_name(request.name);
    if (request.skipped) require_entry_of(*request.skipped, request.name, "skipped.schedule");
    pqxx::result r;
    if (request.paused) {
        r = impl_->exec("pause_schedule", Sql::schedule_pause, request.name, micros(request.now));
    } else {
        // One statement: the history entry is written only if this resume changed the row.
        RunBatch runs;
        if (request.skipped) runs.add(*request.skipped, request.skipped->recorded_at);
        const std::array<std::string, 7> a = std::move(runs).finish();
        const std::optional<std::int64_t> cursor =
            request.resume_cursor ? std::optional<std::int64_t>(micros(*request.resume_cursor))
                                  : std::nullopt;
        r = impl_->exec("resume_schedule", Sql::schedule_resume, request.name, micros(request.now),
                        cursor, a[0], a[1], a[2], a[3], a[4], a[5], a[6]);
    }
    ScheduleChange change;
    if (!r.empty()) {
        change.record = read_schedule(r[0]);
        change.changed = true;
        return change;
    }
    // Unchanged, or no such schedule. Read in a statement of its own: one that waited for a
    // concurrent pause or resume must report the state that one left, which its own snapshot
    // (taken before the wait) would not show.
    change.record = schedule(request.name);
    return change;
}

ScheduleSync PostgresStore::sync_declared_schedules(std::span<const ScheduleRecord> declared,
                                                    Timestamp now) {
    std::set<std::string_view> seen;
    ArrayWriter name, expression, zone, job, misfire, paused, cursor, created_at, updated_at;
    for (const ScheduleRecord& r : declared) {
        require_name(r.name);
        if (!seen.insert(r.name).second) {
            throw Error(ErrorCode::invalid_argument,
                        fmt::format("name: schedule '{}' is declared twice", r.name), "name");
        }
        name.add(r.name);
        expression.add(r.expression);
        zone.add(r.zone);
        job.add(r.job);
        misfire.add(r.misfire);
        paused.add(r.paused ? "t" : "f");
        cursor.add(micros(r.cursor));
        created_at.add(micros(r.created_at));
        updated_at.add(micros(r.updated_at));
    }
    const std::string names = postgres_detail::text_array(seen);
    const std::string expressions = std::move(expression).finish();
    const std::string zones = std::move(zone).finish();
    const std::string jobs = std::move(job).finish();
    const std::string misfires = std::move(misfire).finish();
    const std::string declared_names = std::move(name).finish();
    return impl_->in_transaction("sync_declared_schedules", [&](auto& exec) {
        exec(Sql::schedules_sync_lock, impl_->options.schema);
        ScheduleSync sync;
        sync.added = static_cast<int>(
            exec(Sql::schedules_sync_insert, declared_names, expressions, zones, jobs, misfires,
                 std::move(paused).finish(), std::move(cursor).finish(),
                 std::move(created_at).finish(), std::move(updated_at).finish())
                .size());
        // Sees the rows just added, identical to their declarations: they are not counted.
        sync.updated = static_cast<int>(exec(Sql::schedules_sync_update, declared_names,
                                             expressions, zones, jobs, misfires, micros(now))
                                            .size());
        const pqxx::result removed = exec(Sql::schedules_sync_remove, names);
        sync.removed = static_cast<int>(removed.size());
        if (!removed.empty()) {
            std::vector<std::string> gone;
            gone.reserve(removed.size());
            for (const pqxx::row& row : removed) gone.emplace_back(RowView(row).text(0));
            exec(Sql::schedule_runs_remove, postgres_detail::text_array(gone));
        }
        return sync;
    });
}

// ---- firing -------------------------------------------------------------------------------

FireResult PostgresStore::fire_schedule(const FireRequest& request) {
    require_name(request.name);
    for (const ScheduleRun& run : request.skipped) {
        require_entry_of(run, request.name, "skipped.schedule");
    }
    const std::string& schema = impl_->options.schema;

    // Filled inside the transaction; the jobs are woken after it commits.
    std::vector<std::reference_wrapper<const NewJob>> fresh;
    std::vector<InsertResult> inserted;
    FireResult result;
    result.applied = impl_->transact("fire_schedule", [&](pqxx::work& tx, auto& exec) {
        // A lost compare-and-set ends here with nothing written; this step is never retried,
        // so a window cannot be enqueued by a firer that did not move the cursor.
        if (exec(Sql::schedule_fire, request.name, micros(request.expected_cursor),
                 micros(request.new_cursor))
                .affected_rows() == 0) {
            tx.abort();
            return false;
        }
        // Which windows the history has, in a statement of its own after the cursor moved:
        // its snapshot shows every entry written by whoever held the row before us. (Skipped
        // entries need no look-up: the insert leaves out those already there.)
        std::unordered_set<std::int64_t> taken;
        if (!request.windows.empty()) {
            ArrayWriter windows;
            for (const WindowJob& w : request.windows) windows.add(micros(w.fire_at));
            for (const pqxx::row& row :
                 exec(Sql::schedule_runs_taken, request.name, std::move(windows).finish())) {
                taken.insert(RowView(row).int64(0));
            }
        }

        // The windows to enqueue, each once (a window repeated in the request is taken by its
        // first occurrence), then the skipped entries whose windows are still free.
        std::vector<std::size_t> fresh_index;
        for (std::size_t i = 0; i < request.windows.size(); ++i) {
            if (!taken.insert(micros(request.windows[i].fire_at)).second) continue;
            fresh.emplace_back(request.windows[i].job);
            fresh_index.push_back(i);
        }
        inserted = postgres_detail::insert_jobs(exec, fresh, schema, nullptr);
        result.jobs.assign(request.windows.size(), InsertResult{});
        RunBatch runs;
        for (std::size_t k = 0; k < fresh.size(); ++k) {
            const WindowJob& w = request.windows[fresh_index[k]];
            result.jobs[fresh_index[k]] = inserted[k];
            ScheduleRun entry;
            entry.fire_at = w.fire_at;
            entry.outcome = WindowOutcome::enqueued;
            entry.job_id = inserted[k].id;
            entry.last_fire_at = w.fire_at;
            entry.count = 1;
            runs.add(entry, request.now);
        }
        for (const ScheduleRun& run : request.skipped) {
            if (taken.insert(micros(run.fire_at)).second) runs.add(run, request.now);
        }
        if (runs.size() > 0) {
            const std::array<std::string, 7> a = std::move(runs).finish();
            exec(Sql::schedule_runs_insert, request.name, a[0], a[1], a[2], a[3], a[4], a[5], a[6]);
        }
        tx.commit();
        return true;
    });
    if (result.applied) impl_->wake_inserted(fresh, inserted);
    return result;
}

}  // namespace jobq
