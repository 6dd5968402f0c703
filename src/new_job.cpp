#include "jobq/new_job.hpp"

#include <algorithm>

namespace jobq {

NewJob to_new_job(const JobSpec& spec, Timestamp now) {
    spec.validate();
    NewJob job;
    job.kind = spec.kind();
    job.queue = spec.queue();
    job.tenant = spec.tenant();
    job.payload = spec.payload().dump();
    job.priority = spec.priority();
    job.created_at = now;
    job.run_at = spec.run_at() ? *spec.run_at() : now + spec.delay().value_or(Duration::zero());
    job.state = job.run_at > now ? JobState::scheduled : JobState::available;
    job.max_attempts = spec.max_attempts();
    job.timeout = spec.timeout();
    job.tags = spec.tags();
    if (spec.retry_policy()) job.retry_policy = spec.retry_policy()->to_json().dump();
    if (!spec.unique_key().empty()) {
        // The scope prefix keeps a tenant's keys apart from global ones and from other tenants'.
        job.unique_key = spec.unique_per_tenant() && !spec.tenant().empty()
                             ? "t:" + spec.tenant() + ":" + spec.unique_key()
                             : "g:" + spec.unique_key();
        if (spec.unique_states().empty()) {
            std::copy_if(all_job_states.begin(), all_job_states.end(),
                         std::back_inserter(job.unique_states),
                         [](JobState s) { return !is_terminal(s); });
        } else {
            job.unique_states = spec.unique_states();
        }
        if (spec.unique_window()) job.unique_since = now - *spec.unique_window();
    }
    return job;
}

}  // namespace jobq
