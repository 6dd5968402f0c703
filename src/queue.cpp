#include "jobq/queue.hpp"

#include <boost/asio/thread_pool.hpp>
#include <fmt/format.h>

#include "detail/blocking.hpp"
#include "jobq/error.hpp"
#include "jobq/notifier.hpp"

namespace jobq {

struct Queue::Pool {
    boost::asio::thread_pool threads{2};
    ~Pool() { threads.join(); }
};

namespace {

[[noreturn]] void throw_not_found(JobId id) {
    throw Error(ErrorCode::not_found, fmt::format("job {} does not exist", id), "id");
}

Job require_job(const ChangeResult& r, JobId id) {
    if (!r.job) throw_not_found(id);
    return *r.job;
}

}  // namespace

Queue::Queue(Store& store, const Clock& clock) : store_(store), clock_(clock) {}
Queue::~Queue() = default;

Queue::Pool& Queue::pool() {
    // Created on first async use: a Queue used only synchronously owns no threads.
    if (!pool_) pool_ = std::make_unique<Pool>();
    return *pool_;
}

EnqueueResult Queue::enqueue(const JobSpec& spec) {
    return enqueue_many(std::span<const JobSpec>(&spec, 1)).front();
}

std::vector<EnqueueResult> Queue::enqueue_many(std::span<const JobSpec> specs) {
    const std::vector<NewJob> jobs = to_new_jobs(specs, clock_.now());  // all valid, or throws
    if (jobs.empty()) return {};
    return store_.insert(jobs);
}

std::optional<Job> Queue::get(JobId id) { return store_.get(id); }

JobPage Queue::list(const JobFilter& filter) {
    if (filter.limit < 1) {
        throw Error(ErrorCode::invalid_argument,
                    fmt::format("limit: must be at least 1 (got {})", filter.limit), "limit");
    }
    return store_.list(filter);
}

Job Queue::cancel(JobId id) {
    const ChangeResult r = store_.cancel(id, clock_.now());
    Job job = require_job(r, id);
    if (!r.changed) {
        throw Error(ErrorCode::invalid_state,
                    fmt::format("job {} is already {}; only unfinished jobs can be cancelled", id,
                                to_string(job.state)),
                    "id");
    }
    return job;
}

Job Queue::retry(JobId id) {
    const ChangeResult r = store_.retry(id, clock_.now());
    Job job = require_job(r, id);
    if (!r.changed && job.state == JobState::running) {
        throw Error(ErrorCode::invalid_state,
                    fmt::format("job {} is running; it can be retried once it has finished", id),
                    "id");
    }
    if (r.changed) store_.notifier().notify(job.queue);
    return job;
}

void Queue::remove(JobId id) {
    const ChangeResult r = store_.remove(id);
    Job job = require_job(r, id);
    if (!r.changed) {
        throw Error(ErrorCode::invalid_state,
                    fmt::format("job {} is running; cancel it before deleting it", id), "id");
    }
}

std::vector<QueueStats> Queue::stats() { return store_.stats(clock_.now()); }

JobPage Queue::dead_letters(JobFilter filter) {
    filter.states = {JobState::discarded};
    return list(filter);
}

Job Queue::replay(JobId id) {
    const std::optional<Job> job = store_.get(id);
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
    const std::int64_t n = store_.replay_discarded(filter, clock_.now());
    if (n > 0) store_.notifier().notify(filter.queue);  // empty: every queue
    return n;
}

// The awaitable forms run the blocking form on the queue's pool and resume on the caller's
// executor. They are not coroutines themselves: each returns run_blocking's awaitable.
boost::asio::awaitable<EnqueueResult> Queue::async_enqueue(JobSpec spec) {
    return detail::run_blocking(pool().threads.get_executor(),
                                [this, spec = std::move(spec)] { return enqueue(spec); });
}
boost::asio::awaitable<std::vector<EnqueueResult>> Queue::async_enqueue_many(std::vector<JobSpec> specs) {
    return detail::run_blocking(pool().threads.get_executor(),
                                [this, specs = std::move(specs)] { return enqueue_many(specs); });
}
boost::asio::awaitable<std::optional<Job>> Queue::async_get(JobId id) {
    return detail::run_blocking(pool().threads.get_executor(), [this, id] { return get(id); });
}
boost::asio::awaitable<JobPage> Queue::async_list(JobFilter filter) {
    return detail::run_blocking(pool().threads.get_executor(),
                                [this, filter = std::move(filter)] { return list(filter); });
}
boost::asio::awaitable<Job> Queue::async_cancel(JobId id) {
    return detail::run_blocking(pool().threads.get_executor(), [this, id] { return cancel(id); });
}
boost::asio::awaitable<Job> Queue::async_retry(JobId id) {
    return detail::run_blocking(pool().threads.get_executor(), [this, id] { return retry(id); });
}
boost::asio::awaitable<void> Queue::async_remove(JobId id) {
    return detail::run_blocking(pool().threads.get_executor(), [this, id] { remove(id); });
}
boost::asio::awaitable<std::vector<QueueStats>> Queue::async_stats() {
    return detail::run_blocking(pool().threads.get_executor(), [this] { return stats(); });
}
boost::asio::awaitable<JobPage> Queue::async_dead_letters(JobFilter filter) {
    return detail::run_blocking(pool().threads.get_executor(),
                                [this, filter = std::move(filter)] { return dead_letters(filter); });
}
boost::asio::awaitable<Job> Queue::async_replay(JobId id) {
    return detail::run_blocking(pool().threads.get_executor(), [this, id] { return replay(id); });
}
boost::asio::awaitable<std::int64_t> Queue::async_replay_all(JobFilter filter) {
    return detail::run_blocking(pool().threads.get_executor(),
                                [this, filter = std::move(filter)] { return replay_all(filter); });
}

}  // namespace jobq
