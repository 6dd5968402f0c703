#include "jobq/wait_reason.hpp"
#include "jobq/backend/store.hpp"

#include <map>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include <fmt/format.h>

#include "jobq/backend/token_bucket_refill.hpp"
#include "jobq/error.hpp"
#include "jobq/time_format.hpp"

namespace jobq {

namespace {

// The rows that can hold back a job of one (queue, kind, tenant); null where none exists.
struct JobRows {
    const LimitRecord* queue = nullptr;
    const LimitRecord* kind = nullptr;
    const LimitRecord* tenant = nullptr;
};

std::string describe(const LimitScope& scope) {
    return fmt::format("{} {}", to_string(scope.type), scope.name);
}

WaitExplanation because(WaitReason reason, std::string text) {
    WaitExplanation e;
    e.reason = reason;
    e.text = std::move(text);
    return e;
}

// The first limit in the way of an available job, in the documented order: a paused queue,
// then caps (queue, kind, tenant), then rate limits.
std::optional<WaitExplanation> limit_in_way(const JobRows& rows, Timestamp now) {
    if (rows.queue != nullptr && rows.queue->paused) {
        WaitExplanation e = because(WaitReason::queue_paused,
                                    fmt::format("{} is paused", describe(rows.queue->scope)));
        e.scope = rows.queue->scope;
        return e;
    }
    const std::pair<const LimitRecord*, WaitReason> caps[] = {
        {rows.queue, WaitReason::queue_cap},
        {rows.kind, WaitReason::kind_cap},
        {rows.tenant, WaitReason::tenant_cap}};
    for (const auto& [row, reason] : caps) {
        if (row == nullptr || !row->limits.max_running) continue;
        if (row->running < *row->limits.max_running) continue;
        WaitExplanation e = because(
            reason, fmt::format("{} is at its concurrency cap ({} of {} running)",
                                describe(row->scope), row->running, *row->limits.max_running));
        e.scope = row->scope;
        return e;
    }
    // When several buckets are dry the job waits for the one that refills last.
    std::optional<WaitExplanation> dry;
    for (const LimitRecord* row : {rows.queue, rows.kind, rows.tenant}) {
        if (row == nullptr || !row->limits.rate) continue;
        const RateLimit& rate = *row->limits.rate;
        const TokenBucket b = refill(row->bucket, rate, now);
        if (b.tokens >= 1.0) continue;
        const Timestamp until = next_token_at(b, rate);
        if (dry && *dry->until >= until) continue;
        dry = because(WaitReason::rate_limited,
                      fmt::format("rate limit of {} ({}) has no token until {}",
                                  describe(row->scope), rate.to_string(), format_timestamp(until)));
        dry->until = until;
        dry->scope = row->scope;
    }
    return dry;
}

bool is_due(const Job& job, Timestamp now) {
    switch (job.state) {
        case JobState::available:
            return true;
        case JobState::scheduled:
        case JobState::retryable:
            return job.run_at <= now;
        default:
            return false;
    }
}

}  // namespace

std::string_view to_string(WaitReason reason) noexcept {
    switch (reason) {
        case WaitReason::running:
            return "running";
        case WaitReason::finished:
            return "finished";
        case WaitReason::scheduled:
            return "scheduled";
        case WaitReason::retry_backoff:
            return "retry_backoff";
        case WaitReason::dependencies:
            return "waiting_on_dependencies";
        case WaitReason::queue_paused:
            return "queue_paused";
        case WaitReason::queue_cap:
            return "queue_concurrency_cap";
        case WaitReason::kind_cap:
            return "kind_concurrency_cap";
        case WaitReason::tenant_cap:
            return "tenant_cap";
        case WaitReason::rate_limited:
            return "rate_limited";
        case WaitReason::no_worker:
            return "no_worker";
        case WaitReason::queued:
            return "queued_behind";
        case WaitReason::ready:
            return "ready";
    }
    return "ready";
}

WaitExplanation explain_wait(const WaitFacts& facts, Timestamp now) {
    const Job& job = facts.job;
    if (job.state == JobState::running) {
        std::string text = "running";
        if (job.attempted_at) text += " since " + format_timestamp(*job.attempted_at);
        if (!job.worker_id.empty()) text += " on worker " + job.worker_id;
        text += fmt::format(" (attempt {} of {})", job.attempt, job.max_attempts);
        return because(WaitReason::running, std::move(text));
    }
    if (is_terminal(job.state)) {
        std::string text = fmt::format("finished: {}", to_string(job.state));
        if (job.finished_at) text += " at " + format_timestamp(*job.finished_at);
        return because(WaitReason::finished, std::move(text));
    }
    if (job.state == JobState::pending) {
        // The dependencies still open, named with their states (the store reads them for a
        // job of a workflow: Job::upstream).
        std::string open;
        std::size_t n = 0;
        for (const UpstreamResult& u : job.upstream) {
            if (is_terminal(u.state)) continue;
            if (++n <= 10) {
                open += fmt::format("{}'{}' (job {}, {})", n == 1 ? "" : ", ", printable(u.name),
                                    u.id, to_string(u.state));
            }
        }
        if (n > 10) open += fmt::format(", and {} more", n - 10);
        if (n == 0) return because(WaitReason::dependencies, "waiting on dependencies");
        return because(WaitReason::dependencies,
                       fmt::format("waiting on {} of {} dependencies: {}", n, job.upstream.size(),
                                   open));
    }
    if (!is_due(job, now)) {
        WaitExplanation e =
            job.state == JobState::retryable
                ? because(WaitReason::retry_backoff,
                          fmt::format("retry backoff until {} after attempt {} of {}",
                                      format_timestamp(job.run_at), job.attempt, job.max_attempts))
                : because(WaitReason::scheduled,
                          fmt::format("scheduled for {}", format_timestamp(job.run_at)));
        e.until = job.run_at;
        return e;
    }

    JobRows rows;
    for (const LimitRecord& r : facts.limits) {
        const LimitScope& s = r.scope;
        if (s.type == ScopeType::queue && s.name == job.queue) rows.queue = &r;
        if (s.type == ScopeType::kind && s.name == job.kind) rows.kind = &r;
        if (s.type == ScopeType::tenant && !job.tenant.empty() && s.name == job.tenant) {
            rows.tenant = &r;
        }
    }
    if (auto e = limit_in_way(rows, now)) return std::move(*e);

    bool served = false;
    for (const WorkerRecord& w : facts.workers) {
        for (const std::string& q : w.queues) served = served || q == job.queue;
    }
    if (!served) {
        return because(WaitReason::no_worker,
                       fmt::format("no live worker claims from queue {}", job.queue));
    }
    if (facts.ahead > 0) {
        WaitExplanation e =
            because(WaitReason::queued, fmt::format("queued behind {} {} in queue {}", facts.ahead,
                                                    facts.ahead == 1 ? "job" : "jobs", job.queue));
        e.ahead = facts.ahead;
        return e;
    }
    return because(WaitReason::ready,
                   fmt::format("ready: the next claim of queue {} takes it", job.queue));
}

std::vector<WaitReasonCount> count_wait_reasons(const std::vector<WaitGroup>& groups,
                                                const std::vector<LimitRecord>& limits,
                                                const std::vector<WorkerRecord>& workers,
                                                Timestamp now) {
    std::unordered_map<std::string_view, const LimitRecord*> by_scope[3];
    for (const LimitRecord& r : limits) {
        by_scope[static_cast<int>(r.scope.type)].emplace(r.scope.name, &r);
    }
    auto row = [&](ScopeType type, std::string_view name) -> const LimitRecord* {
        const auto& m = by_scope[static_cast<int>(type)];
        const auto it = m.find(name);
        return it == m.end() ? nullptr : it->second;
    };
    std::unordered_set<std::string_view> served;
    for (const WorkerRecord& w : workers) served.insert(w.queues.begin(), w.queues.end());

    std::map<std::pair<std::string_view, WaitReason>, std::int64_t> sums;
    for (const WaitGroup& g : groups) {
        WaitReason reason = WaitReason::queued;
        switch (g.state) {
            case JobState::pending:
                reason = WaitReason::dependencies;
                break;
            case JobState::scheduled:
                reason = WaitReason::scheduled;
                break;
            case JobState::retryable:
                reason = WaitReason::retry_backoff;
                break;
            case JobState::running:
                reason = WaitReason::running;
                break;
            case JobState::completed:
            case JobState::cancelled:
            case JobState::discarded:
                reason = WaitReason::finished;
                break;
            case JobState::available: {
                const JobRows rows{row(ScopeType::queue, g.queue), row(ScopeType::kind, g.kind),
                                   g.tenant.empty() ? nullptr : row(ScopeType::tenant, g.tenant)};
                if (const auto e = limit_in_way(rows, now)) {
                    reason = e->reason;
                } else if (!served.contains(g.queue)) {
                    reason = WaitReason::no_worker;
                }
                break;
            }
        }
        sums[{g.queue, reason}] += g.count;
    }

    std::vector<WaitReasonCount> out;
    out.reserve(sums.size());
    for (const auto& [key, count] : sums) {
        if (count > 0) out.push_back(WaitReasonCount{std::string(key.first), key.second, count});
    }
    return out;
}

}  // namespace jobq
