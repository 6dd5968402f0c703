#pragma once
// WorkerRuntime: where a worker's code runs. Every part of the worker runs on one strand of
// the application's executor, so they share state without locks; blocking store calls run on the
// application's store executor or a small pool of their own (detail::StoreCalls), plain-function
// handlers on another pool (made on first use), and each resumes the waiting coroutine on the
// strand.
//
// The interface is plain (std::function, awaitable<void>): the worker's parts use it without
// instantiating Asio's coroutine, timer and thread-pool templates, which are all instantiated
// once, in worker_runtime.cpp. That keeps the worker's compile time near what one file took.

#include <functional>
#include <memory>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>

#include "jobq/clock.hpp"

namespace jobq::detail {
class StoreCalls;
}

namespace jobq::worker_detail {

class WorkerRuntime {
  public:
    /// Threads of the private pool for store calls, when the application supplies no store
    /// executor: a claim and a completion (or heartbeat) at once.
    static constexpr int store_threads = 2;

    /// Runs on `strand`; `handler_threads` sizes the plain-function handlers' pool; store calls
    /// run on `store_executor` (WorkerOptions::store_executor), or a private pool when empty.
    WorkerRuntime(boost::asio::strand<boost::asio::any_io_executor> strand, int handler_threads,
                  boost::asio::any_io_executor store_executor);
    /// Joins the pools (see join()).
    ~WorkerRuntime();
    WorkerRuntime(const WorkerRuntime&) = delete;
    WorkerRuntime& operator=(const WorkerRuntime&) = delete;

    /// Runs `fn` on the strand later; thread-safe.
    void post(std::function<void()> fn);
    /// Starts `work` on the strand; it runs to its end on its own.
    void spawn(boost::asio::awaitable<void> work);
    /// The same, with `slot` cancelling whatever `work` awaits when its signal is emitted.
    void spawn(boost::asio::awaitable<void> work, boost::asio::cancellation_slot slot);
    /// Waits for `d` on the strand; nothing ends it early.
    boost::asio::awaitable<void> sleep_for(Duration d);

    /// Runs a blocking store call on the store executor, then resumes on the strand; rethrows what
    /// it threw. Pass a named std::function, std::move'd: GCC 12 mishandles non-trivial
    /// temporaries inside a co_await expression (it destroys a bitwise copy twice).
    boost::asio::awaitable<void> call_store(std::function<void()>&& call);
    /// Runs a plain-function handler on the handlers' pool, as call_store does. Strand only
    /// (the pool is made on first use).
    boost::asio::awaitable<void> call_handler(std::function<void()>&& call);

    /// Returns once no store call is in flight (the pool keeps running): for a stop whose
    /// executor no longer runs.
    void drain_store_calls();
    /// Waits for the handlers' threads to finish what they run and ends them, and waits for the
    /// store calls in flight.
    void join();

  private:
    boost::asio::strand<boost::asio::any_io_executor> strand_;
    // The strand, type-erased once: a coroutine's frame holds an any_io_executor, and making one
    // from the strand allocates; copying this one only counts a reference (measured: co_spawn
    // was most of the worker's own time per no-op job).
    boost::asio::any_io_executor strand_any_;
    int handler_threads_;
    std::unique_ptr<detail::StoreCalls> store_calls_;
    std::unique_ptr<boost::asio::thread_pool> handler_pool_;
};

}  // namespace jobq::worker_detail
