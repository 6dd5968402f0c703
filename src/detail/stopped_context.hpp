#pragma once
// What a blocking stop does when nobody runs the executor. Worker::stop and Scheduler::stop post
// their stop to a strand and wait for it, which never ends once the io_context has stopped; so
// they ask first, and then only let the store calls already in flight finish
// (StoreCalls::wait_idle), so that none is still using the store (or posting to the io_context)
// after the caller tears both down.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/io_context.hpp>

namespace jobq::detail {

/// True when `ex` is an io_context's executor and that io_context has stopped (io.stop(), or
/// run() ran out of work): nothing runs what is posted to it until it is restarted.
inline bool context_stopped(const boost::asio::any_io_executor& ex) {
    const auto* io = ex.target<boost::asio::io_context::executor_type>();
    return io != nullptr && io->context().stopped();
}

}  // namespace jobq::detail
