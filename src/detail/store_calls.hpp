#pragma once
// StoreCalls: where the core runs its blocking store calls, and how it knows when they are over.
//
// A call runs on the executor the application supplied (the `store_executor` option of Queue,
// Worker and Scheduler: a thread pool it owns and sizes) or, when it supplied none, on a private
// thread pool made on first use. The result goes to the caller's completion handler on that
// handler's associated executor, as Asio asks of an asynchronous operation, never on the pool
// (unless the handler has no executor of its own: then, as Asio's system executor would, it
// runs on the thread that made the call).
//
// Calls in flight are counted, because an owner must not go away under one (it holds
// references into the owner, and its completion posts to the owner's executor) and an
// application's pool cannot be joined: the owner waits for the count instead.

#include <condition_variable>
#include <exception>
#include <memory>
#include <mutex>
#include <type_traits>
#include <utility>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace jobq::detail {

class StoreCalls {
  public:
    /// Calls run on `supplied`, or on a private pool of `private_threads` threads when it is
    /// empty.
    StoreCalls(boost::asio::any_io_executor supplied, int private_threads);
    /// Waits for the calls in flight, then joins the private pool if one was made.
    ~StoreCalls();
    StoreCalls(const StoreCalls&) = delete;
    StoreCalls& operator=(const StoreCalls&) = delete;

    /// The executor calls run on. Makes the private pool on first use; safe from any thread.
    boost::asio::any_io_executor executor();

    /// Runs `call` on the executor, then hands `handler` the exception it threw (or null) and,
    /// unless it returns void, its result. `handler` is a completion handler for
    /// void(std::exception_ptr) or void(std::exception_ptr, R), R default-constructible.
    template <class F, class Handler>
    void start(F call, Handler handler);

    /// `call` run as by start(), as an awaitable that resumes on the awaiting coroutine's
    /// executor with its result (or rethrows). Pass a named lambda, std::move'd: GCC 12
    /// mishandles non-trivial temporaries inside a co_await expression.
    template <class F>
    auto run(F call);

    /// Returns once no call is in flight.
    void wait_idle();

  private:
    // Ends one call's count when destroyed: last, after everything else the call touched.
    class InFlight {
      public:
        explicit InFlight(StoreCalls& calls) : calls_(calls) {}
        ~InFlight() { calls_.end_call(); }
        InFlight(const InFlight&) = delete;
        InFlight& operator=(const InFlight&) = delete;

      private:
        StoreCalls& calls_;
    };

    // Marks the thread as running one of this object's calls (and any handler run inline after
    // it), so that wait_idle() there, which could only wait for itself, fails loudly instead.
    class RunningHere {
      public:
        explicit RunningHere(const StoreCalls& calls);
        ~RunningHere();
        RunningHere(const RunningHere&) = delete;
        RunningHere& operator=(const RunningHere&) = delete;

      private:
        const StoreCalls* previous_;
    };

    void begin_call();
    void end_call();

    boost::asio::any_io_executor supplied_;
    int private_threads_;
    std::once_flag pool_once_;
    std::unique_ptr<boost::asio::thread_pool> pool_;
    std::mutex mutex_;
    std::condition_variable idle_;
    int in_flight_ = 0;
};

template <class F, class Handler>
void StoreCalls::start(F call, Handler handler) {
    namespace asio = boost::asio;
    using R = std::invoke_result_t<F&>;
    // Outstanding work on the handler's executor until the handler has run, as Asio asks of an
    // operation: an io_context waiting on nothing else must not return from run() meanwhile.
    auto work = asio::prefer(asio::get_associated_executor(handler),
                             asio::execution::outstanding_work.tracked);
    const asio::any_io_executor pool = executor();
    begin_call();
    auto task = [this, call = std::move(call), handler = std::move(handler),
                 work = std::move(work)]() mutable {
        const InFlight counted(*this);
        const RunningHere here(*this);
        // Moved out so that they are gone before the count ends.
        auto h = std::move(handler);
        auto f = std::move(call);
        // The work travels with the handler and ends where the handler runs, after it: once the
        // handler is handed over, this thread must not touch its executor's context again (the
        // handler may be what lets the application destroy it). Handing over goes through an
        // untracked copy for the same reason.
        auto tracked = std::move(work);
        const auto target = asio::prefer(tracked, asio::execution::outstanding_work.untracked);
        std::exception_ptr error;
        if constexpr (std::is_void_v<R>) {
            try {
                f();
            } catch (...) {
                error = std::current_exception();
            }
            asio::dispatch(target, [h = std::move(h), tracked = std::move(tracked),
                                    error]() mutable { std::move(h)(error); });
        } else {
            static_assert(std::is_default_constructible_v<R>,
                          "a store call's result must be default-constructible");
            R value{};
            try {
                value = f();
            } catch (...) {
                error = std::current_exception();
            }
            asio::dispatch(target, [h = std::move(h), tracked = std::move(tracked), error,
                                    value = std::move(value)]() mutable {
                std::move(h)(error, std::move(value));
            });
        }
    };
    try {
        asio::post(pool, std::move(task));
    } catch (...) {
        end_call();
        throw;
    }
}

template <class F>
auto StoreCalls::run(F call) {
    namespace asio = boost::asio;
    using R = std::invoke_result_t<F&>;
    auto initiate = [this, call = std::move(call)](auto handler) mutable {
        this->start(std::move(call), std::move(handler));
    };
    if constexpr (std::is_void_v<R>) {
        return asio::async_initiate<decltype(asio::use_awaitable), void(std::exception_ptr)>(
            std::move(initiate), asio::use_awaitable);
    } else {
        return asio::async_initiate<decltype(asio::use_awaitable), void(std::exception_ptr, R)>(
            std::move(initiate), asio::use_awaitable);
    }
}

}  // namespace jobq::detail
