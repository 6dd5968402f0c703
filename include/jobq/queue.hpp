#pragma once
// Queue: the client side of jobq — enqueue, inspect, cancel, retry, replay. Every operation
// has a blocking form and an awaitable form (async_*) that runs the store call off the
// caller's executor and resumes on it.

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "jobq/clock.hpp"
#include "jobq/input_limits.hpp"
#include "jobq/insert_result.hpp"
#include "jobq/job.hpp"
#include "jobq/job_filter.hpp"
#include "jobq/job_spec.hpp"
#include "jobq/queue_stats.hpp"
#include "jobq/wait_reason.hpp"

namespace jobq {

class Store;

namespace detail {
class StoreCalls;
}

/// What enqueue did: the job's id, and whether a unique key coalesced it into an existing job.
using EnqueueResult = InsertResult;

/// Settings of a Queue client.
struct QueueOptions {
    /// Scopes the client to one tenant: enqueue stamps it on every job (a spec naming another
    /// tenant is rejected), and get, list, cancel, retry, remove, replay, explain and the dead
    /// letters see only that tenant's jobs (another tenant's job is not_found). Empty: all.
    std::string tenant;
    /// Time source; the system clock when null.
    const Clock* clock = nullptr;
    /// Payload size and JSON depth limits enqueue applies (1 MiB and 128 levels by default).
    InputLimits limits;
    /// Where the async_* operations run their blocking store calls: an executor the
    /// application owns and sizes (a boost::asio::thread_pool's, say), run by threads that may
    /// block, and alive until the Queue is destroyed. Empty: a private pool of two threads,
    /// made on first use.
    boost::asio::any_io_executor store_executor;
};

/// Client of a Store. Cheap to create; holds a reference to the store, which must outlive it.
/// Safe to use from several threads at once. Destroying it waits for the store calls of its
/// async operations still in flight (so do not destroy it from one of their handlers).
class Queue {
  public:
    explicit Queue(Store& store, const Clock& clock = system_clock());
    Queue(Store& store, QueueOptions options);
    ~Queue();
    Queue(const Queue&) = delete;
    Queue& operator=(const Queue&) = delete;

    /// Validates and stores one job. Throws Error(invalid_argument) and writes nothing on bad
    /// input.
    EnqueueResult enqueue(const JobSpec& spec);
    /// Validates every spec first, then stores all of them in one transaction.
    std::vector<EnqueueResult> enqueue_many(std::span<const JobSpec> specs);
    /// The job, or nullopt.
    std::optional<Job> get(JobId id);
    /// Jobs matching the filter, newest first, one page at a time.
    JobPage list(const JobFilter& filter);
    /// Cancels a job that has not finished. Throws not_found, or invalid_state when the job
    /// already finished. A running job's handler is asked to stop (CancelReason::cancelled) in
    /// whichever process runs it; the job stays cancelled whatever the handler does next.
    Job cancel(JobId id);
    /// Makes a job that is not running available now (one more attempt if it ran out).
    /// Throws not_found, or invalid_state when the job is running.
    Job retry(JobId id);
    /// Deletes a job that is not running. Throws not_found or invalid_state.
    void remove(JobId id);
    /// Counts per queue and state, with the oldest runnable job's run_at. Not available on a
    /// tenant-scoped client (invalid_state): the counts cover every tenant.
    std::vector<QueueStats> stats();
    /// Discarded jobs (the dead-letter queue) matching the filter's queue/kind/tenant.
    JobPage dead_letters(JobFilter filter = {});
    /// Retries one discarded job. Throws not_found, or invalid_state when it is not discarded.
    Job replay(JobId id);
    /// Retries every discarded job matching the filter's queue/kind/tenant; returns how many.
    std::int64_t replay_all(const JobFilter& filter = {});
    /// Why the job is not running (or that it is, or has finished). Throws not_found.
    WaitExplanation explain(JobId id);
    /// How many waiting jobs wait for each reason, per queue (a scan of the waiting jobs:
    /// meant for a metrics scrape, not a hot path). Not available on a tenant-scoped client.
    std::vector<WaitReasonCount> wait_reasons();
    /// The tenant this client is scoped to; empty when none.
    const std::string& tenant() const noexcept;

    boost::asio::awaitable<EnqueueResult> async_enqueue(JobSpec spec);
    boost::asio::awaitable<std::vector<EnqueueResult>> async_enqueue_many(
        std::vector<JobSpec> specs);
    boost::asio::awaitable<std::optional<Job>> async_get(JobId id);
    boost::asio::awaitable<JobPage> async_list(JobFilter filter);
    boost::asio::awaitable<Job> async_cancel(JobId id);
    boost::asio::awaitable<Job> async_retry(JobId id);
    boost::asio::awaitable<void> async_remove(JobId id);
    boost::asio::awaitable<std::vector<QueueStats>> async_stats();
    boost::asio::awaitable<JobPage> async_dead_letters(JobFilter filter = {});
    boost::asio::awaitable<Job> async_replay(JobId id);
    boost::asio::awaitable<std::int64_t> async_replay_all(JobFilter filter = {});
    boost::asio::awaitable<WaitExplanation> async_explain(JobId id);
    boost::asio::awaitable<std::vector<WaitReasonCount>> async_wait_reasons();

    /// The store this queue writes to.
    Store& store() noexcept { return store_; }

  private:
    Store& store_;
    const Clock& clock_;
    std::string tenant_;
    InputLimits limits_;
    // Where the async forms' store calls run; waits for them when the queue is destroyed.
    std::unique_ptr<detail::StoreCalls> store_calls_;
};

}  // namespace jobq
