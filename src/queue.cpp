#include "jobq/queue.hpp"
#include "jobq/backend/store.hpp"

#include <fmt/format.h>

#include "detail/name_check.hpp"
#include "detail/store_calls.hpp"
#include "jobq/backend/notifier.hpp"
#include "jobq/error.hpp"

namespace jobq {

namespace {

[[noreturn]] void throw_not_found(JobId id) {
    throw Error(ErrorCode::not_found, fmt::format("job {} does not exist", id), "id");
}

Job require_job(const ChangeResult& r, JobId id) {
    if (!r.job) throw_not_found(id);
    return *r.job;
}

// A client scoped to a tenant sees only that tenant's jobs (every job when unscoped).
bool sees(const std::string& tenant, const Job& job) noexcept {
    return tenant.empty() || job.tenant == tenant;
}

// Another tenant's job is as good as absent: a scoped client must not learn that it exists.
void require_visible(Store& store, const std::string& tenant, JobId id) {
    if (tenant.empty()) return;
    const std::optional<Job> job = store.get(id);
    if (!job || !sees(tenant, *job)) throw_not_found(id);
}

[[noreturn]] void other_tenant(const std::string& tenant, const std::string& got) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("tenant: this client is scoped to tenant '{}' (got '{}')", tenant, got),
                "tenant");
}

JobFilter scoped_filter(const std::string& tenant, JobFilter filter) {
    if (tenant.empty()) return filter;
    if (!filter.tenant.empty() && filter.tenant != tenant) other_tenant(tenant, filter.tenant);
    filter.tenant = tenant;
    return filter;
}

void require_unscoped(const std::string& tenant, std::string_view what) {
    if (tenant.empty()) return;
    throw Error(ErrorCode::invalid_state,
                fmt::format("{}: covers every tenant, so it is not available on a client scoped "
                            "to tenant '{}'",
                            what, tenant),
                "tenant");
}

}  // namespace

// Threads of the private pool, when the application supplies no store executor.
constexpr int private_store_threads = 2;

Queue::Queue(Store& store, const Clock& clock)
    : store_(store),
      clock_(clock),
      store_calls_(std::make_unique<detail::StoreCalls>(boost::asio::any_io_executor{},
                                                        private_store_threads)) {}

Queue::Queue(Store& store, QueueOptions options)
    : store_(store),
      clock_(options.clock ? *options.clock : system_clock()),
      tenant_(std::move(options.tenant)),
      limits_(std::move(options.limits)),
      store_calls_(std::make_unique<detail::StoreCalls>(std::move(options.store_executor),
                                                        private_store_threads)) {
    if (!tenant_.empty()) detail::check_name("tenant", tenant_);
    limits_.validate();
}

Queue::~Queue() = default;

const std::string& Queue::tenant() const noexcept {
    return tenant_;
}

EnqueueResult Queue::enqueue(const JobSpec& spec) {
    return enqueue_many(std::span<const JobSpec>(&spec, 1)).front();
}

std::vector<EnqueueResult> Queue::enqueue_many(std::span<const JobSpec> specs) {
    std::vector<JobSpec> stamped;
    if (!tenant_.empty()) {
        for (const JobSpec& spec : specs) {
            if (!spec.tenant().empty() && spec.tenant() != tenant_)
                other_tenant(tenant_, spec.tenant());
        }
        // Stamped on the spec, not the NewJob, so a unique key gets the tenant's scope too.
        stamped.assign(specs.begin(), specs.end());
        for (JobSpec& spec : stamped) spec.tenant(tenant_);
        specs = stamped;
    }
    const std::vector<NewJob> jobs =
        to_new_jobs(specs, clock_.now(), limits_);  // all valid, or throws
    if (jobs.empty()) return {};
    return store_.insert(jobs);
}

std::optional<Job> Queue::get(JobId id) {
    std::optional<Job> job = store_.get(id);
    if (job && !sees(tenant_, *job)) return std::nullopt;
    return job;
}

namespace {

// A filter value no job can carry is a mistake (an unset shell variable, a typo with a stray
// byte), not a question whose answer is "none": refused as enqueue would refuse it.
void check_filter_names(const JobFilter& filter) {
    if (!filter.queue.empty()) detail::check_name("queue", filter.queue);
    if (!filter.kind.empty()) detail::check_name("kind", filter.kind);
    if (!filter.tenant.empty()) detail::check_name("tenant", filter.tenant);
    if (!filter.tag.empty()) detail::check_name("tag", filter.tag);
}

}  // namespace

