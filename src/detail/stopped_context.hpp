#pragma once
// What a blocking stop does when nobody runs the executor. Worker::stop and Scheduler::stop post
// their stop to a strand and wait for it, which never ends once the io_context has stopped; so
// they ask first, and then only let the store calls already in flight finish, so that none is
// still using the store (or posting to the io_context) after the caller tears both down.

#include <latch>
#include <memory>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>

namespace jobq::detail {

/// True when `ex` is an io_context's executor and that io_context has stopped (io.stop(), or
/// run() ran out of work): nothing runs what is posted to it until it is restarted.
inline bool context_stopped(const boost::asio::any_io_executor& ex) {
    const auto* io = ex.target<boost::asio::io_context::executor_type>();
    return io != nullptr && io->context().stopped();
}

/// Returns once every task posted to `pool` (which has `threads` threads) before this call has
/// finished; the pool keeps running. Each thread takes one barrier task only after finishing
/// what it had taken before (first in, first out), and all of them meet the caller on a latch.
inline void drain(boost::asio::thread_pool& pool, int threads) {
    auto all_in = std::make_shared<std::latch>(threads + 1);
    for (int i = 0; i < threads; ++i) {
        boost::asio::post(pool, [all_in] { all_in->arrive_and_wait(); });
    }
    all_in->arrive_and_wait();
}

}  // namespace jobq::detail
