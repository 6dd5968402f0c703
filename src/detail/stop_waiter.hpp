#pragma once
// The stop plumbing Worker and Scheduler share. An Impl has a `strand`, `begin_stop()` and
// `when_stopped(fn)` (fn runs on the strand once everything has wound down); these turn that
// into an asynchronous stop (a completion handler) and a blocking one.

#include <chrono>
#include <future>
#include <memory>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>

#include "stopped_context.hpp"

namespace jobq::detail {

/// Stops `self`; once it has stopped, completes `handler` on the handler's associated executor
/// (on `self`'s executor when it has none).
template <class Impl>
void stop_then(std::shared_ptr<Impl> self, boost::asio::any_completion_handler<void()> handler) {
    namespace asio = boost::asio;
    // Outstanding work on the handler's executor until it has run, as Asio asks of an operation.
    auto work = asio::prefer(asio::get_associated_executor(handler),
                             asio::execution::outstanding_work.tracked);
    // when_stopped takes a copyable function; the handler is move-only.
    auto h = std::make_shared<asio::any_completion_handler<void()>>(std::move(handler));
    asio::post(self->strand, [self, h, work] {
        self->begin_stop();
        self->when_stopped([ex = self->strand.get_inner_executor(), h, work] {
            // Posted before it is dispatched: the handler may destroy what stopped, so it must
            // not run inside the stop's own last steps.
            asio::post(ex, [h, work] { asio::dispatch(work, [h] { std::move (*h)(); }); });
        });
    });
}

/// Stops `self` and blocks the calling thread until it has stopped. Must not run on a thread
/// that the strand's executor needs, or it waits forever. If the executor's io_context stops
/// while it waits (io.stop() from elsewhere), nothing would finish the stop: it then calls
/// `drain` (which lets the store calls in flight end) and returns.
template <class Impl, class Drain>
void stop_blocking(const std::shared_ptr<Impl>& self, Drain drain) {
    auto done = std::make_shared<std::promise<void>>();
    auto stopped = done->get_future();
    boost::asio::post(self->strand, [self, done] {
        self->begin_stop();
        self->when_stopped([done] { done->set_value(); });
    });
    // A bounded look now and then: the io_context has no hook that says it stopped.
    while (stopped.wait_for(std::chrono::milliseconds(20)) != std::future_status::ready) {
        if (context_stopped(self->strand.get_inner_executor())) {
            drain();
            return;
        }
    }
}

}  // namespace jobq::detail