JobPage Queue::list(const JobFilter& filter) {
    check_filter_names(filter);
    if (filter.limit < 1) {
        throw Error(ErrorCode::invalid_argument,
                    fmt::format("limit: must be at least 1 (got {})", filter.limit), "limit");
    }
    return store_.list(scoped_filter(tenant_, filter));
}

Job Queue::cancel(JobId id) {
    require_visible(store_, tenant_, id);
    const ChangeResult r = store_.cancel(id, clock_.now());
    Job job = require_job(r, id);
    if (!r.changed) {
        throw Error(ErrorCode::invalid_state,
                    fmt::format("job {} is already {}; only unfinished jobs can be cancelled", id,
                                to_string(job.state)),
                    "id");
    }
    // The store announces the cancellation itself (Notifier::notify_cancelled), so whichever
    // worker runs the job hears of it.
    return job;
}

Job Queue::retry(JobId id) {
    require_visible(store_, tenant_, id);
    const ChangeResult r = store_.retry(id, clock_.now());
    Job job = require_job(r, id);
    if (!r.changed && job.state == JobState::running) {
        throw Error(ErrorCode::invalid_state,
                    fmt::format("job {} is running; it can be retried once it has finished", id),
                    "id");
    }
    if (!r.changed && job.state == JobState::pending) {
        throw Error(ErrorCode::invalid_state,
                    fmt::format("job {} is pending: it runs when its dependencies have "
                                "completed (explain names them)",
                                id),
                    "id");
    }
    if (!r.changed && job.workflow_id != 0 &&
        (job.state == JobState::cancelled || job.state == JobState::discarded)) {
        throw Error(ErrorCode::invalid_state,
                    fmt::format("job {} waits on a dependency that stays discarded or cancelled "
                                "(policy cancel); rerun the workflow (retry_workflow {}) or that "
                                "dependency first",
                                id, job.workflow_id),
                    "id");
    }
    if (r.changed) store_.notifier().notify(job.queue);
    return job;
}

void Queue::remove(JobId id) {
    require_visible(store_, tenant_, id);
    const ChangeResult r = store_.remove(id);
    Job job = require_job(r, id);
    if (!r.changed) {
        throw Error(ErrorCode::invalid_state,
                    fmt::format("job {} is running; cancel it before deleting it", id), "id");
    }
}

std::vector<QueueStats> Queue::stats() {
    require_unscoped(tenant_, "stats");
    return store_.stats(clock_.now());
}

JobPage Queue::dead_letters(JobFilter filter) {
    filter.states = {JobState::discarded};
    return list(filter);
}

Job Queue::replay(JobId id) {
    const std::optional<Job> job = get(id);
    if (!job) throw_not_found(id);
    if (job->state != JobState::discarded) {
        throw Error(ErrorCode::invalid_state,
                    fmt::format("job {} is {}, not in the dead-letter queue (discarded)", id,
                                to_string(job->state)),
                    "id");
    }
    return retry(id);
}

std::int64_t Queue::replay_all(const JobFilter& filter) {
    if (!filter.tag.empty()) {
        // The store replays by queue, kind and tenant; ignoring the tag would replay more
        // than the caller asked for.
        throw Error(ErrorCode::invalid_argument,
                    "tag: replay_all does not filter by tag; replay those jobs one by one", "tag");
    }
    check_filter_names(filter);
    const JobFilter scoped = scoped_filter(tenant_, filter);
    const std::int64_t n = store_.replay_discarded(scoped, clock_.now());
    if (n > 0) store_.notifier().notify(scoped.queue);  // empty: every queue
    return n;
}

WaitExplanation Queue::explain(JobId id) {
    const Timestamp now = clock_.now();
    const std::optional<WaitFacts> facts = store_.wait_facts(id, now);
    if (!facts || !sees(tenant_, facts->job)) throw_not_found(id);
    return explain_wait(*facts, now);
}

std::vector<WaitReasonCount> Queue::wait_reasons() {
    require_unscoped(tenant_, "wait_reasons");
    const Timestamp now = clock_.now();
    // Groups first: limits and workers read after them are at least as fresh as the counts.
    const std::vector<WaitGroup> groups = store_.wait_groups(now);
    return count_wait_reasons(groups, store_.limit_records(), store_.workers(now), now);
}

