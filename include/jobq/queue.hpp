#pragma once
// Queue: the client side of jobq — enqueue, inspect, cancel, retry, replay. Every operation
// has a blocking form and an asynchronous form (async_*) that runs the store call off the
// caller's executor and takes an Asio completion token.
//
// Completion tokens: each async_* is an Asio asynchronous operation whose completion signature
// is void(std::exception_ptr, T) — void(std::exception_ptr) for async_remove — where T is what
// the blocking form returns and the exception_ptr holds what it would have thrown (a
// jobq::Error, say), null on success. The token decides the shape of the answer:
//   - none (boost::asio::use_awaitable, the default): `co_await queue.async_get(id)` returns T
//     or throws, in a coroutine on an any_io_executor;
//   - boost::asio::use_future: a std::future<T> whose get() returns T or throws;
//   - a callback `(std::exception_ptr error, T value)`: value is default-constructed when error
//     is set;
//   - boost::asio::deferred, or any other token.
// The handler runs on its associated executor (bind_executor gives a callback one); a handler
// with none, such as a plain lambda, runs on the thread that made the store call. The store
// call runs on QueueOptions::store_executor, or on the queue's private pool of two threads.

#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "jobq/batch_spec.hpp"
#include "jobq/clock.hpp"
#include "jobq/input_limits.hpp"
#include "jobq/insert_result.hpp"
#include "jobq/job.hpp"
#include "jobq/job_filter.hpp"
#include "jobq/job_spec.hpp"
#include "jobq/queue_stats.hpp"
#include "jobq/wait_reason.hpp"
#include "jobq/workflow_record.hpp"
#include "jobq/workflow_spec.hpp"

namespace jobq {

class Store;

namespace detail {
class StoreCalls;
/// What tells the filterless overloads of async_dead_letters and async_replay_all from the
/// ones that take a filter: their only argument is a token, not a JobFilter.
template <class T>
concept not_a_job_filter = !std::is_convertible_v<T, JobFilter>;
}  // namespace detail

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
    /// block, and running until the Queue is destroyed (a stopped pool never runs the calls
    /// queued on it, and ~Queue would wait for them forever). Empty: a private pool of two
    /// threads, made on first use.
    boost::asio::any_io_executor store_executor;
};

