#include "jobq/backend/new_job.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "jobq/error.hpp"

namespace jobq {

NewJob to_new_job(const JobSpec& spec, Timestamp now, const InputLimits& limits) {
    spec.validate(limits);
    NewJob job;
    job.kind = spec.kind();
    job.queue = spec.queue();
    job.tenant = spec.tenant();
    job.payload = spec.payload().dump();
    if (const std::size_t limit = limits.payload_limit(spec.queue()); job.payload.size() > limit) {
        throw Error(ErrorCode::invalid_argument,
                    fmt::format("payload: {} bytes is larger than the limit of {} bytes for "
                                "queue '{}' (InputLimits::max_payload_bytes)",
                                job.payload.size(), limit, spec.queue()),
                    "payload");
    }
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

std::vector<NewJob> to_new_jobs(std::span<const JobSpec> specs, Timestamp now,
                                const InputLimits& limits) {
    std::vector<NewJob> jobs;
    jobs.reserve(specs.size());
    for (std::size_t i = 0; i < specs.size(); ++i) {
        try {
            jobs.push_back(to_new_job(specs[i], now, limits));
        } catch (const Error& e) {
            if (specs.size() == 1) throw;
            throw Error(e.code(), fmt::format("job {} of {}: {}", i + 1, specs.size(), e.what()),
                        e.field());
        }
    }
    return jobs;
}

}  // namespace jobq
