#include "jobq/job.hpp"

#include "jobq/time_format.hpp"

namespace jobq {

namespace {
nlohmann::json optional_time(const std::optional<Timestamp>& t) {
    return t ? nlohmann::json(format_timestamp(*t)) : nlohmann::json(nullptr);
}
}  // namespace

nlohmann::json to_json(const Job& job) {
    nlohmann::json errors = nlohmann::json::array();
    for (const AttemptError& e : job.errors) {
        errors.push_back({{"attempt", e.attempt},
                          {"at", format_timestamp(e.at)},
                          {"kind", e.kind},
                          {"message", e.message}});
    }
    nlohmann::json j{
        {"id", job.id},
        {"kind", job.kind},
        {"queue", job.queue},
        {"tenant", job.tenant.empty() ? nlohmann::json(nullptr) : nlohmann::json(job.tenant)},
        {"state", std::string(to_string(job.state))},
        {"priority", job.priority},
        {"attempt", job.attempt},
        {"max_attempts", job.max_attempts},
        {"payload", job.payload},
        {"created_at", format_timestamp(job.created_at)},
        {"run_at", format_timestamp(job.run_at)},
        {"attempted_at", optional_time(job.attempted_at)},
        {"finished_at", optional_time(job.finished_at)},
        {"lease_expires_at", optional_time(job.lease_expires_at)},
        {"worker_id",
         job.worker_id.empty() ? nlohmann::json(nullptr) : nlohmann::json(job.worker_id)},
        {"timeout_ms",
         job.timeout
             ? nlohmann::json(
                   std::chrono::duration_cast<std::chrono::milliseconds>(*job.timeout).count())
             : nlohmann::json(nullptr)},
        {"unique_key", job.unique_key.empty() ? nlohmann::json(nullptr)
                                              : nlohmann::json(unique_key_as_given(job))},
        {"unique_scope", unique_scope(job) == UniqueScope::none     ? nlohmann::json(nullptr)
                         : unique_scope(job) == UniqueScope::tenant ? nlohmann::json("tenant")
                                                                    : nlohmann::json("global")},
        {"tags", job.tags},
        {"errors", errors},
        {"result", job.result},
        {"retry_policy", job.retry_policy ? job.retry_policy->to_json() : nlohmann::json(nullptr)},
    };
    if (job.workflow_id != 0) {
        j["workflow_id"] = job.workflow_id;
        j["step"] = job.step;
    }
    return j;
}

UniqueScope unique_scope(const Job& job) {
    // new_job.cpp writes "t:<tenant>:<key>" or "g:<key>"; tenants cannot contain ':'.
    if (job.unique_key.starts_with("t:")) return UniqueScope::tenant;
    if (job.unique_key.starts_with("g:")) return UniqueScope::global;
    return job.unique_key.empty() ? UniqueScope::none : UniqueScope::global;
}

std::string unique_key_as_given(const Job& job) {
    const std::string& key = job.unique_key;
    switch (unique_scope(job)) {
        case UniqueScope::tenant: {
            const std::size_t end = key.find(':', 2);
            return end == std::string::npos ? key : key.substr(end + 1);
        }
        case UniqueScope::global:
            return key.starts_with("g:") ? key.substr(2) : key;
        case UniqueScope::none:
            break;
    }
    return {};
}

}  // namespace jobq
