#pragma once
// RunControl: the worker's side of a JobContext — cancellation and heartbeat requests.

#include <atomic>
#include <functional>

#include "jobq/job_context.hpp"

namespace jobq::detail {

struct RunControl {
    std::atomic<CancelReason> reason{CancelReason::none};
    std::function<void()> request_heartbeat;  // set by the worker; thread-safe to call

    /// Records the first reason only; later ones do not overwrite it.
    bool request_cancel(CancelReason r) {
        CancelReason expected = CancelReason::none;
        return reason.compare_exchange_strong(expected, r);
    }
};

}  // namespace jobq::detail
