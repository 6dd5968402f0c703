// Why a job is not running: explain_wait for one job, count_wait_reasons over groups of them.

#include <chrono>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "jobq/backend/store.hpp"
#include "jobq/time_format.hpp"
#include "jobq/wait_reason.hpp"
#include "support.hpp"

using namespace std::chrono_literals;
using jobq::Job;
using jobq::JobState;
using jobq::LimitRecord;
using jobq::LimitScope;
using jobq::RateLimit;
using jobq::Timestamp;
using jobq::TokenBucket;
using jobq::WaitExplanation;
using jobq::WaitFacts;
using jobq::WaitGroup;
using jobq::WaitReason;
using jobq::WaitReasonCount;
using jobq::WorkerRecord;
using jobq::test::contains;
using jobq::test::reference_time;

namespace {

const Timestamp now = reference_time();

Job job(JobState state = JobState::available) {
    Job j;
    j.id = 7;
    j.kind = "email.send";
    j.queue = "mail";
    j.tenant = "acme";
    j.state = state;
    j.attempt = 0;
    j.max_attempts = 20;
    j.created_at = now - 1h;
    j.run_at = now - 1min;
    return j;
}

WorkerRecord worker(std::string id, std::vector<std::string> queues) {
    return WorkerRecord{std::move(id), std::move(queues), now - 1h, now, now + 1min};
}

LimitRecord capped(LimitScope scope, int max_running, std::int64_t running) {
    LimitRecord r;
    r.scope = std::move(scope);
    r.limits.max_running = max_running;
    r.running = running;
    return r;
}

LimitRecord rated(LimitScope scope, const char* rate, double tokens) {
    LimitRecord r;
    r.scope = std::move(scope);
    r.limits.rate = RateLimit::parse(rate);
    r.bucket = TokenBucket{tokens, now};
    return r;
}

LimitRecord paused(const std::string& queue) {
    LimitRecord r;
    r.scope = LimitScope::queue(queue);
    r.paused = true;
    return r;
}

// An available job of queue mail that a live worker serves, with nothing ahead of it.
WaitFacts ready_facts() {
    WaitFacts f;
    f.job = job();
    f.workers = {worker("w1", {"default", "mail"})};
    return f;
}

}  // namespace

TEST_SUITE_BEGIN("WaitReason");

TEST_CASE("every reason has its stable code") {
    CHECK(to_string(WaitReason::running) == "running");
    CHECK(to_string(WaitReason::finished) == "finished");
    CHECK(to_string(WaitReason::scheduled) == "scheduled");
    CHECK(to_string(WaitReason::retry_backoff) == "retry_backoff");
    CHECK(to_string(WaitReason::dependencies) == "waiting_on_dependencies");
    CHECK(to_string(WaitReason::queue_paused) == "queue_paused");
    CHECK(to_string(WaitReason::queue_cap) == "queue_concurrency_cap");
    CHECK(to_string(WaitReason::kind_cap) == "kind_concurrency_cap");
    CHECK(to_string(WaitReason::tenant_cap) == "tenant_cap");
    CHECK(to_string(WaitReason::rate_limited) == "rate_limited");
    CHECK(to_string(WaitReason::no_worker) == "no_worker");
    CHECK(to_string(WaitReason::queued) == "queued_behind");
    CHECK(to_string(WaitReason::ready) == "ready");
}

TEST_CASE("an available job with nothing in the way is ready") {
    const WaitExplanation e = explain_wait(ready_facts(), now);
    CHECK(e.reason == WaitReason::ready);
    CHECK(e.text == "ready: the next claim of queue mail takes it");
    CHECK_FALSE(e.until);
    CHECK_FALSE(e.scope);
    CHECK(e.ahead == 0);
}

TEST_CASE("an available job behind others is queued, with how many") {
    WaitFacts f = ready_facts();
    f.ahead = 42;
    const WaitExplanation e = explain_wait(f, now);
    CHECK(e.reason == WaitReason::queued);
    CHECK(e.text == "queued behind 42 jobs in queue mail");
    CHECK(e.ahead == 42);
    f.ahead = 1;
    CHECK(explain_wait(f, now).text == "queued behind 1 job in queue mail");
}

