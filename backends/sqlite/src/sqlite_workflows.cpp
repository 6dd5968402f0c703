// Workflows and batches on SQLite: the steps that run inside other transactions
// (workflow_ops.hpp) and SqliteStore's workflow methods. Every write runs under the one write
// lock, so a count read here cannot change before the same transaction acts on it.

#include <algorithm>
#include <limits>
#include <map>
#include <unordered_map>

#include <fmt/format.h>
#include <sqlite3.h>

#include "job_insert.hpp"
#include "job_row.hpp"
#include "jobq/backend/job_columns.hpp"
#include "jobq/error.hpp"
#include "jobq/job_spec.hpp"
#include "store_impl.hpp"
#include "workflow_ops.hpp"

namespace jobq {

namespace sqlite_detail {

namespace {

using Counts = std::array<std::int64_t, all_job_states.size()>;

// The jobs of workflow `id` counted by state.
Counts state_counts(const Db& db, WorkflowId id, std::string_view op) {
    Counts counts{};
    Statement s = db.statement(Sql::wf_state_counts, op);
    s.bind(1, id);
    while (s.step()) {
        if (const auto state = parse_job_state(s.text(0))) {
            counts[static_cast<std::size_t>(*state)] = s.int64(1);
        }
    }
    return counts;
}

DependencyPolicy policy_of(bool ignore) {
    return ignore ? DependencyPolicy::ignore : DependencyPolicy::cancel;
}

// DependencyGraph over the caller's transaction: one statement per job, as SQLite has no
// round trips to save.
class SqliteGraph final : public DependencyGraph {
  public:
    SqliteGraph(const Db& db, Timestamp now, WorkflowEffects& effects)
        : db_(db), now_(now), effects_(effects) {}

    std::vector<DependentEdge> dependents(std::span<const JobId> ended) override {
        std::vector<DependentEdge> edges;
        Statement s = db_.statement(Sql::wf_dependents, "workflow release");
        for (const JobId id : ended) {
            s.bind(1, id);
            while (s.step()) {
                DependentEdge e;
                e.dep = s.int64(0);
                e.dep_step = s.text(1);
                e.job = s.int64(2);
                e.job_step = s.text(3);
                e.job_state = parse_job_state(s.text(4)).value_or(JobState::pending);
                e.on_discarded = policy_of(s.int32(5) != 0);
                e.on_cancelled = policy_of(s.int32(6) != 0);
                edges.push_back(std::move(e));
            }
            s.reset();
        }
        return edges;
    }

    void meet(std::span<const std::pair<JobId, int>> met) override {
        Statement s = db_.statement(Sql::wf_meet, "workflow release");
        std::string pairs = "[";
        for (const auto& [id, n] : met) {
            if (pairs.size() > 1) pairs += ',';
            pairs += '[';
            pairs += std::to_string(id);
            pairs += ',';
            pairs += std::to_string(n);
            pairs += ']';
        }
        pairs += ']';
        s.bind(1, std::string_view{pairs});
        s.bind(2, now_);
        while (s.step()) {
            if (s.text(0) == "available") effects_.add_queue(s.text(1));
        }
        s.reset();
    }

    bool meet_dependents(std::span<const JobId> completed) override {
        std::string ids = "[";
        for (const JobId id : completed) {
            if (ids.size() > 1) ids += ',';
            ids += std::to_string(id);
        }
        ids += ']';
        Statement s = db_.statement(Sql::wf_meet_dependents, "workflow release");
        s.bind(1, std::string_view{ids});
        s.bind(2, now_);
        while (s.step()) {
            if (s.text(0) == "available") effects_.add_queue(s.text(1));
        }
        return true;
    }

    std::vector<JobId> cancel(std::span<const std::pair<JobId, std::string>> jobs) override {
        std::vector<JobId> cancelled;
        Statement s = db_.statement(Sql::wf_cancel_pending, "workflow release");
        for (const auto& [id, error] : jobs) {
            s.bind(1, id);
            s.bind(2, now_);
            s.bind(3, std::string_view{error});
            s.bind(4, std::string_view{"dependency"});
            s.run();
            if (sqlite3_changes(db_.handle) > 0) cancelled.push_back(id);
            s.reset();
        }
        return cancelled;
    }

