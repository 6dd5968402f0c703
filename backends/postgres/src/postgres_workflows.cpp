// Workflows and batches on PostgreSQL: the steps that run inside other transactions
// (workflow_ops.hpp) and PostgresStore's workflow methods.

#include <algorithm>
#include <limits>
#include <unordered_map>

#include <fmt/format.h>

#include "job_insert.hpp"
#include "job_row.hpp"
#include "jobq/backend/job_columns.hpp"
#include "jobq/backend/limit_release.hpp"
#include "jobq/error.hpp"
#include "jobq/job_spec.hpp"
#include "pg_array.hpp"
#include "store_impl.hpp"
#include "workflow_ops.hpp"

namespace jobq {

namespace postgres_detail {

namespace {

using Counts = std::array<std::int64_t, all_job_states.size()>;

DependencyPolicy policy_of(std::string_view boolean) {
    return boolean == "t" ? DependencyPolicy::ignore : DependencyPolicy::cancel;
}

std::string optional_micros(const std::optional<Timestamp>& t) {
    return t ? std::to_string(micros(*t)) : std::string();
}

Counts state_counts(const Tx& tx, WorkflowId id) {
    Counts counts{};
    for (const pqxx::row& row : tx(Sql::wf_state_counts, id)) {
        const RowView v(row);
        if (const auto state = parse_job_state(v.text(0))) {
            counts[static_cast<std::size_t>(*state)] = v.int64(1);
        }
    }
    return counts;
}

class PostgresGraph final : public DependencyGraph {
  public:
    PostgresGraph(const Tx& tx, Timestamp now, WorkflowEffects& effects)
        : tx_(tx), now_(now), effects_(effects) {}

    std::vector<DependentEdge> dependents(std::span<const JobId> ended) override {
        ArrayWriter ids;
        for (const JobId id : ended) ids.add(id);
        std::vector<DependentEdge> edges;
        for (const pqxx::row& row : tx_(Sql::wf_dependents, std::move(ids).finish())) {
            const RowView v(row);
            DependentEdge e;
            e.dep = v.int64(0);
            e.dep_step = v.text(1);
            e.job = v.int64(2);
            e.job_step = v.text(3);
            e.job_state = parse_job_state(v.text(4)).value_or(JobState::pending);
            e.on_discarded = policy_of(v.text(5));
            e.on_cancelled = policy_of(v.text(6));
            edges.push_back(std::move(e));
        }
        return edges;
    }

    void meet(std::span<const std::pair<JobId, int>> met) override {
        ArrayWriter ids, counts;
        for (const auto& [id, n] : met) {
            ids.add(id);
            counts.add(static_cast<std::int64_t>(n));
        }
        const pqxx::result r =
            tx_(Sql::wf_meet, std::move(ids).finish(), std::move(counts).finish(), micros(now_));
        for (const pqxx::row& row : r) {
            const RowView v(row);
            if (v.text(0) == "available") effects_.add_queue(v.text(1));
        }
    }

    bool meet_dependents(std::span<const JobId> completed) override {
        ArrayWriter ids;
        for (const JobId id : completed) ids.add(id);
        for (const pqxx::row& row :
             tx_(Sql::wf_meet_dependents, std::move(ids).finish(), micros(now_))) {
            const RowView v(row);
            if (v.text(0) == "available") effects_.add_queue(v.text(1));
        }
        return true;
    }

    std::vector<JobId> cancel(std::span<const std::pair<JobId, std::string>> jobs) override {
        ArrayWriter ids, errors;
        for (const auto& [id, error] : jobs) {
            ids.add(id);
            errors.add(error);
        }
        std::vector<JobId> cancelled;
        for (const pqxx::row& row : tx_(Sql::wf_cancel_pending, std::move(ids).finish(),
                                        std::move(errors).finish(), micros(now_), "dependency")) {
            cancelled.push_back(RowView(row).int64(0));
        }
        std::sort(cancelled.begin(), cancelled.end());
        return cancelled;
    }