TEST_CASE("a job of a queue no live worker claims from says so, before counting the queue") {
    WaitFacts f = ready_facts();
    f.ahead = 42;
    f.workers = {worker("w1", {"default"})};
    const WaitExplanation e = explain_wait(f, now);
    CHECK(e.reason == WaitReason::no_worker);
    CHECK(e.text == "no live worker claims from queue mail");
    f.workers.clear();
    CHECK(explain_wait(f, now).reason == WaitReason::no_worker);
}

TEST_CASE("a paused queue comes first") {
    WaitFacts f = ready_facts();
    f.workers.clear();
    f.limits = {capped(LimitScope::kind("email.send"), 1, 1), paused("mail")};
    const WaitExplanation e = explain_wait(f, now);
    CHECK(e.reason == WaitReason::queue_paused);
    CHECK(e.text == "queue mail is paused");
    CHECK(e.scope == LimitScope::queue("mail"));
}

TEST_CASE("caps are checked queue, kind, tenant, with the numbers") {
    WaitFacts f = ready_facts();
    f.limits = {capped(LimitScope::tenant("acme"), 2, 2),
                capped(LimitScope::kind("email.send"), 5, 5),
                capped(LimitScope::queue("mail"), 10, 12)};
    WaitExplanation e = explain_wait(f, now);
    CHECK(e.reason == WaitReason::queue_cap);
    CHECK(e.text == "queue mail is at its concurrency cap (12 of 10 running)");
    CHECK(e.scope == LimitScope::queue("mail"));

    f.limits[2].running = 9;
    e = explain_wait(f, now);
    CHECK(e.reason == WaitReason::kind_cap);
    CHECK(e.text == "kind email.send is at its concurrency cap (5 of 5 running)");
    CHECK(e.scope == LimitScope::kind("email.send"));

    f.limits[1].running = 4;
    e = explain_wait(f, now);
    CHECK(e.reason == WaitReason::tenant_cap);
    CHECK(e.text == "tenant acme is at its concurrency cap (2 of 2 running)");
    CHECK(e.scope == LimitScope::tenant("acme"));

    f.limits[0].running = 1;
    CHECK(explain_wait(f, now).reason == WaitReason::ready);
}

TEST_CASE("rows of other queues, kinds and tenants do not apply") {
    WaitFacts f = ready_facts();
    f.limits = {paused("other"), capped(LimitScope::kind("other"), 1, 1),
                capped(LimitScope::tenant("other"), 1, 1), capped(LimitScope::queue("acme"), 1, 1)};
    CHECK(explain_wait(f, now).reason == WaitReason::ready);
}

TEST_CASE("a job without a tenant is not held by any tenant row") {
    WaitFacts f = ready_facts();
    f.job.tenant.clear();
    f.limits = {capped(LimitScope::tenant("acme"), 1, 1)};
    CHECK(explain_wait(f, now).reason == WaitReason::ready);
}

TEST_CASE("a dry bucket is rate_limited until its next token, after every cap") {
    WaitFacts f = ready_facts();
    f.limits = {rated(LimitScope::queue("mail"), "50/s", 0.5)};
    const WaitExplanation e = explain_wait(f, now);
    CHECK(e.reason == WaitReason::rate_limited);
    REQUIRE(e.until);
    CHECK(*e.until == now + 10ms);
    CHECK(e.scope == LimitScope::queue("mail"));
    CHECK(e.text == "rate limit of queue mail (50/s) has no token until " +
                        jobq::format_timestamp(now + 10ms));

    f.limits.push_back(capped(LimitScope::tenant("acme"), 1, 1));
    CHECK(explain_wait(f, now).reason == WaitReason::tenant_cap);
}

TEST_CASE("a bucket is refilled to now before it is judged") {
    WaitFacts f = ready_facts();
    f.limits = {rated(LimitScope::kind("email.send"), "1/s", 0)};
    CHECK(explain_wait(f, now).reason == WaitReason::rate_limited);
    CHECK(explain_wait(f, now + 1s).reason == WaitReason::ready);
}