  private:
    const Db& db_;
    Timestamp now_;
    WorkflowEffects& effects_;
};

// The stored callbacks of a batch, with the callback jobs they fired.
struct StoredWorkflow {
    std::string name;
    WorkflowKind kind = WorkflowKind::workflow;
    WorkflowState state = WorkflowState::running;
    nlohmann::json callbacks;
};

std::optional<StoredWorkflow> read_workflow_row(const Db& db, WorkflowId id, std::string_view op) {
    Statement s = db.statement(Sql::wf_get, op);
    s.bind(1, id);
    if (!s.step()) return std::nullopt;
    StoredWorkflow w;
    w.name = s.text(1);
    w.kind = s.text(2) == "batch" ? WorkflowKind::batch : WorkflowKind::workflow;
    w.state = parse_workflow_state(s.text(3)).value_or(WorkflowState::running);
    w.callbacks = detail::parse_json_column(0, "callbacks", s.text(8));
    return w;
}

// Enqueues the batch callbacks that are due and not fired, recording each as fired.
void fire_callbacks(const Db& db, WorkflowId id, StoredWorkflow& w, const Counts& counts,
                    Timestamp now, WorkflowEffects& effects) {
    const std::vector<std::size_t> due = due_callbacks(w.callbacks, counts);
    if (due.empty()) return;
    std::vector<JobId> failed;
    {
        Statement s = db.statement(Sql::wf_failed_ids, "batch callback");
        s.bind(1, id);
        while (s.step()) failed.push_back(s.int64(0));
    }
    for (const std::size_t i : due) {
        nlohmann::json& cb = w.callbacks[i];
        const NewJob nj = callback_new_job(cb, id, w.name, counts, failed, now);
        Statement find = db.statement(Sql::find_unique, "batch callback");
        Statement ins = db.statement(Sql::insert_job, "batch callback");
        std::vector<std::string_view> queues;
        // No quota check: a full tenant must not make the completion that fired it fail.
        const std::vector<InsertResult> r = insert_jobs(
            db.handle, db.cached, find, ins, std::span<const NewJob>(&nj, 1), queues, false);
        cb["fired_job"] = r.front().id;
        for (const std::string_view q : queues) effects.add_queue(q);
    }
    const std::string text = detail::dump_json(w.callbacks);
    Statement s = db.statement(Sql::wf_set_callbacks, "batch callback");
    s.bind(1, id);
    s.bind(2, std::string_view{text});
    s.run();
}

}  // namespace

Statement Db::statement(Sql id, std::string_view op) const {
    if (cached != nullptr) return cached->statement(id, op);
    return prepare_once(handle, sql_text(id), op);
}

void WorkflowEffects::add_queue(std::string_view queue) {
    if (std::find(queues.begin(), queues.end(), queue) == queues.end()) queues.emplace_back(queue);
}

void release_in(const Db& db, std::vector<std::pair<JobId, DependencyEnd>> ended, Timestamp now,
                WorkflowEffects& effects) {
    if (ended.empty()) return;
    SqliteGraph graph(db, now, effects);
    release_dependents(graph, std::move(ended));
}

void settle_in(const Db& db, WorkflowEffects& effects, Timestamp now,
               std::optional<WorkflowState> forced) {
    for (const WorkflowId id : effects.touched) {
        bool open = false;
        {
            Statement s = db.statement(Sql::wf_open_left, "settle workflow");
            s.bind(1, id);
            open = s.step();
        }
        // The common case, a job of a workflow still under way completed: nothing to settle,
        // and no need to read the workflow's row.
        if (open && effects.discarded.count(id) == 0) continue;
        std::optional<StoredWorkflow> w = read_workflow_row(db, id, "settle workflow");
        if (!w || w->state != WorkflowState::running) continue;
        if (open) {
            // Only any_discarded can be due before the end; look only when it is waiting.
            if (!awaits_discard(w->callbacks)) continue;
            Statement s = db.statement(Sql::wf_discarded_any, "settle workflow");
            s.bind(1, id);
            if (!s.step()) continue;
            s.reset();
            fire_callbacks(db, id, *w, state_counts(db, id, "settle workflow"), now, effects);
            continue;
        }
        const Counts counts = state_counts(db, id, "settle workflow");
        const WorkflowState state = forced.value_or(finished_state(counts));
        {
            Statement s = db.statement(Sql::wf_finish, "settle workflow");
            s.bind(1, id);
            s.bind(2, to_string(state));
            s.bind(3, now);
            s.run();
        }
        fire_callbacks(db, id, *w, counts, now, effects);
    }
}

WorkflowInsert insert_workflow_in(const Db& db, const NewWorkflow& wf,
                                  std::optional<WorkflowId> append_to, WorkflowEffects& effects) {
    const char* op = append_to ? "append_workflow" : "insert_workflow";
    WorkflowInsert out;
    std::vector<WorkflowMember> stored;
    if (append_to) {
        const std::optional<StoredWorkflow> w = read_workflow_row(db, *append_to, op);
        if (!w) {
            throw Error(ErrorCode::not_found, fmt::format("workflow {} does not exist", *append_to),
                        "id");
        }
        if (w->kind == WorkflowKind::batch) refuse_batch_append(*append_to);
        Statement s = db.statement(Sql::wf_members, op);
        s.bind(1, *append_to);
        while (s.step()) {
            stored.push_back({s.int64(0), std::string(s.text(1)),
                              parse_job_state(s.text(2)).value_or(JobState::pending), s.int32(3),
                              s.int32(4)});
        }
        out.id = *append_to;
    } else {
        const std::string callbacks = detail::dump_json(wf.callbacks);
        Statement s = db.statement(Sql::wf_insert, op);
        s.bind(1, std::string_view{wf.name});
        s.bind(2, to_string(wf.kind));
        s.bind_text_or_null(3, wf.tenant);
        s.bind(4, wf.deadline);
        s.bind(5, wf.now);
        s.bind(6, std::string_view{callbacks});
        s.run();
        out.id = sqlite3_last_insert_rowid(db.handle);
    }
    const std::vector<PlacedJob> placed = place_workflow_jobs(wf, stored);
    std::vector<NewJob> jobs;
    jobs.reserve(wf.jobs.size());
    for (std::size_t i = 0; i < wf.jobs.size(); ++i) {
        NewJob job = wf.jobs[i].job;
        job.workflow_id = out.id;
        job.step = wf.jobs[i].step;
        job.open_deps = placed[i].open_deps;
        // A job that starts cancelled goes in pending, then is cancelled with its error by
        // the statement that cancels any other (below).
        job.state = placed[i].cancel_error ? JobState::pending : placed[i].state;
        jobs.push_back(std::move(job));
    }
    std::vector<std::string_view> queues;
    std::vector<InsertResult> ids;
    {
        Statement find = db.statement(Sql::find_unique, op);
        Statement ins = db.statement(Sql::insert_job, op);
        ids = insert_jobs(db.handle, db.cached, find, ins, jobs, queues);
    }
    for (std::size_t i = 0; i < jobs.size(); ++i) {
        if (jobs[i].state == JobState::available) effects.add_queue(jobs[i].queue);
    }
    {
        Statement edge = db.statement(Sql::wf_insert_edge, op);
        for (std::size_t i = 0; i < placed.size(); ++i) {
            for (const PlacedDep& d : placed[i].deps) {
                edge.bind(1, ids[i].id);
                edge.bind(2, d.new_index ? ids[*d.new_index].id : d.stored_id);
                edge.bind(3, d.on_discarded == DependencyPolicy::ignore ? 1 : 0);
                edge.bind(4, d.on_cancelled == DependencyPolicy::ignore ? 1 : 0);
                edge.run();
                edge.reset();
            }
        }
    }
    {
        Statement s = db.statement(Sql::wf_cancel_pending, op);
        for (std::size_t i = 0; i < placed.size(); ++i) {
            if (!placed[i].cancel_error) continue;
            s.bind(1, ids[i].id);
            s.bind(2, wf.now);
            s.bind(3, std::string_view{*placed[i].cancel_error});
            s.bind(4, std::string_view{"dependency"});
            s.run();
            s.reset();
        }
    }
    if (append_to) {
        Statement s = db.statement(Sql::wf_reopen, op);
        s.bind(1, out.id);
        s.run();
    }
    effects.touched.insert(out.id);
    out.job_ids.resize(wf.jobs.size());
    for (std::size_t k = 0; k < wf.spec_index.size() && k < out.job_ids.size(); ++k) {
        out.job_ids[k] = ids[wf.spec_index[k]].id;
    }
    return out;
}

std::optional<std::int64_t> rerun_in(const Db& db, WorkflowId id, std::optional<JobId> root,
                                     Timestamp now, WorkflowEffects& effects) {
    if (!read_workflow_row(db, id, "rerun_workflow")) return std::nullopt;
    std::vector<WorkflowMember> members;
    {
        Statement s = db.statement(Sql::wf_members, "rerun_workflow");
        s.bind(1, id);
        while (s.step()) {
            members.push_back({s.int64(0), std::string(s.text(1)),
                               parse_job_state(s.text(2)).value_or(JobState::pending), s.int32(3),
                               s.int32(4)});
        }
    }
    std::vector<WorkflowEdge> edges;
    {
        Statement s = db.statement(Sql::wf_edges, "rerun_workflow");
        s.bind(1, id);
        while (s.step()) {
            edges.push_back(
                {s.int64(0), s.int64(1), policy_of(s.int32(2) != 0), policy_of(s.int32(3) != 0)});
        }
    }
    const std::vector<RearmedJob> plan = plan_rerun(members, edges, root);
    std::int64_t count = 0;
    {
        Statement s = db.statement(Sql::wf_rearm, "rerun_workflow");
        for (const RearmedJob& r : plan) {
            s.bind(1, r.id);
            s.bind(2, to_string(r.state));
            s.bind(3, r.open_deps);
            s.bind(4, now);
            while (s.step()) {
                ++count;
                if (r.state == JobState::available) effects.add_queue(s.text(0));
            }
            s.reset();
        }
    }
    if (count > 0) {
        Statement s = db.statement(Sql::wf_reopen, "rerun_workflow");
        s.bind(1, id);
        s.run();
    }
    return count;
}

std::int64_t cancel_workflow_in(const Db& db, WorkflowId id, Timestamp now, std::string_view kind,
                                std::string_view message, WorkflowEffects& effects) {
    LimitRelease release;
    {
        Statement s = db.statement(Sql::wf_running_jobs, "cancel_workflow");
        s.bind(1, id);
        while (s.step()) {
            effects.cancelled_running.push_back(s.int64(0));
            release.add(s.text(1), s.text(2), s.text(3));
            effects.add_queue(s.text(1));
        }
    }
    std::int64_t count = 0;
    {
        Statement s = db.statement(Sql::wf_cancel_all, "cancel_workflow");
        s.bind(1, id);
        s.bind(2, now);
        s.bind(3, message);
        s.bind(4, kind);
        s.run();
        count = sqlite3_changes(db.handle);
    }
    if (!effects.cancelled_running.empty() && db.cached != nullptr &&
        db.cached->statement(Sql::any_limits, "cancel_workflow").step()) {
        apply_release(*db.cached, release, "cancel_workflow");
    }
    WorkflowEffects settle;
    settle.touched.insert(id);
    settle_in(db, settle, now, WorkflowState::cancelled);
    for (const std::string& q : settle.queues) effects.add_queue(q);
    return count;
}

void fill_upstream(const Db& db, std::vector<Job>& jobs, std::size_t from) {
    std::unordered_map<JobId, Job*> of_workflow;
    std::string ids = "[";
    for (std::size_t i = from; i < jobs.size(); ++i) {
        if (jobs[i].workflow_id == 0) continue;
        of_workflow.emplace(jobs[i].id, &jobs[i]);
        if (ids.size() > 1) ids += ',';
        ids += std::to_string(jobs[i].id);
    }
    if (of_workflow.empty()) return;  // the plain path: no statement at all
    ids += ']';
    Statement s = db.statement(Sql::wf_upstream, "claim");
    s.bind(1, std::string_view{ids});
    while (s.step()) {
        const auto it = of_workflow.find(s.int64(0));
        if (it == of_workflow.end()) continue;
        UpstreamResult u;
        u.name = s.text(1);
        u.id = s.int64(2);
        u.state = parse_job_state(s.text(3)).value_or(JobState::pending);
        if (!s.is_null(4)) u.result = detail::parse_json_column(u.id, "result", s.text(4));
        u.error = s.text(5);
        it->second->upstream.push_back(std::move(u));
    }
    // In the order of the dependencies' ids, as on every backend.
    for (auto& [id, job] : of_workflow) {
        std::sort(job->upstream.begin(), job->upstream.end(),
                  [](const UpstreamResult& a, const UpstreamResult& b) { return a.id < b.id; });
    }
}

}  // namespace sqlite_detail

// ---- SqliteStore's workflow methods ---------------------------------------------------------

using sqlite_detail::Connection;
using sqlite_detail::Db;
using sqlite_detail::Sql;
using sqlite_detail::Statement;
using sqlite_detail::WorkflowEffects;

namespace {

void announce(SqliteStore::Impl& impl, const WorkflowEffects& effects) {
    for (const JobId id : effects.cancelled_running) impl.notifier->notify_cancelled(id);
    impl.notify(effects.queues);
}

WorkflowSummary read_summary(const Statement& s) {
    WorkflowSummary w;
    w.id = s.int64(0);
    w.name = s.text(1);
    w.kind = s.text(2) == "batch" ? WorkflowKind::batch : WorkflowKind::workflow;
    w.state = parse_workflow_state(s.text(3)).value_or(WorkflowState::running);
    w.tenant = s.text(4);
    w.deadline = s.optional_timestamp(5);
    w.created_at = s.timestamp(6);
    w.finished_at = s.optional_timestamp(7);
    return w;
}

void read_counts(Connection& r, WorkflowSummary& w) {
    Statement s = r.statement(Sql::wf_state_counts, "workflows");
    s.bind(1, w.id);
    while (s.step()) {
        if (const auto state = parse_job_state(s.text(0))) {
            w.counts[static_cast<std::size_t>(*state)] = s.int64(1);
        }
    }
}

}  // namespace

WorkflowInsert SqliteStore::insert_workflow(const NewWorkflow& workflow) {
    WorkflowEffects effects;
    WorkflowInsert out = impl_->transact("insert_workflow", [&](Connection& w) {
        const Db db{w.handle(), &w};
        WorkflowInsert ins = sqlite_detail::insert_workflow_in(db, workflow, std::nullopt, effects);
        sqlite_detail::settle_in(db, effects, workflow.now);
        return ins;
    });
    announce(*impl_, effects);
    return out;
}

WorkflowInsert SqliteStore::append_workflow(WorkflowId id, const NewWorkflow& workflow) {
    WorkflowEffects effects;
    WorkflowInsert out = impl_->transact("append_workflow", [&](Connection& w) {
        const Db db{w.handle(), &w};
        WorkflowInsert ins = sqlite_detail::insert_workflow_in(db, workflow, id, effects);
        sqlite_detail::settle_in(db, effects, workflow.now);
        return ins;
    });
    announce(*impl_, effects);
    return out;
}

std::optional<WorkflowRecord> SqliteStore::workflow(WorkflowId id) {
    return impl_->read_snapshot("workflow", [&](Connection& r) -> std::optional<WorkflowRecord> {
        WorkflowRecord rec;
        {
            Statement s = r.statement(Sql::wf_get, "workflow");
            s.bind(1, id);
            if (!s.step()) return std::nullopt;
            rec.summary = read_summary(s);
            const nlohmann::json cbs = detail::parse_json_column(0, "callbacks", s.text(8));
            for (const nlohmann::json& cb : cbs) {
                BatchCallbackRecord c;
                c.on = cb.value("on", std::string());
                c.job = cb.value("job", nlohmann::json(nullptr));
                const nlohmann::json fired = cb.value("fired_job", nlohmann::json(nullptr));
                if (fired.is_number_integer()) c.fired_job = fired.get<JobId>();
                rec.callbacks.push_back(std::move(c));
            }
        }
        {
            Statement s = r.statement(Sql::wf_jobs, "workflow");
            s.bind(1, id);
            while (s.step()) {
                rec.jobs.push_back(sqlite_detail::read_job(s));
                ++rec.summary.counts[static_cast<std::size_t>(rec.jobs.back().state)];
            }
        }
        {
            Statement s = r.statement(Sql::wf_edges, "workflow");
            s.bind(1, id);
            while (s.step()) {
                rec.edges.push_back({s.int64(0), s.int64(1),
                                     sqlite_detail::policy_of(s.int32(2) != 0),
                                     sqlite_detail::policy_of(s.int32(3) != 0)});
            }
        }
        return rec;
    });
}

WorkflowPage SqliteStore::workflows(const WorkflowFilter& filter) {
    if (filter.limit < 1 || filter.limit > 10000) {
        throw Error(ErrorCode::invalid_argument,
                    fmt::format("limit: must be between 1 and 10000 (got {})", filter.limit),
                    "limit");
    }
    return impl_->read_snapshot("workflows", [&](Connection& r) {
        WorkflowPage page;
        Statement s = r.statement(Sql::wf_list, "workflows");
        s.bind(1, filter.before_id.value_or(std::numeric_limits<WorkflowId>::max()));
        const std::string state = filter.state ? std::string(to_string(*filter.state)) : "";
        const std::string kind = filter.kind ? std::string(to_string(*filter.kind)) : "";
        s.bind_text_or_null(2, state);
        s.bind_text_or_null(3, kind);
        s.bind_text_or_null(4, filter.tenant);
        s.bind(5, static_cast<std::int64_t>(filter.limit) + 1);
        while (s.step()) {
            if (page.workflows.size() == static_cast<std::size_t>(filter.limit)) {
                page.next_before_id = page.workflows.back().id;
                break;
            }
            page.workflows.push_back(read_summary(s));
        }
        s.reset();
        for (WorkflowSummary& w : page.workflows) read_counts(r, w);
        return page;
    });
}

std::optional<std::int64_t> SqliteStore::cancel_workflow(WorkflowId id, Timestamp now) {
    WorkflowEffects effects;
    const std::optional<std::int64_t> count =
        impl_->transact("cancel_workflow", [&](Connection& w) -> std::optional<std::int64_t> {
            const Db db{w.handle(), &w};
            Statement s = w.statement(Sql::wf_get, "cancel_workflow");
            s.bind(1, id);
            if (!s.step()) return std::nullopt;
            s.reset();
            return sqlite_detail::cancel_workflow_in(
                db, id, now, "cancel", fmt::format("workflow {} cancelled", id), effects);
        });
    announce(*impl_, effects);
    return count;
}

std::optional<std::int64_t> SqliteStore::rerun_workflow(WorkflowId id, std::optional<JobId> job,
                                                        Timestamp now) {
    WorkflowEffects effects;
    const std::optional<std::int64_t> count = impl_->transact("rerun_workflow", [&](Connection& w) {
        return sqlite_detail::rerun_in(Db{w.handle(), &w}, id, job, now, effects);
    });
    announce(*impl_, effects);
    return count;
}

std::int64_t SqliteStore::settle_workflows(Timestamp now, int limit) {
    if (limit <= 0) return 0;
    WorkflowEffects effects;
    const std::int64_t changed = impl_->transact("settle_workflows", [&](Connection& w) {
        const Db db{w.handle(), &w};
        std::int64_t n = 0;
        std::vector<WorkflowId> due;
        {
            Statement s = w.statement(Sql::wf_due_deadlines, "settle_workflows");
            s.bind(1, now);
            s.bind(2, limit);
            while (s.step()) due.push_back(s.int64(0));
        }
        for (const WorkflowId id : due) {
            sqlite_detail::cancel_workflow_in(db, id, now, "deadline",
                                              fmt::format("workflow {} passed its deadline", id),
                                              effects);
            ++n;
        }
        WorkflowEffects settle;
        {
            Statement s = w.statement(Sql::wf_unsettled, "settle_workflows");
            s.bind(1, limit);
            while (s.step()) settle.touched.insert(s.int64(0));
        }
        n += static_cast<std::int64_t>(settle.touched.size());
        sqlite_detail::settle_in(db, settle, now);
        for (const std::string& q : settle.queues) effects.add_queue(q);
        return n;
    });
    announce(*impl_, effects);
    return changed;
}

}  // namespace jobq
