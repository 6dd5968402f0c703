#include "jobq/job_context.hpp"

#include "detail/run_control.hpp"

namespace jobq {

JobContext::JobContext(Job job, std::shared_ptr<detail::RunControl> control)
    : job_(std::move(job)), control_(std::move(control)) {}

JobContext::~JobContext() = default;

bool JobContext::cancel_requested() const noexcept {
    return control_ && control_->reason.load() != CancelReason::none;
}

CancelReason JobContext::cancel_reason() const noexcept {
    return control_ ? control_->reason.load() : CancelReason::none;
}

void JobContext::heartbeat() {
    if (control_ && control_->request_heartbeat) control_->request_heartbeat();
}

}  // namespace jobq
