// The Store contract for flow control: limit rows and their running counts, caps and rate
// limits applied by claim, tenants taking turns, tenant quotas, queue pause, worker records,
// the facts explain needs and the cancellation notice. Written only against jobq::Store, with
// explicit times, like the other conformance files.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "conformance_support.hpp"
#include "jobq/backend/claim_plan.hpp"
#include "jobq/backend/new_job.hpp"
#include "jobq/backend/notifier.hpp"
#include "jobq/backend/store.hpp"
#include "jobq/error.hpp"
#include "jobq/job_spec.hpp"
#include "jobq/quota_exceeded.hpp"

namespace jobq::conformance {
namespace {

using namespace std::chrono_literals;

constexpr const char* worker = "worker-1";

JobId enqueue(Store& store, const JobSpec& spec, Timestamp now = t0) {
    const NewJob job = to_new_job(spec, now);
    const std::vector<InsertResult> r = store.insert(std::span<const NewJob>(&job, 1));
    REQUIRE(r.size() == 1);
    return r[0].id;
}

void enqueue_n(Store& store, int n, const JobSpec& spec, Timestamp now = t0) {
    std::vector<NewJob> batch;
    for (int i = 0; i < n; ++i) batch.push_back(to_new_job(spec, now));
    store.insert(batch);
}

ClaimResult claim_many(Store& store, std::vector<QueueDemand> queues, Timestamp now,
                       const std::string& worker_id = worker) {
    ClaimRequest req;
    req.queues = std::move(queues);
    req.worker_id = worker_id;
    req.now = now;
    req.lease_expires_at = now + 30s;
    return store.claim(req);
}

std::vector<Job> claim(Store& store, const std::string& queue, int limit, Timestamp now,
                       const std::string& worker_id = worker) {
    return claim_many(store, {{queue, limit}}, now, worker_id).jobs;
}

Outcome done(const Job& job, Timestamp when, OutcomeKind kind = OutcomeKind::complete) {
    Outcome o;
    o.id = job.id;
    o.attempt = job.attempt;
    o.worker_id = job.worker_id;
    o.kind = kind;
    o.at = when;
    o.run_at = when;
    return o;
}

bool complete(Store& store, const Job& job, Timestamp when) {
    const Outcome o = done(job, when);
    const std::vector<bool> r = store.complete(std::span<const Outcome>(&o, 1));
    REQUIRE(r.size() == 1);
    return r[0];
}

FlowLimits cap(int n) {
    FlowLimits l;
    l.max_running = n;
    return l;
}

FlowLimits rate(int limit, Duration period, int burst = 0) {
    FlowLimits l;
    l.rate = RateLimit{limit, period, burst};
    return l;
}

std::int64_t running_of(Store& store, const LimitScope& scope) {
    const std::optional<LimitRecord> r = store.limit_record(scope);
    REQUIRE(r.has_value());
    return r->running;
}

std::map<std::string, int> count_by(const std::vector<Job>& jobs, std::string Job::*field) {
    std::map<std::string, int> m;
    for (const Job& j : jobs) ++m[j.*field];
    return m;
}

std::int64_t queued_jobs(Store& store, const std::string& tenant) {
    JobFilter f;
    f.tenant = tenant;
    f.states = {JobState::pending, JobState::scheduled, JobState::available, JobState::retryable};
    f.limit = 1000;
    return static_cast<std::int64_t>(store.list(f).jobs.size());
}

// ---- limit rows ---------------------------------------------------------------------------

TEST_CASE_FIXTURE(StoreTest, "flow: limit rows are created, read, replaced and removed") {
    CHECK(store.limit_records().empty());
    CHECK_FALSE(store.limit_record(LimitScope::kind("email.send")).has_value());

    FlowLimits l = cap(5);
    l.rate = RateLimit{50, 1s, 10};
    const LimitRecord written = store.set_limits(LimitScope::kind("email.send"), l, at(1));
    CHECK(written.scope == LimitScope::kind("email.send"));
    CHECK(written.limits == l);
    CHECK(written.running == 0);
    CHECK_FALSE(written.paused);
    CHECK(written.bucket.tokens == doctest::Approx(10.0));  // a new rate starts full
    CHECK(written.bucket.at == at(1));
    CHECK(written.updated_at == at(1));
    CHECK(store.limit_record(LimitScope::kind("email.send")) == written);

    FlowLimits quota;
    quota.max_queued = 100;
    quota.weight = 3;
    store.set_limits(LimitScope::tenant("acme"), quota, at(2));
    store.set_limits(LimitScope::queue("mail"), cap(2), at(3));

    const std::vector<LimitRecord> all = store.limit_records();
    REQUIRE(all.size() == 3);
    CHECK(all[0].scope == LimitScope::queue("mail"));  // by type (queue, kind, tenant), name
    CHECK(all[1].scope == LimitScope::kind("email.send"));
    CHECK(all[2].scope == LimitScope::tenant("acme"));
    CHECK(all[2].limits.max_queued == 100);
    CHECK(all[2].limits.weight == 3);

    // Setting replaces every limit: the rate is gone, the cap changed.
    const LimitRecord replaced = store.set_limits(LimitScope::kind("email.send"), cap(7), at(4));
    CHECK(replaced.limits.max_running == 7);
    CHECK_FALSE(replaced.limits.rate.has_value());
    CHECK(replaced.updated_at == at(4));

    CHECK(store.remove_limits(LimitScope::kind("email.send"), at(5)));
    CHECK_FALSE(store.limit_record(LimitScope::kind("email.send")).has_value());
    CHECK_FALSE(store.remove_limits(LimitScope::kind("email.send"), at(5)));
    CHECK(store.limit_records().size() == 2);
}

TEST_CASE_FIXTURE(StoreTest,
                  "flow: a changed rate keeps the bucket's tokens, clamped to the new size") {
    store.set_limits(LimitScope::queue("q"), rate(10, 1s), at(0));
    enqueue_n(store, 8, JobSpec{"k"}.queue("q"));
    REQUIRE(claim(store, "q", 8, at(0)).size() == 8);  // 10 - 8 = 2 tokens left
    const LimitRecord r = store.set_limits(LimitScope::queue("q"), rate(100, 1s, 50), at(0));
    CHECK(r.bucket.tokens == doctest::Approx(2.0));  // not refilled by the change
    const LimitRecord lower = store.set_limits(LimitScope::queue("q"), rate(1, 1s), at(10));
    CHECK(lower.bucket.tokens == doctest::Approx(1.0));  // full after 10 s, clamped to 1
}

TEST_CASE_FIXTURE(StoreTest, "flow: a new row counts the jobs of its scope already running") {
    enqueue_n(store, 3, JobSpec{"a"}.queue("q"));
    enqueue_n(store, 2, JobSpec{"b"}.queue("q"));
    REQUIRE(claim(store, "q", 4, at(1)).size() == 4);
    CHECK(store.set_limits(LimitScope::queue("q"), cap(10), at(2)).running == 4);
    CHECK(store.set_limits(LimitScope::kind("a"), cap(10), at(2)).running == 3);
    CHECK(store.set_limits(LimitScope::kind("b"), cap(10), at(2)).running == 1);
    CHECK(store.set_limits(LimitScope::tenant("nobody"), cap(10), at(2)).running == 0);
}

// ---- pause --------------------------------------------------------------------------------

TEST_CASE_FIXTURE(StoreTest, "flow: a paused queue gives nothing until it is resumed") {
    enqueue_n(store, 3, JobSpec{"k"}.queue("q"));
    enqueue(store, JobSpec{"k"}.queue("other"));
    CHECK(store.set_queue_paused("q", true, at(1)));
    CHECK_FALSE(store.set_queue_paused("q", true, at(1)));  // already paused
    const std::optional<LimitRecord> row = store.limit_record(LimitScope::queue("q"));
    REQUIRE(row.has_value());
    CHECK(row->paused);

    CHECK(claim(store, "q", 10, at(2)).empty());
    CHECK(claim(store, "other", 10, at(2)).size() == 1);  // other queues are not affected

    CHECK(store.set_queue_paused("q", false, at(3)));
    CHECK_FALSE(store.set_queue_paused("q", false, at(3)));
    CHECK_FALSE(store.limit_record(LimitScope::queue("q")).has_value());  // nothing left to keep
    CHECK(claim(store, "q", 10, at(4)).size() == 3);
}

TEST_CASE_FIXTURE(StoreTest, "flow: pause and limits of one queue live side by side") {
    store.set_limits(LimitScope::queue("q"), cap(3), at(0));
    REQUIRE(store.set_queue_paused("q", true, at(1)));
    // Setting limits keeps the pause; removing them keeps the paused row.
    CHECK(store.set_limits(LimitScope::queue("q"), cap(4), at(2)).paused);
    CHECK(store.remove_limits(LimitScope::queue("q"), at(3)));
    std::optional<LimitRecord> row = store.limit_record(LimitScope::queue("q"));
    REQUIRE(row.has_value());
    CHECK(row->paused);
    CHECK_FALSE(row->limits.max_running.has_value());
    CHECK_FALSE(store.remove_limits(LimitScope::queue("q"), at(3)));  // no limits left
    // Resuming a queue with limits keeps the row and its limits.
    store.set_limits(LimitScope::queue("q"), cap(2), at(4));
    REQUIRE(store.set_queue_paused("q", false, at(5)));
    row = store.limit_record(LimitScope::queue("q"));
    REQUIRE(row.has_value());
    CHECK_FALSE(row->paused);
    CHECK(row->limits.max_running == 2);
}

// ---- caps ---------------------------------------------------------------------------------

TEST_CASE_FIXTURE(StoreTest, "flow: a queue cap holds across claims and frees with completions") {
    store.set_limits(LimitScope::queue("q"), cap(2), at(0));
    enqueue_n(store, 5, JobSpec{"k"}.queue("q"));
    std::vector<Job> first = claim(store, "q", 10, at(1));
    CHECK(first.size() == 2);
    CHECK(claim(store, "q", 10, at(1), "worker-2").empty());
    CHECK(running_of(store, LimitScope::queue("q")) == 2);

    REQUIRE(complete(store, first[0], at(2)));
    CHECK(running_of(store, LimitScope::queue("q")) == 1);
    std::vector<Job> second = claim(store, "q", 10, at(3), "worker-2");
    CHECK(second.size() == 1);
    CHECK(running_of(store, LimitScope::queue("q")) == 2);
}

TEST_CASE_FIXTURE(StoreTest, "flow: a kind cap skips that kind and takes the others behind it") {
    store.set_limits(LimitScope::kind("slow"), cap(1), at(0));
    enqueue_n(store, 3, JobSpec{"slow"}.queue("q"));
    enqueue_n(store, 3, JobSpec{"fast"}.queue("q"), at(1));
    const std::vector<Job> jobs = claim(store, "q", 10, at(2));
    const auto by_kind = count_by(jobs, &Job::kind);
    CHECK(by_kind.at("slow") == 1);
    CHECK(by_kind.at("fast") == 3);
    CHECK(running_of(store, LimitScope::kind("slow")) == 1);
    CHECK(claim(store, "q", 10, at(3)).empty());  // only capped jobs are left
}

TEST_CASE_FIXTURE(StoreTest, "flow: a kind cap holds across the queues of one claim") {
    store.set_limits(LimitScope::kind("k"), cap(3), at(0));
    enqueue_n(store, 5, JobSpec{"k"}.queue("q1"));
    enqueue_n(store, 5, JobSpec{"k"}.queue("q2"));
    const ClaimResult r = claim_many(store, {{"q1", 10}, {"q2", 10}}, at(1));
    CHECK(r.jobs.size() == 3);
    CHECK(running_of(store, LimitScope::kind("k")) == 3);
}

TEST_CASE_FIXTURE(StoreTest, "flow: a tenant cap limits that tenant only") {
    store.set_limits(LimitScope::tenant("noisy"), cap(2), at(0));
    enqueue_n(store, 10, JobSpec{"k"}.queue("q").tenant("noisy"));
    enqueue_n(store, 3, JobSpec{"k"}.queue("q").tenant("quiet"), at(1));
    const std::vector<Job> jobs = claim(store, "q", 20, at(2));
    const auto by_tenant = count_by(jobs, &Job::tenant);
    CHECK(by_tenant.at("noisy") == 2);
    CHECK(by_tenant.at("quiet") == 3);
    CHECK(running_of(store, LimitScope::tenant("noisy")) == 2);
}

TEST_CASE_FIXTURE(StoreTest, "flow: every way out of running gives the slot back, once") {
    store.set_limits(LimitScope::queue("q"), cap(10), at(0));
    store.set_limits(LimitScope::kind("k"), cap(10), at(0));
    store.set_limits(LimitScope::tenant("t"), cap(10), at(0));
    enqueue_n(store, 6, JobSpec{"k"}.queue("q").tenant("t").max_attempts(1));
    std::vector<Job> jobs = claim(store, "q", 6, at(1));
    REQUIRE(jobs.size() == 6);
    auto all_running = [&](std::int64_t n) {
        CHECK(running_of(store, LimitScope::queue("q")) == n);
        CHECK(running_of(store, LimitScope::kind("k")) == n);
        CHECK(running_of(store, LimitScope::tenant("t")) == n);
    };
    all_running(6);

    REQUIRE(complete(store, jobs[0], at(2)));
    all_running(5);
    CHECK_FALSE(complete(store, jobs[0], at(2)));  // fenced out: no second decrement
    all_running(5);

    Outcome wrong = done(jobs[1], at(2));
    wrong.worker_id = "someone-else";
    CHECK_FALSE(store.complete(std::span<const Outcome>(&wrong, 1))[0]);
    all_running(5);

    REQUIRE(store.cancel(jobs[1].id, at(3)).changed);
    all_running(4);

    // The rescuer's outcome for an expired lease.
    Outcome rescue = done(jobs[2], at(40), OutcomeKind::retry);
    rescue.only_if_lease_expired_by = at(40);
    REQUIRE(store.complete(std::span<const Outcome>(&rescue, 1))[0]);
    all_running(3);

    // A batch mixing kinds of outcome.
    std::vector<Outcome> batch = {done(jobs[3], at(41), OutcomeKind::discard),
                                  done(jobs[4], at(41), OutcomeKind::snooze),
                                  done(jobs[5], at(41), OutcomeKind::retry)};
    store.complete(batch);
    all_running(0);
}

TEST_CASE_FIXTURE(StoreTest, "flow: completing a limited job wakes its queue") {
    store.set_limits(LimitScope::kind("k"), cap(1), at(0));
    enqueue_n(store, 2, JobSpec{"k"}.queue("q"));
    std::vector<Job> jobs = claim(store, "q", 5, at(1));
    REQUIRE(jobs.size() == 1);
    std::atomic<int> woken{0};
    Subscription sub = store.notifier().subscribe([&](std::string_view q) {
        if (q == "q" || q.empty()) ++woken;
    });
    REQUIRE(complete(store, jobs[0], at(2)));
    CHECK(woken.load() >= 1);
}

// ---- rate limits --------------------------------------------------------------------------

TEST_CASE_FIXTURE(StoreTest, "flow: a rate limit lets a burst through, then one start per token") {
    store.set_limits(LimitScope::queue("q"), rate(4, 1s, 2), at(0));  // 4/s, burst 2
    enqueue_n(store, 20, JobSpec{"k"}.queue("q"));

    ClaimResult r = claim_many(store, {{"q", 10}}, at(0));
    CHECK(r.jobs.size() == 2);
    REQUIRE(r.throttled_until.has_value());
    CHECK(*r.throttled_until == at(0) + 250ms);  // the next token

    r = claim_many(store, {{"q", 10}}, at(0) + 100ms);
    CHECK(r.jobs.empty());
    CHECK(r.throttled_until == at(0) + 250ms);

    r = claim_many(store, {{"q", 10}}, at(0) + 250ms);
    CHECK(r.jobs.size() == 1);

    // A long gap refills only up to the burst.
    r = claim_many(store, {{"q", 10}}, at(100));
    CHECK(r.jobs.size() == 2);

    const std::optional<LimitRecord> row = store.limit_record(LimitScope::queue("q"));
    REQUIRE(row.has_value());
    CHECK(row->bucket.at == at(100));
    CHECK(row->bucket.tokens == doctest::Approx(0.0).epsilon(1e-6));
}

TEST_CASE_FIXTURE(StoreTest, "flow: a kind's rate limit is shared by every worker") {
    store.set_limits(LimitScope::kind("api.call"), rate(3, 1min), at(0));
    enqueue_n(store, 10, JobSpec{"api.call"}.queue("q"));
    enqueue_n(store, 2, JobSpec{"local"}.queue("q"), at(1));
    const std::vector<Job> a = claim(store, "q", 2, at(2), "w-a");
    const std::vector<Job> b = claim(store, "q", 10, at(2), "w-b");
    std::vector<Job> all = a;
    all.insert(all.end(), b.begin(), b.end());
    const auto by_kind = count_by(all, &Job::kind);
    CHECK(by_kind.at("api.call") == 3);
    CHECK(by_kind.at("local") == 2);
}

// ---- fairness -----------------------------------------------------------------------------

TEST_CASE_FIXTURE(StoreTest, "flow: tenants take turns, so a hot tenant cannot starve a cold one") {
    enqueue_n(store, 200, JobSpec{"k"}.queue("q").tenant("hot"), at(0));
    enqueue_n(store, 5, JobSpec{"k"}.queue("q").tenant("cold"), at(10));  // queued later
    const std::vector<Job> jobs = claim(store, "q", 10, at(20));
    REQUIRE(jobs.size() == 10);
    const auto by_tenant = count_by(jobs, &Job::tenant);
    CHECK(by_tenant.at("hot") == 5);
    CHECK(by_tenant.at("cold") == 5);
}

TEST_CASE_FIXTURE(StoreTest, "flow: jobs without a tenant take turns with the tenants") {
    enqueue_n(store, 50, JobSpec{"k"}.queue("q"), at(0));
    enqueue_n(store, 50, JobSpec{"k"}.queue("q").tenant("t"), at(1));
    const std::vector<Job> jobs = claim(store, "q", 10, at(2));
    const auto by_tenant = count_by(jobs, &Job::tenant);
    CHECK(by_tenant.at("") == 5);
    CHECK(by_tenant.at("t") == 5);
}

TEST_CASE_FIXTURE(StoreTest, "flow: tenant weights set each tenant's share of a claim") {
    FlowLimits heavy;
    heavy.weight = 3;
    store.set_limits(LimitScope::tenant("a"), heavy, at(0));
    enqueue_n(store, 50, JobSpec{"k"}.queue("q").tenant("a"), at(0));
    enqueue_n(store, 50, JobSpec{"k"}.queue("q").tenant("b"), at(0));
    const std::vector<Job> jobs = claim(store, "q", 8, at(1));
    const auto by_tenant = count_by(jobs, &Job::tenant);
    CHECK(by_tenant.at("a") == 6);
    CHECK(by_tenant.at("b") == 2);
}

TEST_CASE_FIXTURE(StoreTest, "flow: priorities still come before turns") {
    enqueue_n(store, 20, JobSpec{"k"}.queue("q").tenant("hot").priority(0), at(1));
    enqueue_n(store, 5, JobSpec{"k"}.queue("q").tenant("cold").priority(5), at(0));
    const std::vector<Job> jobs = claim(store, "q", 6, at(2));
    REQUIRE(jobs.size() == 6);
    for (const Job& j : jobs) CHECK(j.tenant == "hot");
    // And within a tenant, claim order is priority, run_at, id.
    for (std::size_t i = 1; i < jobs.size(); ++i) CHECK(jobs[i - 1].id < jobs[i].id);
}

TEST_CASE_FIXTURE(StoreTest,
                  "flow: with more tenants than one claim visits, later claims reach the rest") {
    const int tenants = max_tenants_per_claim + 4;
    for (int t = 0; t < tenants; ++t) {
        enqueue(store, JobSpec{"k"}.queue("q").tenant("t" + std::to_string(100 + t)));
    }
    std::set<std::string> seen;
    int claims = 0;
    for (; claims < 5 && static_cast<int>(seen.size()) < tenants; ++claims) {
        const ClaimResult r = claim_many(store, {{"q", 100}}, at(1 + claims));
        CHECK_FALSE(r.jobs.empty());
        for (const Job& j : r.jobs) CHECK(seen.insert(j.tenant).second);
        if (static_cast<int>(seen.size()) < tenants) {
            CHECK(std::find(r.more.begin(), r.more.end(), "q") != r.more.end());
        }
    }
    CHECK(static_cast<int>(seen.size()) == tenants);
    CHECK(claims <= 2);
}

// The rotation rule of jobq/backend/tenant_rotation.hpp, claim by claim: jobs without a
// tenant first and on top, then up to max_tenants_per_claim names after the cursor, wrapping;
// the cursor moves to the last name visited when some were left out.
std::string tenant_name(int i) {
    return "t" + std::to_string(100 + i);
}

std::set<std::string> tenants_of(const std::vector<Job>& jobs) {
    std::set<std::string> out;
    for (const Job& j : jobs) out.insert(j.tenant);
    return out;
}

std::set<std::string> tenant_range(int first, int last, bool plain = false) {
    std::set<std::string> out;
    for (int i = first; i <= last; ++i) out.insert(tenant_name(i));
    if (plain) out.insert("");
    return out;
}

TEST_CASE_FIXTURE(StoreTest, "flow: the tenant rotation visits names after the cursor, wrapping") {
    const int max = max_tenants_per_claim;
    for (int t = 0; t < max + 4; ++t) {
        enqueue_n(store, 3, JobSpec{"k"}.queue("q").tenant(tenant_name(t)), at(0));
    }
    enqueue_n(store, 3, JobSpec{"k"}.queue("q"), at(0));
    // A budget of one job per visited turn: each claim's tenants show its visit exactly.
    ClaimResult r = claim_many(store, {{"q", max + 1}}, at(1));
    CHECK(tenants_of(r.jobs) == tenant_range(0, max - 1, true));
    CHECK(r.jobs.size() == static_cast<std::size_t>(max + 1));
    CHECK(std::find(r.more.begin(), r.more.end(), "q") != r.more.end());

    r = claim_many(store, {{"q", max + 1}}, at(2));
    std::set<std::string> want = tenant_range(max, max + 3, true);   // after the cursor
    const std::set<std::string> wrapped = tenant_range(0, max - 5);  // then from the start
    want.insert(wrapped.begin(), wrapped.end());
    CHECK(tenants_of(r.jobs) == want);
    CHECK(std::find(r.more.begin(), r.more.end(), "q") != r.more.end());

    r = claim_many(store, {{"q", max + 1}}, at(3));
    want = tenant_range(max - 4, max + 3, true);
    const std::set<std::string> wrapped_again = tenant_range(0, max - 9);
    want.insert(wrapped_again.begin(), wrapped_again.end());
    CHECK(tenants_of(r.jobs) == want);
}

TEST_CASE_FIXTURE(StoreTest,
                  "flow: exactly a claim's worth of tenants after the cursor still wraps after") {
    const int max = max_tenants_per_claim;
    for (int t = 0; t < 2 * max; ++t) {
        enqueue_n(store, 3, JobSpec{"k"}.queue("q").tenant(tenant_name(t)), at(0));
    }
    ClaimResult r = claim_many(store, {{"q", max}}, at(1));
    CHECK(tenants_of(r.jobs) == tenant_range(0, max - 1));
    r = claim_many(store, {{"q", max}}, at(2));
    CHECK(tenants_of(r.jobs) == tenant_range(max, 2 * max - 1));
    // The first half still has work and has waited longest: it is next, and the store said so.
    CHECK(std::find(r.more.begin(), r.more.end(), "q") != r.more.end());
    r = claim_many(store, {{"q", max}}, at(3));
    CHECK(tenants_of(r.jobs) == tenant_range(0, max - 1));
}

TEST_CASE_FIXTURE(StoreTest, "flow: due scheduled and retryable tenant jobs are claimed too") {
    enqueue(store, JobSpec{"k"}.queue("q").tenant("t").run_at(at(5)), at(0));
    enqueue(store, JobSpec{"k"}.queue("q").tenant("u"), at(0));
    CHECK(claim(store, "q", 10, at(1)).size() == 1);
    const std::vector<Job> later = claim(store, "q", 10, at(6));
    REQUIRE(later.size() == 1);
    CHECK(later[0].tenant == "t");
}

// ---- quotas -------------------------------------------------------------------------------

TEST_CASE_FIXTURE(StoreTest,
                  "flow: an enqueue over a tenant's quota is refused and writes nothing") {
    FlowLimits quota;
    quota.max_queued = 3;
    store.set_limits(LimitScope::tenant("acme"), quota, at(0));
    enqueue_n(store, 2, JobSpec{"k"}.tenant("acme"));
    enqueue_n(store, 5, JobSpec{"k"}.tenant("other"));  // other tenants do not count

    // A batch that would go over writes none of its jobs, not even the ones that fit.
    std::vector<NewJob> batch = {to_new_job(JobSpec{"k"}.tenant("other"), t0),
                                 to_new_job(JobSpec{"k"}.tenant("acme"), t0),
                                 to_new_job(JobSpec{"k"}.tenant("acme"), t0)};
    try {
        store.insert(batch);
        FAIL("expected QuotaExceeded");
    } catch (const QuotaExceeded& e) {
        CHECK(e.code() == ErrorCode::quota_exceeded);
        CHECK(e.field() == "tenant");
        CHECK(e.tenant() == "acme");
        CHECK(e.limit() == 3);
        CHECK(e.queued() == 3);
        CHECK(std::string(e.what()).find("acme") != std::string::npos);
    }
    CHECK(queued_jobs(store, "acme") == 2);
    CHECK(queued_jobs(store, "other") == 5);

    enqueue(store, JobSpec{"k"}.tenant("acme"));  // the third fits
    CHECK_THROWS_AS(enqueue(store, JobSpec{"k"}.tenant("acme")), QuotaExceeded);
}

TEST_CASE_FIXTURE(StoreTest,
                  "flow: a quota counts queued jobs, not running, finished or coalesced ones") {
    FlowLimits quota;
    quota.max_queued = 2;
    store.set_limits(LimitScope::tenant("acme"), quota, at(0));
    enqueue(store, JobSpec{"k"}.tenant("acme").unique_key("once"));
    enqueue(store, JobSpec{"k"}.tenant("acme").delay(1h));  // scheduled counts
    // A duplicate coalesces into the existing job: nothing new, no refusal.
    const NewJob dup = to_new_job(JobSpec{"k"}.tenant("acme").unique_key("once"), t0);
    CHECK(store.insert(std::span<const NewJob>(&dup, 1))[0].duplicate);
    CHECK_THROWS_AS(enqueue(store, JobSpec{"k"}.tenant("acme")), QuotaExceeded);

    // Once one starts it no longer counts as queued.
    const std::vector<Job> running = claim(store, "default", 1, at(1));
    REQUIRE(running.size() == 1);
    enqueue(store, JobSpec{"k"}.tenant("acme"), at(2));
    CHECK_THROWS_AS(enqueue(store, JobSpec{"k"}.tenant("acme"), at(2)), QuotaExceeded);
    REQUIRE(complete(store, running[0], at(3)));
    CHECK_THROWS_AS(enqueue(store, JobSpec{"k"}.tenant("acme"), at(3)), QuotaExceeded);
}

// ---- cancellation -------------------------------------------------------------------------

TEST_CASE_FIXTURE(StoreTest, "flow: cancelling a running job announces it; others do not") {
    const JobId running_id = enqueue(store, JobSpec{"k"});
    REQUIRE(claim(store, "default", 1, at(1)).size() == 1);
    const JobId waiting_id = enqueue(store, JobSpec{"k"}, at(2));

    std::vector<JobId> heard;
    std::mutex m;
    Subscription sub = store.notifier().subscribe_cancelled([&](JobId id) {
        std::lock_guard lock(m);
        heard.push_back(id);
    });
    REQUIRE(store.cancel(running_id, at(3)).changed);
    REQUIRE(store.cancel(waiting_id, at(3)).changed);
    std::lock_guard lock(m);
    REQUIRE_FALSE(heard.empty());  // our own process hears at once
    CHECK(heard.front() == running_id);
    CHECK(std::count(heard.begin(), heard.end(), waiting_id) == 0);
}

// ---- workers and explain facts ------------------------------------------------------------

WorkerRecord worker_record(std::string id, std::vector<std::string> queues, Timestamp seen) {
    return WorkerRecord{std::move(id), std::move(queues), t0, seen, seen + 30s};
}

TEST_CASE_FIXTURE(StoreTest, "flow: worker records are kept while fresh") {
    store.record_worker(worker_record("w-b", {"mail", "default"}, at(10)));
    store.record_worker(worker_record("w-a", {"default"}, at(0)));
    std::vector<WorkerRecord> live = store.workers(at(20));
    REQUIRE(live.size() == 2);
    CHECK(live[0].id == "w-a");
    CHECK(live[1] == worker_record("w-b", {"mail", "default"}, at(10)));

    // w-a's record expires at 30 s; a later record of w-b replaces its earlier one.
    store.record_worker(worker_record("w-b", {"mail"}, at(25)));
    live = store.workers(at(31));
    REQUIRE(live.size() == 1);
    CHECK(live[0].queues == std::vector<std::string>{"mail"});
    CHECK(live[0].seen_at == at(25));

    store.remove_worker("w-b");
    store.remove_worker("never-there");
    CHECK(store.workers(at(31)).empty());
}

TEST_CASE_FIXTURE(StoreTest,
                  "flow: wait facts name the job's rows, what is ahead and who serves it") {
    CHECK_FALSE(store.wait_facts(12345, at(0)).has_value());

    store.set_limits(LimitScope::queue("q"), cap(4), at(0));
    store.set_limits(LimitScope::kind("k"), rate(1, 1s), at(0));
    store.set_limits(LimitScope::kind("unrelated"), cap(1), at(0));
    store.set_limits(LimitScope::tenant("t"), cap(2), at(0));
    enqueue(store, JobSpec{"k"}.queue("q").priority(1), at(0));
    enqueue(store, JobSpec{"other"}.queue("q").priority(0), at(1));
    enqueue(store, JobSpec{"k"}.queue("elsewhere"), at(1));
    const JobId id = enqueue(store, JobSpec{"k"}.queue("q").tenant("t").priority(1), at(2));
    enqueue(store, JobSpec{"k"}.queue("q").priority(1), at(3));                // behind it
    enqueue(store, JobSpec{"k"}.queue("q").priority(0).run_at(at(4)), at(0));  // due by then
    store.record_worker(worker_record("w-q", {"q"}, at(2)));
    store.record_worker(worker_record("w-other", {"elsewhere"}, at(2)));

    const std::optional<WaitFacts> facts = store.wait_facts(id, at(5));
    REQUIRE(facts.has_value());
    CHECK(facts->job.id == id);
    CHECK(facts->ahead == 3);
    std::set<std::string> scopes;
    for (const LimitRecord& r : facts->limits) scopes.insert(r.scope.to_string());
    CHECK(scopes == std::set<std::string>{"queue:q", "kind:k", "tenant:t"});
    REQUIRE(facts->workers.size() == 1);
    CHECK(facts->workers[0].id == "w-q");

    // A job not yet due has nothing ahead of it.
    const JobId later = enqueue(store, JobSpec{"k"}.queue("q").run_at(at(100)), at(5));
    const std::optional<WaitFacts> scheduled = store.wait_facts(later, at(6));
    REQUIRE(scheduled.has_value());
    CHECK(scheduled->job.state == JobState::scheduled);
    CHECK(scheduled->ahead == 0);
}

TEST_CASE_FIXTURE(StoreTest, "flow: wait groups count waiting jobs, due ones as available") {
    enqueue_n(store, 3, JobSpec{"a"}.queue("q").tenant("t"), at(0));
    enqueue_n(store, 2, JobSpec{"a"}.queue("q").tenant("t").run_at(at(5)), at(0));
    enqueue_n(store, 4, JobSpec{"a"}.queue("q").tenant("t").run_at(at(50)), at(0));
    enqueue_n(store, 1, JobSpec{"b"}.queue("r"), at(0));
    enqueue(store, JobSpec{"c"}.queue("r"), at(0));
    REQUIRE(claim(store, "r", 1, at(1)).size() == 1);  // running: not waiting

    std::map<std::string, std::int64_t> got;
    for (const WaitGroup& g : store.wait_groups(at(10))) {
        got[g.queue + "/" + g.kind + "/" + g.tenant + "/" + std::string(to_string(g.state))] +=
            g.count;
    }
    const std::map<std::string, std::int64_t> want = {
        {"q/a/t/available", 5}, {"q/a/t/scheduled", 4}, {"r/c//available", 1}};
    CHECK(got == want);
}

}  // namespace
}  // namespace jobq::conformance