// ---- workflows and batches ------------------------------------------------------------------

namespace {

[[noreturn]] void throw_no_workflow(WorkflowId id) {
    throw Error(ErrorCode::not_found, fmt::format("workflow {} does not exist", id), "id");
}

// The spec with every job stamped with the client's tenant (refusing another one).
WorkflowSpec stamped_workflow(const std::string& tenant, const WorkflowSpec& spec) {
    if (tenant.empty()) return spec;
    WorkflowSpec out{spec.name()};
    if (spec.deadline()) out.deadline(*spec.deadline());
    for (WorkflowJob job : spec.jobs()) {
        if (!job.spec.tenant().empty() && job.spec.tenant() != tenant) {
            other_tenant(tenant, job.spec.tenant());
        }
        job.spec.tenant(tenant);
        out.add(std::move(job));
    }
    return out;
}

}  // namespace

WorkflowSummary Queue::visible_workflow(WorkflowId id) {
    const std::optional<WorkflowRecord> w = store_.workflow(id);
    if (!w || (!tenant_.empty() && w->summary.tenant != tenant_)) throw_no_workflow(id);
    return w->summary;
}

WorkflowInsert Queue::enqueue_workflow(const WorkflowSpec& spec) {
    const NewWorkflow wf =
        to_new_workflow(stamped_workflow(tenant_, spec), clock_.now(), limits_);  // or throws
    return store_.insert_workflow(wf);
}

WorkflowInsert Queue::append_workflow(WorkflowId id, const WorkflowSpec& jobs) {
    const NewWorkflow wf = to_new_workflow(stamped_workflow(tenant_, jobs), clock_.now(), limits_,
                                           /*append=*/true);
    if (!tenant_.empty()) visible_workflow(id);
    return store_.append_workflow(id, wf);
}

WorkflowInsert Queue::enqueue_batch(const BatchSpec& spec) {
    if (tenant_.empty())
        return store_.insert_workflow(to_new_workflow(spec, clock_.now(), limits_));
    BatchSpec stamped{spec.name()};
    auto stamp = [this](JobSpec job) {
        if (!job.tenant().empty() && job.tenant() != tenant_) other_tenant(tenant_, job.tenant());
        job.tenant(tenant_);
        return job;
    };
    for (const JobSpec& job : spec.jobs()) stamped.add(stamp(job));
    for (const auto& [when, job] : spec.callbacks()) stamped.on(when, stamp(job));
    return store_.insert_workflow(to_new_workflow(stamped, clock_.now(), limits_));
}

std::optional<WorkflowRecord> Queue::workflow(WorkflowId id) {
    std::optional<WorkflowRecord> w = store_.workflow(id);
    if (w && !tenant_.empty() && w->summary.tenant != tenant_) return std::nullopt;
    return w;
}

WorkflowPage Queue::workflows(const WorkflowFilter& filter) {
    if (filter.limit < 1 || filter.limit > 10000) {
        throw Error(ErrorCode::invalid_argument,
                    fmt::format("limit: must be between 1 and 10000 (got {})", filter.limit),
                    "limit");
    }
    WorkflowFilter scoped = filter;
    if (!scoped.tenant.empty()) detail::check_name("tenant", scoped.tenant);
    if (!tenant_.empty()) {
        if (!scoped.tenant.empty() && scoped.tenant != tenant_)
            other_tenant(tenant_, scoped.tenant);
        scoped.tenant = tenant_;
    }
    return store_.workflows(scoped);
}

std::int64_t Queue::cancel_workflow(WorkflowId id) {
    if (!tenant_.empty()) visible_workflow(id);
    const std::optional<std::int64_t> n = store_.cancel_workflow(id, clock_.now());
    if (!n) throw_no_workflow(id);
    return *n;
}

std::int64_t Queue::retry_workflow(WorkflowId id, std::optional<JobId> from) {
    if (!tenant_.empty()) visible_workflow(id);
    if (from) {
        const std::optional<Job> job = store_.get(*from);
        if (!job || job->workflow_id != id) {
            throw Error(ErrorCode::not_found,
                        fmt::format("job {} is not a job of workflow {}", *from, id), "from");
        }
        if (job->state != JobState::discarded && job->state != JobState::cancelled) {
            throw Error(ErrorCode::invalid_state,
                        fmt::format("job {} is {}: a rerun starts from a discarded or cancelled "
                                    "job",
                                    *from, to_string(job->state)),
                        "from");
        }
    }
    const std::optional<std::int64_t> n = store_.rerun_workflow(id, from, clock_.now());
    if (!n) throw_no_workflow(id);
    return *n;
}