/// Client of a Store. Cheap to create; holds a reference to the store, which must outlive it.
/// Safe to use from several threads at once. Destroying it waits for the store calls of its
/// async operations still in flight, which hold their handlers' executors until they end: so
/// destroy it before the io_context (or other context) those handlers run on, and not from
/// one of its own handlers.
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

    // ---- workflows and batches (DESIGN.md §5) -------------------------------------------

    /// Validates the workflow (WorkflowSpec::validate) and stores all of its jobs in one
    /// transaction: jobs with dependencies wait `pending` until their last one completes.
    /// Throws Error(invalid_argument) naming the field, writing nothing, on bad input.
    WorkflowInsert enqueue_workflow(const WorkflowSpec& spec);
    /// Adds jobs to a stored workflow; their dependencies may name its jobs (one that already
    /// completed is met at once). The spec's name and deadline are not used. Throws not_found.
    WorkflowInsert append_workflow(WorkflowId id, const WorkflowSpec& jobs);
    /// Stores a batch and its jobs in one transaction; its callbacks run when it gets there.
    WorkflowInsert enqueue_batch(const BatchSpec& spec);
    /// The workflow or batch with its jobs and edges, or nullopt.
    std::optional<WorkflowRecord> workflow(WorkflowId id);
    /// Workflows and batches matching the filter, newest first.
    WorkflowPage workflows(const WorkflowFilter& filter = {});
    /// Cancels every unfinished job of the workflow (running ones are asked to stop, as
    /// cancel() does). Returns how many it cancelled. Throws not_found.
    std::int64_t cancel_workflow(WorkflowId id);
    /// Reruns the workflow's discarded and cancelled jobs, or with `from` that job and what
    /// waits on it; completed jobs keep their results. Returns how many jobs will run again.
    /// Throws not_found (also when `from` is not a job of it), invalid_state when `from` is
    /// not discarded or cancelled.
    std::int64_t retry_workflow(WorkflowId id, std::optional<JobId> from = std::nullopt);

    /// The token of an async_* operation given none: co_await it in a coroutine.
    using default_token = boost::asio::use_awaitable_t<>;

    /// enqueue() off the caller's executor; completes with (exception_ptr, EnqueueResult).
    template <class Token = default_token>
    auto async_enqueue(JobSpec spec, Token&& token = {}) {
        return initiate<Token>(token, &Queue::start_enqueue, std::move(spec));
    }
    /// enqueue_many(); completes with (exception_ptr, std::vector<EnqueueResult>).
    template <class Token = default_token>
    auto async_enqueue_many(std::vector<JobSpec> specs, Token&& token = {}) {
        return initiate<Token>(token, &Queue::start_enqueue_many, std::move(specs));
    }
    /// get(); completes with (exception_ptr, std::optional<Job>).
    template <class Token = default_token>
    auto async_get(JobId id, Token&& token = {}) {
        return initiate<Token>(token, &Queue::start_get, id);
    }
    /// list(); completes with (exception_ptr, JobPage).
    template <class Token = default_token>
    auto async_list(JobFilter filter, Token&& token = {}) {
        return initiate<Token>(token, &Queue::start_list, std::move(filter));
    }
    /// cancel(); completes with (exception_ptr, Job).
    template <class Token = default_token>
    auto async_cancel(JobId id, Token&& token = {}) {
        return initiate<Token>(token, &Queue::start_cancel, id);
    }
    /// retry(); completes with (exception_ptr, Job).
    template <class Token = default_token>
    auto async_retry(JobId id, Token&& token = {}) {
        return initiate<Token>(token, &Queue::start_retry, id);
    }
    /// remove(); completes with (exception_ptr).
    template <class Token = default_token>
    auto async_remove(JobId id, Token&& token = {}) {
        return initiate<Token>(token, &Queue::start_remove, id);
    }
    /// stats(); completes with (exception_ptr, std::vector<QueueStats>).
    template <class Token = default_token>
    auto async_stats(Token&& token = {}) {
        return initiate<Token>(token, &Queue::start_stats);
    }
    /// dead_letters(filter); completes with (exception_ptr, JobPage).
    template <class Token = default_token>
    auto async_dead_letters(JobFilter filter, Token&& token = {}) {
        return initiate<Token>(token, &Queue::start_dead_letters, std::move(filter));
    }
    /// dead_letters() of every queue; completes with (exception_ptr, JobPage). An overload, not
    /// a default filter: a default JobFilter made inside a caller's co_await expression is the
    /// kind of temporary GCC 12 destroys twice.
    template <detail::not_a_job_filter Token = default_token>
    auto async_dead_letters(Token&& token = {}) {
        return initiate<Token>(token, &Queue::start_dead_letters, JobFilter{});
    }
    /// replay(); completes with (exception_ptr, Job).
    template <class Token = default_token>
    auto async_replay(JobId id, Token&& token = {}) {
        return initiate<Token>(token, &Queue::start_replay, id);
    }
    /// replay_all(filter); completes with (exception_ptr, std::int64_t).
    template <class Token = default_token>
    auto async_replay_all(JobFilter filter, Token&& token = {}) {
        return initiate<Token>(token, &Queue::start_replay_all, std::move(filter));
    }
    /// replay_all() of every queue; completes with (exception_ptr, std::int64_t).
    template <detail::not_a_job_filter Token = default_token>
    auto async_replay_all(Token&& token = {}) {
        return initiate<Token>(token, &Queue::start_replay_all, JobFilter{});
    }
    /// explain(); completes with (exception_ptr, WaitExplanation).
    template <class Token = default_token>
    auto async_explain(JobId id, Token&& token = {}) {
        return initiate<Token>(token, &Queue::start_explain, id);
    }
    /// wait_reasons(); completes with (exception_ptr, std::vector<WaitReasonCount>).
    template <class Token = default_token>
    auto async_wait_reasons(Token&& token = {}) {
        return initiate<Token>(token, &Queue::start_wait_reasons);
    }

    /// enqueue_workflow(); completes with (exception_ptr, WorkflowInsert).
    template <class Token = default_token>
    auto async_enqueue_workflow(WorkflowSpec spec, Token&& token = {}) {
        return initiate<Token>(token, &Queue::start_enqueue_workflow, std::move(spec));
    }
    /// append_workflow(); completes with (exception_ptr, WorkflowInsert).
    template <class Token = default_token>
    auto async_append_workflow(WorkflowId id, WorkflowSpec jobs, Token&& token = {}) {
        return initiate<Token>(token, &Queue::start_append_workflow, id, std::move(jobs));
    }
    /// enqueue_batch(); completes with (exception_ptr, WorkflowInsert).
    template <class Token = default_token>
    auto async_enqueue_batch(BatchSpec spec, Token&& token = {}) {
        return initiate<Token>(token, &Queue::start_enqueue_batch, std::move(spec));
    }
    /// workflow(); completes with (exception_ptr, std::optional<WorkflowRecord>).
    template <class Token = default_token>
    auto async_workflow(WorkflowId id, Token&& token = {}) {
        return initiate<Token>(token, &Queue::start_workflow, id);
    }
    /// workflows(); completes with (exception_ptr, WorkflowPage).
    template <class Token = default_token>
    auto async_workflows(WorkflowFilter filter, Token&& token = {}) {
        return initiate<Token>(token, &Queue::start_workflows, std::move(filter));
    }
    /// cancel_workflow(); completes with (exception_ptr, std::int64_t).
    template <class Token = default_token>
    auto async_cancel_workflow(WorkflowId id, Token&& token = {}) {
        return initiate<Token>(token, &Queue::start_cancel_workflow, id);
    }
    /// retry_workflow(); completes with (exception_ptr, std::int64_t).
    template <class Token = default_token>
    auto async_retry_workflow(WorkflowId id, std::optional<JobId> from, Token&& token = {}) {
        return initiate<Token>(token, &Queue::start_retry_workflow, id, from);
    }

    /// The store this queue writes to.
    Store& store() noexcept { return store_; }

  private:
    template <class Signature>
    using Handler = boost::asio::any_completion_handler<Signature>;
    template <class T>
    using Completes = Handler<void(std::exception_ptr, T)>;

    // The thin part of every async_*: the token becomes a type-erased handler for a start_*
    // function compiled in queue.cpp, so callers' builds do not instantiate the store call.
    template <class Token, class Signature, class... Args>
    auto initiate(Token& token, void (Queue::*start)(Handler<Signature>, Args...), Args... args) {
        return boost::asio::async_initiate<Token, Signature>(
            [this, start](auto handler, Args... a) {
                (this->*start)(Handler<Signature>(std::move(handler)), std::move(a)...);
            },
            token, std::move(args)...);
    }

    void start_enqueue(Completes<EnqueueResult> handler, JobSpec spec);
    void start_enqueue_many(Completes<std::vector<EnqueueResult>> handler,
                            std::vector<JobSpec> specs);
    void start_get(Completes<std::optional<Job>> handler, JobId id);
    void start_list(Completes<JobPage> handler, JobFilter filter);
    void start_cancel(Completes<Job> handler, JobId id);
    void start_retry(Completes<Job> handler, JobId id);
    void start_remove(Handler<void(std::exception_ptr)> handler, JobId id);
    void start_stats(Completes<std::vector<QueueStats>> handler);
    void start_dead_letters(Completes<JobPage> handler, JobFilter filter);
    void start_replay(Completes<Job> handler, JobId id);
    void start_replay_all(Completes<std::int64_t> handler, JobFilter filter);
    void start_explain(Completes<WaitExplanation> handler, JobId id);
    void start_wait_reasons(Completes<std::vector<WaitReasonCount>> handler);
    void start_enqueue_workflow(Completes<WorkflowInsert> handler, WorkflowSpec spec);
    void start_append_workflow(Completes<WorkflowInsert> handler, WorkflowId id, WorkflowSpec jobs);
    void start_enqueue_batch(Completes<WorkflowInsert> handler, BatchSpec spec);
    void start_workflow(Completes<std::optional<WorkflowRecord>> handler, WorkflowId id);
    void start_workflows(Completes<WorkflowPage> handler, WorkflowFilter filter);
    void start_cancel_workflow(Completes<std::int64_t> handler, WorkflowId id);
    void start_retry_workflow(Completes<std::int64_t> handler, WorkflowId id,
                              std::optional<JobId> from);
    // A workflow this client may see, or not_found.
    WorkflowSummary visible_workflow(WorkflowId id);

    Store& store_;
    const Clock& clock_;
    std::string tenant_;
    InputLimits limits_;
    // Where the async forms' store calls run; waits for them when the queue is destroyed.
    std::unique_ptr<detail::StoreCalls> store_calls_;
};

}  // namespace jobq