  private:
    const Tx& tx_;
    Timestamp now_;
    WorkflowEffects& effects_;
};

struct StoredWorkflow {
    WorkflowId id = 0;
    std::string name;
    WorkflowKind kind = WorkflowKind::workflow;
    WorkflowState state = WorkflowState::running;
    nlohmann::json callbacks;
};

// A row of wf_get / wf_lock / wf_list (wf_cols).
WorkflowSummary read_summary(const pqxx::row& row) {
    const RowView v(row);
    WorkflowSummary w;
    w.id = v.int64(0);
    w.name = v.text(1);
    w.kind = v.text(2) == "batch" ? WorkflowKind::batch : WorkflowKind::workflow;
    w.state = parse_workflow_state(v.text(3)).value_or(WorkflowState::running);
    w.tenant = v.text(4);
    if (!v.is_null(5)) w.deadline = from_micros(v.int64(5));
    w.created_at = from_micros(v.int64(6));
    if (!v.is_null(7)) w.finished_at = from_micros(v.int64(7));
    return w;
}

StoredWorkflow read_stored(const pqxx::row& row) {
    const WorkflowSummary s = read_summary(row);
    StoredWorkflow w{s.id, s.name, s.kind, s.state, {}};
    w.callbacks = detail::parse_json_column(0, "callbacks", RowView(row).text(8));
    return w;
}

// Enqueues the batch callbacks that are due and not fired, recording each as fired.
void fire_callbacks(const Tx& tx, StoredWorkflow& w, const Counts& counts, Timestamp now,
                    WorkflowEffects& effects) {
    const std::vector<std::size_t> due = due_callbacks(w.callbacks, counts);
    if (due.empty()) return;
    std::vector<JobId> failed;
    for (const pqxx::row& row : tx(Sql::wf_failed_ids, w.id))
        failed.push_back(RowView(row).int64(0));
    for (const std::size_t i : due) {
        nlohmann::json& cb = w.callbacks[i];
        const std::vector<NewJob> nj{callback_new_job(cb, w.id, w.name, counts, failed, now)};
        // No quota check: a full tenant must not make the completion that fired it fail.
        const std::vector<InsertResult> r = insert_jobs(tx, nj, tx.schema, tx.channel);
        cb["fired_job"] = r.front().id;
        if (nj.front().state == JobState::available) effects.add_queue(nj.front().queue);
    }
    tx(Sql::wf_set_callbacks, w.id, detail::dump_json(w.callbacks));
}

}  // namespace

void WorkflowEffects::add_queue(std::string_view queue) {
    if (std::find(queues.begin(), queues.end(), queue) == queues.end()) queues.emplace_back(queue);
}

void release_in(const Tx& tx, std::vector<std::pair<JobId, DependencyEnd>> ended, Timestamp now,
                WorkflowEffects& effects) {
    if (ended.empty()) return;
    PostgresGraph graph(tx, now, effects);
    release_dependents(graph, std::move(ended));
}

void settle_in(const Tx& tx, WorkflowEffects& effects, Timestamp now,
               std::optional<WorkflowState> forced) {
    if (effects.touched.empty()) return;
    // First asked without a lock: a workflow with jobs still to run (the common case, a job of
    // one under way completed) needs nothing more, unless a discard may call a batch back.
    // Only the rest are locked and asked again (sql/005_workflows.sql says why that order
    // settles a workflow exactly once). Two transactions that end its last two jobs at once
    // can each see the other's job unfinished here and both leave it: then the Scheduler
    // settles it within a promote interval (settle_workflows).
    ArrayWriter probe;
    for (const WorkflowId id : effects.touched) probe.add(id);
    std::vector<WorkflowId> still_open;
    for (const pqxx::row& row : tx(Sql::wf_open_left, std::move(probe).finish())) {
        still_open.push_back(RowView(row).int64(0));
    }
    ArrayWriter ids;
    bool any = false;
    for (const WorkflowId id : effects.touched) {
        const bool open = std::find(still_open.begin(), still_open.end(), id) != still_open.end();
        if (open && effects.discarded.count(id) == 0) continue;
        ids.add(id);
        any = true;
    }
    if (!any) return;
    std::vector<StoredWorkflow> rows;
    for (const pqxx::row& row : tx(Sql::wf_lock, std::move(ids).finish())) {
        rows.push_back(read_stored(row));
    }
    ArrayWriter running;
    for (const StoredWorkflow& w : rows) {
        if (w.state == WorkflowState::running) running.add(w.id);
    }
    std::vector<WorkflowId> open;
    for (const pqxx::row& row : tx(Sql::wf_open_left, std::move(running).finish())) {
        open.push_back(RowView(row).int64(0));
    }
    for (StoredWorkflow& w : rows) {
        if (w.state != WorkflowState::running) continue;
        if (std::find(open.begin(), open.end(), w.id) != open.end()) {
            if (!awaits_discard(w.callbacks) || tx(Sql::wf_discarded_any, w.id).empty()) continue;
            fire_callbacks(tx, w, state_counts(tx, w.id), now, effects);
            continue;
        }
        const Counts counts = state_counts(tx, w.id);
        const WorkflowState state = forced.value_or(finished_state(counts));
        tx(Sql::wf_finish, w.id, std::string(to_string(state)), micros(now));
        fire_callbacks(tx, w, counts, now, effects);
    }
}

WorkflowInsert insert_workflow_in(const Tx& tx, const NewWorkflow& wf,
                                  std::optional<WorkflowId> append_to, WorkflowEffects& effects) {
    WorkflowInsert out;
    std::vector<WorkflowMember> stored;
    if (append_to) {
        // Locked: an append and a settle of the same workflow take turns.
        ArrayWriter one;
        one.add(*append_to);
        const pqxx::result w = tx(Sql::wf_lock, std::move(one).finish());
        if (w.empty()) {
            throw Error(ErrorCode::not_found, fmt::format("workflow {} does not exist", *append_to),
                        "id");
        }
        if (read_stored(w[0]).kind == WorkflowKind::batch) refuse_batch_append(*append_to);
        for (const pqxx::row& row : tx(Sql::wf_members, *append_to)) {
            const RowView v(row);
            stored.push_back({v.int64(0), std::string(v.text(1)),
                              parse_job_state(v.text(2)).value_or(JobState::pending), v.int32(3),
                              v.int32(4)});
        }
        out.id = *append_to;
    } else {
        const std::string deadline = optional_micros(wf.deadline);
        const pqxx::result r =
            tx(Sql::wf_insert, wf.name, std::string(to_string(wf.kind)), text_or_null(wf.tenant),
               text_or_null(deadline), micros(wf.now), detail::dump_json(wf.callbacks));
        out.id = RowView(r[0]).int64(0);
    }
    const std::vector<PlacedJob> placed = place_workflow_jobs(wf, stored);
    std::vector<NewJob> jobs;
    jobs.reserve(wf.jobs.size());
    for (std::size_t i = 0; i < wf.jobs.size(); ++i) {
        NewJob job = wf.jobs[i].job;
        job.workflow_id = out.id;
        job.step = wf.jobs[i].step;
        job.open_deps = placed[i].open_deps;
        // A job that starts cancelled goes in pending, then is cancelled with its error by the
        // statement that cancels any other (below).
        job.state = placed[i].cancel_error ? JobState::pending : placed[i].state;
        jobs.push_back(std::move(job));
    }
    std::vector<InsertResult> ids;
    if (!jobs.empty()) {
        const std::string tenants = tenants_of(jobs);
        TenantQuotas quota;
        if (!tenants.empty()) quota = load_quotas(tx, tenants, tx.schema);
        ids = insert_jobs(tx, jobs, tx.schema, tx.channel, nullptr, quota.any() ? &quota : nullptr);
    }
    for (const NewJob& job : jobs) {
        if (job.state == JobState::available) effects.add_queue(job.queue);
    }
    ArrayWriter job_ids, dep_ids, ignore_d, ignore_c;
    bool any_edge = false;
    for (std::size_t i = 0; i < placed.size(); ++i) {
        for (const PlacedDep& d : placed[i].deps) {
            job_ids.add(ids[i].id);
            dep_ids.add(d.new_index ? ids[*d.new_index].id : d.stored_id);
            ignore_d.add(d.on_discarded == DependencyPolicy::ignore ? "t" : "f");
            ignore_c.add(d.on_cancelled == DependencyPolicy::ignore ? "t" : "f");
            any_edge = true;
        }
    }
    if (any_edge) {
        tx(Sql::wf_insert_edges, std::move(job_ids).finish(), std::move(dep_ids).finish(),
           std::move(ignore_d).finish(), std::move(ignore_c).finish());
    }
    ArrayWriter cancel_ids, cancel_errors;
    bool any_cancel = false;
    for (std::size_t i = 0; i < placed.size(); ++i) {
        if (!placed[i].cancel_error) continue;
        cancel_ids.add(ids[i].id);
        cancel_errors.add(*placed[i].cancel_error);
        any_cancel = true;
    }
    if (any_cancel) {
        tx(Sql::wf_cancel_pending, std::move(cancel_ids).finish(),
           std::move(cancel_errors).finish(), micros(wf.now), "dependency");
    }
    if (append_to) tx(Sql::wf_reopen, out.id);
    effects.touched.insert(out.id);
    out.job_ids.resize(wf.jobs.size());
    for (std::size_t k = 0; k < wf.spec_index.size() && k < out.job_ids.size(); ++k) {
        out.job_ids[k] = ids[wf.spec_index[k]].id;
    }
    return out;
}

std::optional<std::int64_t> rerun_in(const Tx& tx, WorkflowId id, std::optional<JobId> root,
                                     Timestamp now, WorkflowEffects& effects) {
    ArrayWriter one;
    one.add(id);
    if (tx(Sql::wf_lock, std::move(one).finish()).empty()) return std::nullopt;
    std::vector<WorkflowMember> members;
    for (const pqxx::row& row : tx(Sql::wf_members, id)) {
        const RowView v(row);
        members.push_back({v.int64(0), std::string(v.text(1)),
                           parse_job_state(v.text(2)).value_or(JobState::pending), v.int32(3),
                           v.int32(4)});
    }
    std::vector<WorkflowEdge> edges;
    for (const pqxx::row& row : tx(Sql::wf_edges, id)) {
        const RowView v(row);
        edges.push_back({v.int64(0), v.int64(1), policy_of(v.text(2)), policy_of(v.text(3))});
    }
    const std::vector<RearmedJob> plan = plan_rerun(members, edges, root);
    if (plan.empty()) return 0;
    ArrayWriter ids, states, open;
    for (const RearmedJob& r : plan) {
        ids.add(r.id);
        states.add(to_string(r.state));
        open.add(static_cast<std::int64_t>(r.open_deps));
    }
    const pqxx::result r = tx(Sql::wf_rearm, std::move(ids).finish(), std::move(states).finish(),
                              std::move(open).finish(), micros(now));
    for (const pqxx::row& row : r) {
        const RowView v(row);
        if (v.text(0) == "available") effects.add_queue(v.text(1));
    }
    if (!r.empty()) tx(Sql::wf_reopen, id);
    return static_cast<std::int64_t>(r.size());
}

std::int64_t cancel_workflow_in(const Tx& tx, WorkflowId id, Timestamp now, std::string_view kind,
                                std::string_view message, WorkflowEffects& effects) {
    const pqxx::result r =
        tx(Sql::wf_cancel_all, id, micros(now), std::string(message), std::string(kind));
    for (const pqxx::row& row : r) {
        const RowView v(row);
        if (v.text(1) != "t") continue;
        effects.cancelled_running.push_back(v.int64(0));
        effects.add_queue(v.text(2));
        for (const LimitScope& scope :
             held_scopes(v.text(2), v.text(3), v.is_null(4) ? std::string_view{} : v.text(4))) {
            effects.freed.push_back(scope);
        }
    }
    WorkflowEffects settle;
    settle.touched.insert(id);
    settle_in(tx, settle, now, WorkflowState::cancelled);
    for (const std::string& q : settle.queues) effects.add_queue(q);
    return static_cast<std::int64_t>(r.size());
}

std::string upstream_ids(const std::vector<Job>& jobs) {
    ArrayWriter ids;
    bool any = false;
    for (const Job& job : jobs) {
        if (job.workflow_id == 0) continue;
        ids.add(job.id);
        any = true;
    }
    return any ? std::move(ids).finish() : std::string();
}

void apply_upstream(const pqxx::result& rows, std::vector<Job>& jobs) {
    std::unordered_map<JobId, Job*> by_id;
    for (Job& job : jobs) by_id.emplace(job.id, &job);
    for (const pqxx::row& row : rows) {
        const RowView v(row);
        const auto it = by_id.find(v.int64(0));
        if (it == by_id.end()) continue;
        UpstreamResult u;
        u.name = v.text(1);
        u.id = v.int64(2);
        u.state = parse_job_state(v.text(3)).value_or(JobState::pending);
        if (!v.is_null(4)) u.result = detail::parse_json_column(u.id, "result", v.text(4));
        u.error = v.text(5);
        it->second->upstream.push_back(std::move(u));
    }
}

}  // namespace postgres_detail

// ---- PostgresStore's workflow methods -------------------------------------------------------

using postgres_detail::ArrayWriter;
using postgres_detail::micros;
using postgres_detail::RowView;
using postgres_detail::Sql;
using postgres_detail::Tx;
using postgres_detail::WorkflowEffects;

namespace {

// Runs `f(tx)` in one of the store's transactions and commits; then announces what it did.
template <class F>
auto in_workflow_tx(PostgresStore::Impl& impl, std::string_view op, WorkflowEffects& effects,
                    F&& f) {
    auto result = impl.transact(op, [&](pqxx::work& work, auto&) {
        const Tx tx{work, impl.sql, true, nullptr, impl.options.schema};
        auto r = f(tx);
        if (!effects.freed.empty()) {
            ArrayWriter scopes, names;
            for (const LimitScope& s : effects.freed) {
                scopes.add(to_string(s.type));
                names.add(s.name);
            }
            tx(Sql::release_running, std::move(scopes).finish(), std::move(names).finish());
        }
        work.commit();
        return r;
    });
    for (const JobId id : effects.cancelled_running) impl.notifier->notify_cancelled(id);
    for (const std::string& q : effects.queues) impl.notifier->notify(q);
    return result;
}

}  // namespace

WorkflowInsert PostgresStore::insert_workflow(const NewWorkflow& workflow) {
    WorkflowEffects effects;
    return in_workflow_tx(*impl_, "insert_workflow", effects, [&](const Tx& tx) {
        WorkflowInsert ins =
            postgres_detail::insert_workflow_in(tx, workflow, std::nullopt, effects);
        postgres_detail::settle_in(tx, effects, workflow.now);
        return ins;
    });
}

WorkflowInsert PostgresStore::append_workflow(WorkflowId id, const NewWorkflow& workflow) {
    WorkflowEffects effects;
    return in_workflow_tx(*impl_, "append_workflow", effects, [&](const Tx& tx) {
        WorkflowInsert ins = postgres_detail::insert_workflow_in(tx, workflow, id, effects);
        postgres_detail::settle_in(tx, effects, workflow.now);
        return ins;
    });
}

std::optional<WorkflowRecord> PostgresStore::workflow(WorkflowId id) {
    return impl_->pool.run("workflow", [&](pqxx::connection& c) -> std::optional<WorkflowRecord> {
        impl_->require_schema(c);
        // One snapshot for the row, its jobs and its edges.
        pqxx::read_transaction rt(c);
        const Tx tx{rt, impl_->sql, true, nullptr, impl_->options.schema};
        const pqxx::result w = tx(Sql::wf_get, id);
        if (w.empty()) return std::nullopt;
        WorkflowRecord rec;
        rec.summary = postgres_detail::read_summary(w[0]);
        for (const nlohmann::json& cb :
             detail::parse_json_column(0, "callbacks", RowView(w[0]).text(8))) {
            BatchCallbackRecord r;
            r.on = cb.value("on", std::string());
            r.job = cb.value("job", nlohmann::json(nullptr));
            const nlohmann::json fired = cb.value("fired_job", nlohmann::json(nullptr));
            if (fired.is_number_integer()) r.fired_job = fired.get<JobId>();
            rec.callbacks.push_back(std::move(r));
        }
        for (const pqxx::row& row : tx(Sql::wf_jobs, id)) {
            rec.jobs.push_back(postgres_detail::read_job(row));
            ++rec.summary.counts[static_cast<std::size_t>(rec.jobs.back().state)];
        }
        for (const pqxx::row& row : tx(Sql::wf_edges, id)) {
            const RowView v(row);
            rec.edges.push_back({v.int64(0), v.int64(1), postgres_detail::policy_of(v.text(2)),
                                 postgres_detail::policy_of(v.text(3))});
        }
        return rec;
    });
}

WorkflowPage PostgresStore::workflows(const WorkflowFilter& filter) {
    if (filter.limit < 1 || filter.limit > 10000) {
        throw Error(ErrorCode::invalid_argument,
                    fmt::format("limit: must be between 1 and 10000 (got {})", filter.limit),
                    "limit");
    }
    const std::string state = filter.state ? std::string(to_string(*filter.state)) : "";
    const std::string kind = filter.kind ? std::string(to_string(*filter.kind)) : "";
    return impl_->pool.run("workflows", [&](pqxx::connection& c) {
        impl_->require_schema(c);
        pqxx::read_transaction rt(c);
        const Tx tx{rt, impl_->sql, true, nullptr, impl_->options.schema};
        WorkflowPage page;
        const pqxx::result r =
            tx(Sql::wf_list, filter.before_id.value_or(std::numeric_limits<WorkflowId>::max()),
               postgres_detail::text_or_null(state), postgres_detail::text_or_null(kind),
               postgres_detail::text_or_null(filter.tenant),
               static_cast<std::int64_t>(filter.limit) + 1);
        for (const pqxx::row& row : r) {
            if (page.workflows.size() == static_cast<std::size_t>(filter.limit)) {
                page.next_before_id = page.workflows.back().id;
                break;
            }
            page.workflows.push_back(postgres_detail::read_summary(row));
        }
        for (WorkflowSummary& w : page.workflows) {
            w.counts = postgres_detail::state_counts(tx, w.id);
        }
        return page;
    });
}

std::optional<std::int64_t> PostgresStore::cancel_workflow(WorkflowId id, Timestamp now) {
    WorkflowEffects effects;
    return in_workflow_tx(
        *impl_, "cancel_workflow", effects, [&](const Tx& tx) -> std::optional<std::int64_t> {
            if (tx(Sql::wf_get, id).empty()) return std::nullopt;
            return postgres_detail::cancel_workflow_in(
                tx, id, now, "cancel", fmt::format("workflow {} cancelled", id), effects);
        });
}

std::optional<std::int64_t> PostgresStore::rerun_workflow(WorkflowId id, std::optional<JobId> job,
                                                          Timestamp now) {
    WorkflowEffects effects;
    return in_workflow_tx(*impl_, "rerun_workflow", effects, [&](const Tx& tx) {
        return postgres_detail::rerun_in(tx, id, job, now, effects);
    });
}

std::int64_t PostgresStore::settle_workflows(Timestamp now, int limit) {
    if (limit <= 0) return 0;
    // Looked for without a transaction: most passes find nothing and write nothing.
    std::vector<WorkflowId> due, unsettled;
    for (const pqxx::row& row :
         impl_->exec("settle_workflows", Sql::wf_due_deadlines, micros(now), limit)) {
        due.push_back(RowView(row).int64(0));
    }
    for (const pqxx::row& row : impl_->exec("settle_workflows", Sql::wf_unsettled, limit)) {
        unsettled.push_back(RowView(row).int64(0));
    }
    if (due.empty() && unsettled.empty()) return 0;
    WorkflowEffects effects;
    return in_workflow_tx(*impl_, "settle_workflows", effects, [&](const Tx& tx) {
        std::int64_t n = 0;
        for (const WorkflowId id : due) {
            ArrayWriter one;
            one.add(id);
            const pqxx::result w = tx(Sql::wf_lock, std::move(one).finish());
            if (w.empty() || RowView(w[0]).text(3) != "running") continue;
            postgres_detail::cancel_workflow_in(tx, id, now, "deadline",
                                                fmt::format("workflow {} passed its deadline", id),
                                                effects);
            ++n;
        }
        WorkflowEffects settle;
        settle.touched.insert(unsettled.begin(), unsettled.end());
        postgres_detail::settle_in(tx, settle, now);
        for (const std::string& q : settle.queues) effects.add_queue(q);
        n += static_cast<std::int64_t>(unsettled.size());
        return n;
    });
}

}  // namespace jobq