TEST_CASE("with several dry buckets the job waits for the one that refills last") {
    WaitFacts f = ready_facts();
    f.limits = {rated(LimitScope::queue("mail"), "10/s", 0),
                rated(LimitScope::tenant("acme"), "1/m", 0),
                rated(LimitScope::kind("email.send"), "1/s", 0)};
    const WaitExplanation e = explain_wait(f, now);
    CHECK(e.reason == WaitReason::rate_limited);
    CHECK(e.scope == LimitScope::tenant("acme"));
    CHECK(*e.until == now + 1min);
    CHECK(contains(e.text, "tenant acme (1/m)"));
}

TEST_CASE("a rate limit comes before a missing worker") {
    WaitFacts f = ready_facts();
    f.workers.clear();
    f.limits = {rated(LimitScope::kind("email.send"), "1/s", 0)};
    CHECK(explain_wait(f, now).reason == WaitReason::rate_limited);
}

TEST_CASE("a scheduled job in the future waits for its run_at") {
    WaitFacts f = ready_facts();
    f.job.state = JobState::scheduled;
    f.job.run_at = now + 2h;
    f.limits = {paused("mail")};
    const WaitExplanation e = explain_wait(f, now);
    CHECK(e.reason == WaitReason::scheduled);
    CHECK(e.text == "scheduled for " + jobq::format_timestamp(now + 2h));
    CHECK(e.until == now + 2h);
}

TEST_CASE("a retryable job in its backoff says until when and which attempt failed") {
    WaitFacts f = ready_facts();
    f.job.state = JobState::retryable;
    f.job.attempt = 2;
    f.job.run_at = now + 30s;
    const WaitExplanation e = explain_wait(f, now);
    CHECK(e.reason == WaitReason::retry_backoff);
    CHECK(e.until == now + 30s);
    CHECK(e.text ==
          "retry backoff until " + jobq::format_timestamp(now + 30s) + " after attempt 2 of 20");
}

TEST_CASE("a scheduled or retryable job that is due is judged as available") {
    for (JobState s : {JobState::scheduled, JobState::retryable}) {
        WaitFacts f = ready_facts();
        f.job.state = s;
        f.job.run_at = now;
        CHECK(explain_wait(f, now).reason == WaitReason::ready);
        f.limits = {paused("mail")};
        CHECK(explain_wait(f, now).reason == WaitReason::queue_paused);
        f.limits.clear();
        f.ahead = 3;
        CHECK(explain_wait(f, now).reason == WaitReason::queued);
    }
}

TEST_CASE("a pending job waits on its dependencies") {
    WaitFacts f = ready_facts();
    f.job.state = JobState::pending;
    f.limits = {paused("mail")};
    const WaitExplanation e = explain_wait(f, now);
    CHECK(e.reason == WaitReason::dependencies);
    CHECK(e.text == "waiting on dependencies");
}

TEST_CASE("a running job says since when, on which worker and which attempt") {
    WaitFacts f = ready_facts();
    f.job.state = JobState::running;
    f.job.attempt = 2;
    f.job.attempted_at = now - 5s;
    f.job.worker_id = "host-1:42";
    f.limits = {paused("mail")};
    const WaitExplanation e = explain_wait(f, now);
    CHECK(e.reason == WaitReason::running);
    CHECK(e.text == "running since " + jobq::format_timestamp(now - 5s) +
                        " on worker host-1:42 (attempt 2 of 20)");
}

TEST_CASE("a finished job says how and when it finished") {
    for (JobState s : {JobState::completed, JobState::cancelled, JobState::discarded}) {
        WaitFacts f = ready_facts();
        f.job.state = s;
        f.job.finished_at = now - 1s;
        const WaitExplanation e = explain_wait(f, now);
        CHECK(e.reason == WaitReason::finished);
        CHECK(e.text ==
              "finished: " + std::string(to_string(s)) + " at " + jobq::format_timestamp(now - 1s));
    }
}

TEST_SUITE_END();

TEST_SUITE_BEGIN("count_wait_reasons");

namespace {
WaitGroup group(std::string queue, std::string kind, std::string tenant, JobState state,
                std::int64_t count) {
    return WaitGroup{std::move(queue), std::move(kind), std::move(tenant), state, count};
}
}  // namespace

