#include "jobq/job_context.hpp"

#include <fmt/format.h>

#include "detail/run_control.hpp"
#include "jobq/error.hpp"

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

const nlohmann::json& JobContext::dependency_result(std::string_view name) const {
    for (const UpstreamResult& u : job_.upstream) {
        if (u.name == name) return u.result;
    }
    throw Error(ErrorCode::not_found,
                fmt::format("job {} has no dependency named '{}'", job_.id, printable(name)),
                "name");
}

nlohmann::json JobContext::dependency_results() const {
    nlohmann::json all = nlohmann::json::object();
    for (const UpstreamResult& u : job_.upstream) all[u.name] = u.result;
    return all;
}

void JobContext::heartbeat() {
    if (control_ && control_->request_heartbeat) control_->request_heartbeat();
}

}  // namespace jobq
