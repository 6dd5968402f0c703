#pragma once
// The stop plumbing Worker and Scheduler share. An Impl has a `strand`, `begin_stop()` and
// `when_stopped(fn)` (fn runs on the strand once everything has wound down); these turn that
// into an awaitable stop and a blocking one.

#include <chrono>
#include <future>
#include <memory>

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "stopped_context.hpp"

namespace jobq::detail {

/// Stops `self` and completes, on the awaiting coroutine's executor, once it has stopped.
template <class Impl>
boost::asio::awaitable<void> stop_and_wait(std::shared_ptr<Impl> self) {
    namespace asio = boost::asio;
    auto initiate = [self](auto handler) {
        // when_stopped takes a copyable function; the handler is move-only.
        auto h = std::make_shared<decltype(handler)>(std::move(handler));
        asio::post(self->strand, [self, h] {
            self->begin_stop();
            self->when_stopped([h] {
                auto ex = asio::get_associated_executor(*h);
                asio::post(ex, [h] { std::move (*h)(); });
            });
        });
    };
    return asio::async_initiate<decltype(asio::use_awaitable), void()>(std::move(initiate),
                                                                       asio::use_awaitable);
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