TEST_CASE("nothing waiting gives no counts") {
    CHECK(jobq::count_wait_reasons({}, {}, {}, now).empty());
}

TEST_CASE("available groups are queued when a worker serves their queue, else no_worker") {
    const auto counts = jobq::count_wait_reasons({group("mail", "a", "", JobState::available, 3),
                                                  group("mail", "b", "t", JobState::available, 4),
                                                  group("orphan", "a", "", JobState::available, 5)},
                                                 {}, {worker("w1", {"mail"})}, now);
    CHECK(counts == std::vector<WaitReasonCount>{{"mail", WaitReason::queued, 7},
                                                 {"orphan", WaitReason::no_worker, 5}});
}

TEST_CASE("groups are classified by state and by the first limit in their way, summed and sorted") {
    const std::vector<WaitGroup> groups{
        group("mail", "email.send", "acme", JobState::available, 10),  // kind cap
        group("mail", "email.send", "", JobState::available, 1),       // kind cap
        group("mail", "digest", "acme", JobState::available, 4),       // tenant cap
        group("mail", "digest", "beta", JobState::available, 2),       // rate limited (beta)
        group("mail", "digest", "", JobState::available, 6),           // queued
        group("mail", "digest", "", JobState::scheduled, 8),
        group("mail", "digest", "", JobState::retryable, 9),
        group("mail", "digest", "acme", JobState::pending, 11),
        group("bulk", "x", "", JobState::available, 12),   // paused beats everything
        group("bulk", "x", "", JobState::pending, 0),      // no jobs: left out
        group("alpha", "x", "", JobState::available, 13),  // queue cap
    };
    const std::vector<LimitRecord> limits{capped(LimitScope::kind("email.send"), 2, 2),
                                          capped(LimitScope::tenant("acme"), 1, 1),
                                          rated(LimitScope::tenant("beta"), "1/h", 0.5),
                                          paused("bulk"), capped(LimitScope::queue("alpha"), 3, 3)};
    const auto counts = jobq::count_wait_reasons(groups, limits, {worker("w", {"mail"})}, now);
    CHECK(counts == std::vector<WaitReasonCount>{
                        {"alpha", WaitReason::queue_cap, 13},
                        {"bulk", WaitReason::queue_paused, 12},
                        {"mail", WaitReason::scheduled, 8},
                        {"mail", WaitReason::retry_backoff, 9},
                        {"mail", WaitReason::dependencies, 11},
                        {"mail", WaitReason::kind_cap, 11},
                        {"mail", WaitReason::tenant_cap, 4},
                        {"mail", WaitReason::rate_limited, 2},
                        {"mail", WaitReason::queued, 6},
                    });
}

TEST_CASE("count_wait_reasons agrees with explain_wait for each available job") {
    const std::vector<LimitRecord> limits{capped(LimitScope::kind("email.send"), 2, 2),
                                          rated(LimitScope::tenant("beta"), "1/h", 0.5)};
    const std::vector<WorkerRecord> workers{worker("w", {"mail"})};
    for (const char* kind : {"email.send", "digest"}) {
        for (const char* tenant : {"", "acme", "beta"}) {
            WaitFacts f;
            f.job = job();
            f.job.kind = kind;
            f.job.tenant = tenant;
            f.limits = limits;
            f.workers = workers;
            f.ahead = 1;
            const auto counts = jobq::count_wait_reasons(
                {group("mail", kind, tenant, JobState::available, 1)}, limits, workers, now);
            REQUIRE(counts.size() == 1);
            CHECK(counts[0].reason == explain_wait(f, now).reason);
        }
    }
}

TEST_CASE("buckets are refilled to now when groups are counted") {
    const std::vector<LimitRecord> limits{rated(LimitScope::kind("k"), "1/s", 0)};
    const std::vector<WaitGroup> groups{group("q", "k", "", JobState::available, 5)};
    const std::vector<WorkerRecord> workers{worker("w", {"q"})};
    CHECK(jobq::count_wait_reasons(groups, limits, workers, now)[0].reason ==
          WaitReason::rate_limited);
    CHECK(jobq::count_wait_reasons(groups, limits, workers, now + 1s)[0].reason ==
          WaitReason::queued);
}

TEST_SUITE_END();
