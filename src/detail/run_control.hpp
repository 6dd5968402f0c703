#pragma once
// RunControl: the worker's side of a JobContext — cancellation and heartbeat requests.

#include <atomic>
#include <functional>

#include <boost/asio/cancellation_signal.hpp>

#include "jobq/job_context.hpp"

namespace jobq::detail {

struct RunControl {
    std::atomic<CancelReason> reason{CancelReason::none};
    std::function<void()> request_heartbeat;  // set by the worker; thread-safe to call
    // Bound to the job's coroutine: emitting it cancels whatever the handler awaits. Touched
    // only on the worker's strand, like `handler_done`.
    boost::asio::cancellation_signal signal;
    bool handler_done = false;

    /// Records the first reason only; later ones do not overwrite it.
    bool request_cancel(CancelReason r) {
        CancelReason expected = CancelReason::none;
        return reason.compare_exchange_strong(expected, r);
    }

    /// Asks a handler that is still running to stop (on the strand).
    void cancel(CancelReason r) {
        if (!handler_done && request_cancel(r)) signal.emit(boost::asio::cancellation_type::terminal);
    }
};

}  // namespace jobq::detail