// The async forms run the blocking form through store_calls_, which completes the handler on
// its own executor. Each lambda captures what the call needs by value: the caller's arguments
// may be gone before the call runs.
void Queue::start_enqueue(Completes<EnqueueResult> handler, JobSpec spec) {
    store_calls_->start([this, spec = std::move(spec)] { return enqueue(spec); },
                        std::move(handler));
}
void Queue::start_enqueue_many(Completes<std::vector<EnqueueResult>> handler,
                               std::vector<JobSpec> specs) {
    store_calls_->start([this, specs = std::move(specs)] { return enqueue_many(specs); },
                        std::move(handler));
}
void Queue::start_get(Completes<std::optional<Job>> handler, JobId id) {
    store_calls_->start([this, id] { return get(id); }, std::move(handler));
}
void Queue::start_list(Completes<JobPage> handler, JobFilter filter) {
    store_calls_->start([this, filter = std::move(filter)] { return list(filter); },
                        std::move(handler));
}
void Queue::start_cancel(Completes<Job> handler, JobId id) {
    store_calls_->start([this, id] { return cancel(id); }, std::move(handler));
}
void Queue::start_retry(Completes<Job> handler, JobId id) {
    store_calls_->start([this, id] { return retry(id); }, std::move(handler));
}
void Queue::start_remove(Handler<void(std::exception_ptr)> handler, JobId id) {
    store_calls_->start([this, id] { remove(id); }, std::move(handler));
}
void Queue::start_stats(Completes<std::vector<QueueStats>> handler) {
    store_calls_->start([this] { return stats(); }, std::move(handler));
}
void Queue::start_dead_letters(Completes<JobPage> handler, JobFilter filter) {
    store_calls_->start([this, filter = std::move(filter)] { return dead_letters(filter); },
                        std::move(handler));
}
void Queue::start_replay(Completes<Job> handler, JobId id) {
    store_calls_->start([this, id] { return replay(id); }, std::move(handler));
}
void Queue::start_replay_all(Completes<std::int64_t> handler, JobFilter filter) {
    store_calls_->start([this, filter = std::move(filter)] { return replay_all(filter); },
                        std::move(handler));
}
void Queue::start_explain(Completes<WaitExplanation> handler, JobId id) {
    store_calls_->start([this, id] { return explain(id); }, std::move(handler));
}
void Queue::start_wait_reasons(Completes<std::vector<WaitReasonCount>> handler) {
    store_calls_->start([this] { return wait_reasons(); }, std::move(handler));
}

void Queue::start_enqueue_workflow(Completes<WorkflowInsert> handler, WorkflowSpec spec) {
    store_calls_->start([this, spec = std::move(spec)] { return enqueue_workflow(spec); },
                        std::move(handler));
}
void Queue::start_append_workflow(Completes<WorkflowInsert> handler, WorkflowId id,
                                  WorkflowSpec jobs) {
    store_calls_->start([this, id, jobs = std::move(jobs)] { return append_workflow(id, jobs); },
                        std::move(handler));
}
void Queue::start_enqueue_batch(Completes<WorkflowInsert> handler, BatchSpec spec) {
    store_calls_->start([this, spec = std::move(spec)] { return enqueue_batch(spec); },
                        std::move(handler));
}
void Queue::start_workflow(Completes<std::optional<WorkflowRecord>> handler, WorkflowId id) {
    store_calls_->start([this, id] { return workflow(id); }, std::move(handler));
}
void Queue::start_workflows(Completes<WorkflowPage> handler, WorkflowFilter filter) {
    store_calls_->start([this, filter = std::move(filter)] { return workflows(filter); },
                        std::move(handler));
}
void Queue::start_cancel_workflow(Completes<std::int64_t> handler, WorkflowId id) {
    store_calls_->start([this, id] { return cancel_workflow(id); }, std::move(handler));
}
void Queue::start_retry_workflow(Completes<std::int64_t> handler, WorkflowId id,
                                 std::optional<JobId> from) {
    store_calls_->start([this, id, from] { return retry_workflow(id, from); }, std::move(handler));
}

}  // namespace jobq
