// The Store contract, as one suite every backend must pass unchanged. Cases use only
// jobq::Store and the public header types; the backend comes from store_factory.hpp. Every
// time is explicit, so nothing here sleeps or reads a clock.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <doctest/doctest.h>

#include "conformance_support.hpp"
#include "jobq/backend/new_job.hpp"
#include "jobq/backend/store.hpp"
#include "jobq/error.hpp"
#include "jobq/job_spec.hpp"

namespace jobq::conformance {
namespace {

using namespace std::chrono_literals;

constexpr const char* worker = "worker-1";

NewJob new_job(const JobSpec& spec, Timestamp now = t0) {
    return to_new_job(spec, now);
}

JobId insert(Store& store, const NewJob& job) {
    const std::vector<InsertResult> r = store.insert(std::span<const NewJob>(&job, 1));
    REQUIRE(r.size() == 1);
    REQUIRE_FALSE(r[0].duplicate);
    return r[0].id;
}

JobId enqueue(Store& store, const JobSpec& spec, Timestamp now = t0) {
    return insert(store, new_job(spec, now));
}

InsertResult insert_result(Store& store, const JobSpec& spec, Timestamp now = t0) {
    const NewJob job = new_job(spec, now);
    const std::vector<InsertResult> r = store.insert(std::span<const NewJob>(&job, 1));
    REQUIRE(r.size() == 1);
    return r[0];
}

std::vector<Job> claim(Store& store, const std::string& queue, int limit, Timestamp now,
                       const std::string& worker_id = worker) {
    ClaimRequest req;
    req.queues = {{queue, limit}};
    req.worker_id = worker_id;
    req.now = now;
    req.lease_expires_at = now + 30s;
    return store.claim(req).jobs;
}

Job claim_one(Store& store, const std::string& queue, Timestamp now,
              const std::string& worker_id = worker) {
    std::vector<Job> jobs = claim(store, queue, 1, now, worker_id);
    REQUIRE(jobs.size() == 1);
    return jobs[0];
}

Outcome outcome(const Job& job, OutcomeKind kind, Timestamp when) {
    Outcome o;
    o.id = job.id;
    o.attempt = job.attempt;
    o.worker_id = job.worker_id;
    o.kind = kind;
    o.at = when;
    return o;
}

AttemptError attempt_error(int attempt, Timestamp when, std::string kind, std::string message) {
    AttemptError e;
    e.attempt = attempt;
    e.at = when;
    e.kind = std::move(kind);
    e.message = std::move(message);
    return e;
}

bool apply(Store& store, const Outcome& o) {
    const std::vector<bool> r = store.complete(std::span<const Outcome>(&o, 1));
    REQUIRE(r.size() == 1);
    return r[0];
}

Job get(Store& store, JobId id) {
    std::optional<Job> job = store.get(id);
    REQUIRE(job.has_value());
    return *job;
}

std::vector<JobId> ids_of(const std::vector<Job>& jobs) {
    std::vector<JobId> ids;
    for (const Job& j : jobs) ids.push_back(j.id);
    return ids;
}

// A job finished at `when` with the given outcome; it is claimed alone from its own queue.
JobId finished_job(Store& store, const JobSpec& spec, OutcomeKind kind, Timestamp when) {
    const JobId id = enqueue(store, spec, when - 10s);
    const Job job = claim_one(store, spec.queue(), when - 5s);
    REQUIRE(job.id == id);
    Outcome o = outcome(job, kind, when);
    if (kind == OutcomeKind::discard) o.error = attempt_error(job.attempt, when, "discard", "no");
    REQUIRE(apply(store, o));
    return id;
}

// A job's whole observable record, for "nothing changed" checks.
nlohmann::json snapshot(Store& store, JobId id) {
    return to_json(get(store, id));
}

const QueueStats* find_stats(const std::vector<QueueStats>& all, const std::string& queue) {
    for (const QueueStats& s : all) {
        if (s.queue == queue) return &s;
    }
    return nullptr;
}

}  // namespace

// ---- schema --------------------------------------------------------------------------------

TEST_CASE("a fresh database is at schema version 0 and migrate brings it to the library's") {
    auto db = make_test_database(false);
    Store& store = db->store();
    CHECK(store.schema_version() == 0);
    const int version = store.migrate();
    CHECK(version > 0);
    CHECK(store.schema_version() == version);
}

TEST_CASE_FIXTURE(StoreTest, "migrate is idempotent and keeps the data") {
    const JobId id = enqueue(store, JobSpec{"k"});
    const int version = store.schema_version();
    CHECK(store.migrate() == version);
    CHECK(store.migrate() == version);
    CHECK(store.schema_version() == version);
    CHECK(get(store, id).kind == "k");
}

TEST_CASE("operations on an unmigrated database fail with a schema error") {
    auto db = make_test_database(false);
    Store& store = db->store();
    const NewJob job = new_job(JobSpec{"k"});
    auto code_of = [](auto&& op) -> std::optional<ErrorCode> {
        try {
            op();
        } catch (const Error& e) {
            return e.code();
        }
        return std::nullopt;
    };
    CHECK(code_of([&] { store.insert(std::span<const NewJob>(&job, 1)); }) == ErrorCode::schema);
    CHECK(code_of([&] { claim(store, "default", 1, t0); }) == ErrorCode::schema);
    CHECK(code_of([&] { store.get(1); }) == ErrorCode::schema);
    CHECK(code_of([&] { store.stats(t0); }) == ErrorCode::schema);
    CHECK(store.schema_version() == 0);
}

// ---- insert ---------------------------------------------------------------------------------

TEST_CASE_FIXTURE(StoreTest, "insert round-trips every field") {
    NewJob in;
    in.kind = "email.send";
    in.queue = "mail";
    in.tenant = "acme";
    in.payload = R"({"to":"a@example.com","name":"Jürgen","n":[1,2.5,null]})";
    in.priority = 3;
    in.state = JobState::scheduled;
    in.created_at = at(0) + 123us;
    in.run_at = at(90) + 7us;
    in.max_attempts = 7;
    in.timeout = 45s;
    in.tags = {"welcome", "tier-1", "ünïcode"};
    const RetryPolicy policy = RetryPolicy::linear(2s, 1min);
    in.retry_policy = policy.to_json().dump();
    in.unique_key = "g:welcome:42";
    in.unique_states = {JobState::scheduled, JobState::available};

    const JobId id = insert(store, in);
    CHECK(id > 0);
    const Job out = get(store, id);
    CHECK(out.id == id);
    CHECK(out.kind == in.kind);
    CHECK(out.queue == in.queue);
    CHECK(out.tenant == in.tenant);
    CHECK(out.payload == nlohmann::json::parse(in.payload));
    CHECK(out.priority == 3);
    CHECK(out.state == JobState::scheduled);
    CHECK(out.attempt == 0);
    CHECK(out.max_attempts == 7);
    CHECK(out.created_at == in.created_at);
    CHECK(out.run_at == in.run_at);
    CHECK_FALSE(out.attempted_at.has_value());
    CHECK_FALSE(out.finished_at.has_value());
    CHECK_FALSE(out.lease_expires_at.has_value());
    CHECK(out.worker_id.empty());
    REQUIRE(out.timeout.has_value());
    CHECK(*out.timeout == Duration{45s});
    CHECK(out.unique_key == in.unique_key);
    CHECK(out.tags == in.tags);
    CHECK(out.errors.empty());
    CHECK(out.result.is_null());
    REQUIRE(out.retry_policy.has_value());
    CHECK(*out.retry_policy == policy);
}

TEST_CASE_FIXTURE(StoreTest, "a job inserted without optional fields reads back without them") {
    const JobId id = enqueue(store, JobSpec{"plain"});
    const Job job = get(store, id);
    CHECK(job.tenant.empty());
    CHECK(job.payload == nlohmann::json::object());
    CHECK(job.state == JobState::available);
    CHECK(job.max_attempts == default_max_attempts);
    CHECK_FALSE(job.timeout.has_value());
    CHECK(job.unique_key.empty());
    CHECK(job.tags.empty());
    CHECK_FALSE(job.retry_policy.has_value());
}

TEST_CASE_FIXTURE(StoreTest, "get of an unknown id is nullopt") {
    CHECK_FALSE(store.get(424242).has_value());
}

TEST_CASE_FIXTURE(StoreTest, "a batch insert returns one result per job, in order") {
    std::vector<NewJob> batch;
    for (int i = 0; i < 5; ++i) batch.push_back(new_job(JobSpec{"k", {{"i", i}}}));
    const std::vector<InsertResult> r = store.insert(batch);
    REQUIRE(r.size() == 5);
    for (int i = 0; i < 5; ++i) {
        CHECK_FALSE(r[i].duplicate);
        if (i > 0) CHECK(r[i].id > r[i - 1].id);
        CHECK(get(store, r[i].id).payload.at("i") == i);
    }
    CHECK(store.insert(std::span<const NewJob>{}).empty());
}

// ---- unique jobs ----------------------------------------------------------------------------

TEST_CASE_FIXTURE(StoreTest, "a duplicate unique key coalesces into the existing job") {
    const InsertResult first = insert_result(store, JobSpec{"k"}.unique_key("welcome:42"));
    const InsertResult second =
        insert_result(store, JobSpec{"k", {{"other", true}}}.unique_key("welcome:42"), at(1));
    CHECK_FALSE(first.duplicate);
    CHECK(second.duplicate);
    CHECK(second.id == first.id);
    CHECK(store.list(JobFilter{}).jobs.size() == 1);
    CHECK(get(store, first.id).payload == nlohmann::json::object());
}

TEST_CASE_FIXTURE(StoreTest, "a unique key is free again once its job finished") {
    const JobSpec spec = JobSpec{"k"}.queue("u").unique_key("once");
    const JobId first = finished_job(store, spec, OutcomeKind::complete, at(10));
    const InsertResult again = insert_result(store, spec, at(20));
    CHECK_FALSE(again.duplicate);
    CHECK(again.id != first);
}

TEST_CASE_FIXTURE(StoreTest, "only jobs in the listed unique states block a duplicate") {
    const JobSpec spec = JobSpec{"k"}.unique_key("x").unique_states({JobState::available});
    const InsertResult first = insert_result(store, spec);
    CHECK(insert_result(store, spec, at(1)).duplicate);
    claim_one(store, "default", at(2));  // running: no longer in the list
    const InsertResult third = insert_result(store, spec, at(3));
    CHECK_FALSE(third.duplicate);
    CHECK(third.id != first.id);
}

TEST_CASE_FIXTURE(StoreTest, "a finished job blocks a duplicate when its state is listed") {
    const JobSpec spec = JobSpec{"k"}.queue("u").unique_key("x").unique_states(
        {JobState::available, JobState::completed});
    const JobId first = finished_job(store, spec, OutcomeKind::complete, at(10));
    const InsertResult again = insert_result(store, spec, at(20));
    CHECK(again.duplicate);
    CHECK(again.id == first);
}

TEST_CASE_FIXTURE(StoreTest, "only jobs created within the unique window block a duplicate") {
    const JobSpec spec = JobSpec{"k"}.unique_key("w").unique_window(60s);
    const InsertResult first = insert_result(store, spec, at(0));
    const InsertResult inside = insert_result(store, spec, at(60));  // created at the edge
    const InsertResult outside = insert_result(store, spec, at(61));
    CHECK(inside.duplicate);
    CHECK(inside.id == first.id);
    CHECK_FALSE(outside.duplicate);
    CHECK(outside.id != first.id);
}

TEST_CASE_FIXTURE(StoreTest, "the same unique key in different scopes does not collide") {
    const InsertResult a = insert_result(store, JobSpec{"k"}.tenant("a").unique_key("key"));
    const InsertResult b = insert_result(store, JobSpec{"k"}.tenant("b").unique_key("key"));
    const InsertResult global = insert_result(store, JobSpec{"k"}.unique_key("key"));
    const InsertResult a_again = insert_result(store, JobSpec{"k"}.tenant("a").unique_key("key"));
    CHECK_FALSE(b.duplicate);
    CHECK_FALSE(global.duplicate);
    CHECK(std::set<JobId>{a.id, b.id, global.id}.size() == 3);
    CHECK(a_again.duplicate);
    CHECK(a_again.id == a.id);
}

TEST_CASE_FIXTURE(StoreTest, "duplicates inside one batch coalesce into the first of them") {
    const std::vector<NewJob> batch{
        new_job(JobSpec{"k", {{"n", 1}}}.unique_key("same")),
        new_job(JobSpec{"k", {{"n", 2}}}),
        new_job(JobSpec{"k", {{"n", 3}}}.unique_key("same")),
    };
    const std::vector<InsertResult> r = store.insert(batch);
    REQUIRE(r.size() == 3);
    CHECK_FALSE(r[0].duplicate);
    CHECK_FALSE(r[1].duplicate);
    CHECK(r[2].duplicate);
    CHECK(r[2].id == r[0].id);
    CHECK(store.list(JobFilter{}).jobs.size() == 2);
}

// ---- claim ----------------------------------------------------------------------------------

TEST_CASE_FIXTURE(StoreTest, "claim takes jobs by priority, then run_at, then id") {
    const Timestamp now = at(100);
    const JobId a = enqueue(store, JobSpec{"k"}.priority(1).run_at(at(10)), now);
    const JobId b = enqueue(store, JobSpec{"k"}.priority(0).run_at(at(20)), now);
    const JobId c = enqueue(store, JobSpec{"k"}.priority(0).run_at(at(5)), now);
    const JobId d = enqueue(store, JobSpec{"k"}.priority(1).run_at(at(10)), now);
    const JobId e = enqueue(store, JobSpec{"k"}.priority(0).run_at(at(20)), now);
    // Claimed two at a time, so the limit must pick the most urgent, not just sort them.
    CHECK(ids_of(claim(store, "default", 2, now)) == std::vector<JobId>{c, b});
    CHECK(ids_of(claim(store, "default", 2, now)) == std::vector<JobId>{e, a});
    CHECK(ids_of(claim(store, "default", 2, now)) == std::vector<JobId>{d});
    CHECK(claim(store, "default", 2, now).empty());
}

TEST_CASE_FIXTURE(StoreTest, "a claim returns its jobs sorted in claim order") {
    const Timestamp now = at(100);
    const JobId late = enqueue(store, JobSpec{"k"}.priority(5).run_at(at(1)), now);
    const JobId urgent = enqueue(store, JobSpec{"k"}.priority(0).run_at(at(50)), now);
    const JobId early = enqueue(store, JobSpec{"k"}.priority(0).run_at(at(2)), now);
    CHECK(ids_of(claim(store, "default", 10, now)) == std::vector<JobId>{early, urgent, late});
}

TEST_CASE_FIXTURE(StoreTest, "a due scheduled job takes its place in claim order") {
    const JobId scheduled = enqueue(store, JobSpec{"k"}.run_at(at(30)), at(0));
    const JobId older = enqueue(store, JobSpec{"k"}, at(20));
    const JobId newer = enqueue(store, JobSpec{"k"}, at(40));
    CHECK(get(store, scheduled).state == JobState::scheduled);
    CHECK(ids_of(claim(store, "default", 10, at(50))) ==
          std::vector<JobId>{older, scheduled, newer});
}

TEST_CASE_FIXTURE(StoreTest, "claim honours each queue's limit and serves several queues") {
    for (int i = 0; i < 3; ++i) enqueue(store, JobSpec{"k"}.queue("a"));
    for (int i = 0; i < 3; ++i) enqueue(store, JobSpec{"k"}.queue("b"));
    enqueue(store, JobSpec{"k"}.queue("c"));
    const JobId other = enqueue(store, JobSpec{"k"}.queue("d"));

    ClaimRequest req;
    req.queues = {{"a", 2}, {"b", 1}, {"c", 5}};
    req.worker_id = worker;
    req.now = at(1);
    req.lease_expires_at = at(31);
    const std::vector<Job> jobs = store.claim(req).jobs;
    std::map<std::string, int> per_queue;
    for (const Job& j : jobs) ++per_queue[j.queue];
    CHECK(per_queue == std::map<std::string, int>{{"a", 2}, {"b", 1}, {"c", 1}});
    CHECK(get(store, other).state == JobState::available);
}

TEST_CASE_FIXTURE(StoreTest, "a scheduled job is not claimable before its run_at, and is at it") {
    const JobId id = enqueue(store, JobSpec{"k"}.delay(60s), at(0));
    CHECK(get(store, id).state == JobState::scheduled);
    CHECK(claim(store, "default", 10, at(59)).empty());
    CHECK(ids_of(claim(store, "default", 10, at(60))) == std::vector<JobId>{id});
}

TEST_CASE_FIXTURE(StoreTest, "claim marks a job running with the next attempt, worker and lease") {
    const JobId id = enqueue(store, JobSpec{"k"}, at(0));
    ClaimRequest req;
    req.queues = {{"default", 1}};
    req.worker_id = "host-a:123";
    req.now = at(5);
    req.lease_expires_at = at(35);
    const std::vector<Job> jobs = store.claim(req).jobs;
    REQUIRE(jobs.size() == 1);
    for (const Job& job : {jobs[0], get(store, id)}) {
        CHECK(job.id == id);
        CHECK(job.state == JobState::running);
        CHECK(job.attempt == 1);
        CHECK(job.worker_id == "host-a:123");
        CHECK(job.lease_expires_at == std::optional<Timestamp>{at(35)});
        CHECK(job.attempted_at == std::optional<Timestamp>{at(5)});
    }
    CHECK(claim(store, "default", 10, at(6)).empty());
}

// ---- outcomes -------------------------------------------------------------------------------

TEST_CASE_FIXTURE(StoreTest, "complete records the result and ends the job") {
    enqueue(store, JobSpec{"k"});
    const Job job = claim_one(store, "default", at(1));
    Outcome o = outcome(job, OutcomeKind::complete, at(2));
    o.result = R"({"sent":true})";
    CHECK(apply(store, o));
    const Job done = get(store, job.id);
    CHECK(done.state == JobState::completed);
    CHECK(done.result == nlohmann::json{{"sent", true}});
    CHECK(done.finished_at == std::optional<Timestamp>{at(2)});
    CHECK_FALSE(done.lease_expires_at.has_value());
    CHECK(done.attempt == 1);
    CHECK(done.worker_id == worker);
    CHECK(done.errors.empty());
}

TEST_CASE_FIXTURE(StoreTest, "complete without a result leaves the result null") {
    enqueue(store, JobSpec{"k"});
    const Job job = claim_one(store, "default", at(1));
    CHECK(apply(store, outcome(job, OutcomeKind::complete, at(2))));
    CHECK(get(store, job.id).result.is_null());
}

TEST_CASE_FIXTURE(StoreTest, "an outcome for the wrong attempt is refused and changes nothing") {
    enqueue(store, JobSpec{"k"});
    const Job job = claim_one(store, "default", at(1));
    const nlohmann::json before = snapshot(store, job.id);
    Outcome o = outcome(job, OutcomeKind::complete, at(2));
    o.attempt = job.attempt + 1;
    CHECK_FALSE(apply(store, o));
    CHECK(snapshot(store, job.id) == before);
}

TEST_CASE_FIXTURE(StoreTest, "an outcome from another worker is refused and changes nothing") {
    enqueue(store, JobSpec{"k"});
    const Job job = claim_one(store, "default", at(1));
    const nlohmann::json before = snapshot(store, job.id);
    Outcome o = outcome(job, OutcomeKind::discard, at(2));
    o.worker_id = "worker-2";
    o.error = attempt_error(1, at(2), "discard", "not mine");
    CHECK_FALSE(apply(store, o));
    CHECK(snapshot(store, job.id) == before);
}

TEST_CASE_FIXTURE(StoreTest, "an outcome for a job that is not running is refused") {
    const JobId id = enqueue(store, JobSpec{"k"});
    const nlohmann::json before = snapshot(store, id);
    Outcome o;
    o.id = id;
    o.attempt = 0;
    o.worker_id = "";
    o.kind = OutcomeKind::complete;
    o.at = at(1);
    CHECK_FALSE(apply(store, o));
    CHECK(snapshot(store, id) == before);
}

TEST_CASE_FIXTURE(StoreTest, "a second outcome for the same attempt is refused") {
    enqueue(store, JobSpec{"k"});
    const Job job = claim_one(store, "default", at(1));
    Outcome first = outcome(job, OutcomeKind::complete, at(2));
    first.result = "1";
    CHECK(apply(store, first));
    const nlohmann::json after_first = snapshot(store, job.id);
    Outcome second = outcome(job, OutcomeKind::complete, at(3));
    second.result = "2";
    CHECK_FALSE(apply(store, second));
    CHECK(snapshot(store, job.id) == after_first);
}

TEST_CASE_FIXTURE(StoreTest, "complete answers each outcome of a batch, in order") {
    for (int i = 0; i < 3; ++i) enqueue(store, JobSpec{"k"});
    const std::vector<Job> jobs = claim(store, "default", 3, at(1));
    REQUIRE(jobs.size() == 3);
    std::vector<Outcome> batch{
        outcome(jobs[0], OutcomeKind::complete, at(2)),
        outcome(jobs[1], OutcomeKind::complete, at(2)),
        outcome(jobs[2], OutcomeKind::complete, at(2)),
        outcome(jobs[0], OutcomeKind::complete, at(2)),  // already applied above
    };
    batch[1].worker_id = "someone-else";
    CHECK(store.complete(batch) == std::vector<bool>{true, false, true, false});
    CHECK(get(store, jobs[1].id).state == JobState::running);
}

// ---- outcomes carried on a claim (complete_and_claim) -----------------------------------------

namespace {

ClaimRequest claim_request(const std::string& queue, int limit, Timestamp now) {
    ClaimRequest req;
    req.queues = {{queue, limit}};
    req.worker_id = worker;
    req.now = now;
    req.lease_expires_at = now + 30s;
    return req;
}

// A clock that fails when read: a claim that reads it (under its lock) throws there.
class FailingClock final : public Clock {
  public:
    Timestamp now() const override { throw std::runtime_error("the clock broke"); }
};

}  // namespace

TEST_CASE_FIXTURE(StoreTest, "complete_and_claim answers each outcome, then claims") {
    for (int i = 0; i < 3; ++i) enqueue(store, JobSpec{"k"});
    const std::vector<Job> first = claim(store, "default", 2, at(1));
    REQUIRE(first.size() == 2);
    std::vector<Outcome> outcomes{outcome(first[0], OutcomeKind::complete, at(2)),
                                  outcome(first[1], OutcomeKind::complete, at(2))};
    outcomes[1].attempt += 1;  // fenced out
    if (!store.completes_with_claims()) {
        // The default: no pretending that two transactions are one.
        CHECK_THROWS_AS(store.complete_and_claim(outcomes, claim_request("default", 5, at(3))),
                        Error);
        CHECK(get(store, first[0].id).state == JobState::running);
        return;
    }
    const CompletedAndClaimed r =
        store.complete_and_claim(outcomes, claim_request("default", 5, at(3)));
    CHECK(r.applied == std::vector<bool>{true, false});
    REQUIRE(r.claimed.jobs.size() == 1);
    CHECK(r.claimed.jobs[0].state == JobState::running);
    CHECK(r.claimed.jobs[0].attempted_at == std::optional<Timestamp>{at(3)});
    CHECK(get(store, first[0].id).state == JobState::completed);
    CHECK(get(store, first[1].id).state == JobState::running);
    CHECK(get(store, r.claimed.jobs[0].id).state == JobState::running);
}

TEST_CASE_FIXTURE(StoreTest, "complete_and_claim's claim takes the slot its outcome freed") {
    if (!store.completes_with_claims()) return;  // the case above covers the default
    FlowLimits one;
    one.max_running = 1;
    store.set_limits(LimitScope::queue("default"), one, at(0));
    const JobId a = enqueue(store, JobSpec{"k"});
    const JobId b = enqueue(store, JobSpec{"k"});
    const Job running = claim_one(store, "default", at(1));
    REQUIRE(running.id == a);
    CHECK(claim(store, "default", 1, at(2)).empty());  // the cap holds
    const Outcome done = outcome(running, OutcomeKind::complete, at(3));
    const CompletedAndClaimed r = store.complete_and_claim(std::span<const Outcome>(&done, 1),
                                                           claim_request("default", 1, at(3)));
    CHECK(r.applied == std::vector<bool>{true});
    REQUIRE(r.claimed.jobs.size() == 1);
    CHECK(r.claimed.jobs[0].id == b);
    CHECK(store.limit_record(LimitScope::queue("default"))->running == 1);
}

TEST_CASE_FIXTURE(StoreTest,
                  "when complete_and_claim's claim fails, its outcomes are not applied") {
    if (!store.completes_with_claims()) return;
    enqueue(store, JobSpec{"k"});
    enqueue(store, JobSpec{"k"});
    const Job running = claim_one(store, "default", at(1));
    const nlohmann::json before = snapshot(store, running.id);
    const Outcome done = outcome(running, OutcomeKind::complete, at(2));
    const FailingClock broken;
    ClaimRequest req = claim_request("default", 1, at(2));
    req.clock = &broken;
    CHECK_THROWS(store.complete_and_claim(std::span<const Outcome>(&done, 1), req));
    CHECK(snapshot(store, running.id) == before);
    // Nothing of it stuck: the same outcome applies afterwards.
    CHECK(apply(store, done));
}

TEST_CASE_FIXTURE(StoreTest, "retry appends the error and the job is claimable when due") {
    enqueue(store, JobSpec{"k"}.max_attempts(5));
    const Job first = claim_one(store, "default", at(1));
    Outcome o = outcome(first, OutcomeKind::retry, at(2));
    o.run_at = at(30);
    o.error = attempt_error(1, at(2), "exception", "boom");
    CHECK(apply(store, o));

    const Job waiting = get(store, first.id);
    CHECK(waiting.state == JobState::retryable);
    CHECK(waiting.run_at == at(30));
    CHECK_FALSE(waiting.lease_expires_at.has_value());
    CHECK_FALSE(waiting.finished_at.has_value());
    CHECK(waiting.errors == std::vector<AttemptError>{*o.error});

    CHECK(claim(store, "default", 1, at(29)).empty());
    const Job second = claim_one(store, "default", at(30));
    CHECK(second.attempt == 2);
    Outcome again = outcome(second, OutcomeKind::retry, at(31));
    again.run_at = at(60);
    again.error = attempt_error(2, at(31), "timeout", "too slow: \"quoted\"\nline");
    CHECK(apply(store, again));
    CHECK(get(store, first.id).errors == std::vector<AttemptError>{*o.error, *again.error});
}

TEST_CASE_FIXTURE(StoreTest, "snooze with a refund reschedules without spending the attempt") {
    enqueue(store, JobSpec{"k"}.max_attempts(3));
    const Job job = claim_one(store, "default", at(1));
    Outcome o = outcome(job, OutcomeKind::snooze, at(2));
    o.run_at = at(60);
    o.refund_attempt = true;
    CHECK(apply(store, o));
    const Job snoozed = get(store, job.id);
    CHECK(snoozed.state == JobState::scheduled);
    CHECK(snoozed.run_at == at(60));
    CHECK(snoozed.max_attempts == 4);
    CHECK(snoozed.attempt == 1);
    CHECK(snoozed.errors.empty());
    CHECK_FALSE(snoozed.lease_expires_at.has_value());
    CHECK_FALSE(snoozed.finished_at.has_value());
    CHECK(claim(store, "default", 1, at(59)).empty());
    CHECK(claim_one(store, "default", at(60)).attempt == 2);
}

TEST_CASE_FIXTURE(StoreTest, "a snooze that is due at once makes the job available") {
    enqueue(store, JobSpec{"k"});
    const Job job = claim_one(store, "default", at(1));
    Outcome o = outcome(job, OutcomeKind::snooze, at(2));
    o.run_at = at(2);
    CHECK(apply(store, o));
    CHECK(get(store, job.id).state == JobState::available);
}

TEST_CASE_FIXTURE(StoreTest, "discard moves the job to the dead-letter queue with its error") {
    enqueue(store, JobSpec{"k"});
    const Job job = claim_one(store, "default", at(1));
    Outcome o = outcome(job, OutcomeKind::discard, at(2));
    o.error = attempt_error(1, at(2), "discard", "bad input");
    CHECK(apply(store, o));
    const Job dead = get(store, job.id);
    CHECK(dead.state == JobState::discarded);
    CHECK(dead.finished_at == std::optional<Timestamp>{at(2)});
    CHECK_FALSE(dead.lease_expires_at.has_value());
    CHECK(dead.errors == std::vector<AttemptError>{*o.error});
}

TEST_CASE_FIXTURE(StoreTest, "a cancel outcome ends the job as cancelled") {
    enqueue(store, JobSpec{"k"});
    const Job job = claim_one(store, "default", at(1));
    Outcome o = outcome(job, OutcomeKind::cancel, at(2));
    o.error = attempt_error(1, at(2), "cancel", "not needed");
    CHECK(apply(store, o));
    const Job cancelled = get(store, job.id);
    CHECK(cancelled.state == JobState::cancelled);
    CHECK(cancelled.finished_at == std::optional<Timestamp>{at(2)});
    CHECK_FALSE(cancelled.lease_expires_at.has_value());
    CHECK(cancelled.errors == std::vector<AttemptError>{*o.error});
}

// ---- heartbeat and rescue -------------------------------------------------------------------

TEST_CASE_FIXTURE(StoreTest, "heartbeat extends held leases and reports the jobs not held") {
    enqueue(store, JobSpec{"k"});
    enqueue(store, JobSpec{"k"});
    const std::vector<Job> jobs = claim(store, "default", 2, at(1));
    REQUIRE(jobs.size() == 2);

    HeartbeatRequest hb;
    hb.worker_id = worker;
    hb.lease_expires_at = at(100);
    hb.jobs = {{jobs[0].id, 1}, {jobs[1].id, 7}, {987654, 1}};
    CHECK(store.heartbeat(hb) == std::vector<LostLease>{{jobs[1].id, LeaseLoss::superseded},
                                                        {987654, LeaseLoss::missing}});
    CHECK(get(store, jobs[0].id).lease_expires_at == std::optional<Timestamp>{at(100)});
    CHECK(get(store, jobs[1].id).lease_expires_at == jobs[1].lease_expires_at);

    hb.worker_id = "worker-2";
    hb.lease_expires_at = at(200);
    hb.jobs = {{jobs[0].id, 1}};
    CHECK(store.heartbeat(hb) == std::vector<LostLease>{{jobs[0].id, LeaseLoss::superseded}});
    CHECK(get(store, jobs[0].id).lease_expires_at == std::optional<Timestamp>{at(100)});
}

// One heartbeat for the leases of `job` and of nothing else, as its worker holds it.
std::vector<LostLease> beat(Store& store, const Job& job, Timestamp lease_until) {
    HeartbeatRequest hb;
    hb.worker_id = job.worker_id;
    hb.lease_expires_at = lease_until;
    hb.jobs = {{job.id, job.attempt}};
    return store.heartbeat(hb);
}

TEST_CASE_FIXTURE(StoreTest, "heartbeat says a running job cancelled since was lost to a cancel") {
    enqueue(store, JobSpec{"k"});
    const Job job = claim_one(store, "default", at(1));
    REQUIRE(store.cancel(job.id, at(2)).changed);
    CHECK(beat(store, job, at(60)) == std::vector<LostLease>{{job.id, LeaseLoss::cancelled}});
    CHECK_FALSE(get(store, job.id).lease_expires_at.has_value());  // nothing renewed
}

TEST_CASE_FIXTURE(StoreTest, "heartbeat says a job removed since is missing") {
    enqueue(store, JobSpec{"k"});
    const Job job = claim_one(store, "default", at(1));
    REQUIRE(store.cancel(job.id, at(2)).changed);
    REQUIRE(store.remove(job.id).changed);
    CHECK(beat(store, job, at(60)) == std::vector<LostLease>{{job.id, LeaseLoss::missing}});
}

TEST_CASE_FIXTURE(StoreTest, "heartbeat says a job pruned since is missing") {
    enqueue(store, JobSpec{"k"});
    const Job job = claim_one(store, "default", at(1));
    REQUIRE(apply(store, outcome(job, OutcomeKind::complete, at(2))));
    PruneRequest prune;
    prune.completed_before = at(3);
    REQUIRE(store.prune(prune) == 1);
    CHECK(beat(store, job, at(60)) == std::vector<LostLease>{{job.id, LeaseLoss::missing}});
}

TEST_CASE_FIXTURE(StoreTest, "heartbeat says a lease rescued and claimed again was superseded") {
    enqueue(store, JobSpec{"k"}.max_attempts(3));
    const Job first = claim_one(store, "default", at(0));  // lease at(30)
    Outcome rescue = outcome(first, OutcomeKind::retry, at(40));
    rescue.run_at = at(40);
    rescue.error = attempt_error(1, at(40), "lease_expired", "the worker stopped renewing");
    rescue.only_if_lease_expired_by = at(40);
    REQUIRE(apply(store, rescue));
    // Rescued, not yet claimed again: this attempt is over all the same.
    CHECK(beat(store, first, at(90)) == std::vector<LostLease>{{first.id, LeaseLoss::superseded}});

    const Job second = claim_one(store, "default", at(41), "worker-2");
    REQUIRE(second.id == first.id);
    CHECK(beat(store, first, at(90)) == std::vector<LostLease>{{first.id, LeaseLoss::superseded}});
    CHECK(beat(store, second, at(91)).empty());  // the new holder renews
    CHECK(get(store, second.id).lease_expires_at == std::optional<Timestamp>{at(91)});
}

TEST_CASE_FIXTURE(StoreTest, "heartbeat says a job that finished was superseded") {
    enqueue(store, JobSpec{"k"});
    const Job job = claim_one(store, "default", at(1));
    REQUIRE(apply(store, outcome(job, OutcomeKind::complete, at(2))));
    CHECK(beat(store, job, at(60)) == std::vector<LostLease>{{job.id, LeaseLoss::superseded}});
}

TEST_CASE_FIXTURE(StoreTest,
                  "heartbeat says an attempt was superseded when a later attempt was cancelled") {
    enqueue(store, JobSpec{"k"}.max_attempts(3));
    const Job first = claim_one(store, "default", at(0));
    Outcome rescue = outcome(first, OutcomeKind::retry, at(40));
    rescue.run_at = at(40);
    rescue.only_if_lease_expired_by = at(40);
    REQUIRE(apply(store, rescue));
    const Job second = claim_one(store, "default", at(41), "worker-2");
    REQUIRE(store.cancel(second.id, at(42)).changed);
    // The cancellation ended attempt 2, not this one: attempt 1 had lost its lease before.
    CHECK(beat(store, first, at(90)) == std::vector<LostLease>{{first.id, LeaseLoss::superseded}});
    CHECK(beat(store, second, at(90)) == std::vector<LostLease>{{second.id, LeaseLoss::cancelled}});
}

TEST_CASE_FIXTURE(StoreTest, "heartbeat reports lost leases in request order and renews the rest") {
    for (int i = 0; i < 4; ++i) enqueue(store, JobSpec{"k"});
    const std::vector<Job> jobs = claim(store, "default", 4, at(1));
    REQUIRE(jobs.size() == 4);
    REQUIRE(store.cancel(jobs[3].id, at(2)).changed);
    REQUIRE(apply(store, outcome(jobs[1], OutcomeKind::complete, at(2))));
    HeartbeatRequest hb;
    hb.worker_id = worker;
    hb.lease_expires_at = at(100);
    hb.jobs = {{jobs[3].id, 1}, {jobs[0].id, 1}, {555555, 1}, {jobs[1].id, 1}, {jobs[2].id, 1}};
    CHECK(store.heartbeat(hb) == std::vector<LostLease>{{jobs[3].id, LeaseLoss::cancelled},
                                                        {555555, LeaseLoss::missing},
                                                        {jobs[1].id, LeaseLoss::superseded}});
    CHECK(get(store, jobs[0].id).lease_expires_at == std::optional<Timestamp>{at(100)});
    CHECK(get(store, jobs[2].id).lease_expires_at == std::optional<Timestamp>{at(100)});
}

TEST_CASE_FIXTURE(StoreTest, "expired_leases lists running jobs past their lease, oldest first") {
    enqueue(store, JobSpec{"k"});
    enqueue(store, JobSpec{"k"});
    enqueue(store, JobSpec{"k"});
    const Job a = claim_one(store, "default", at(0));    // lease at(30)
    const Job b = claim_one(store, "default", at(-10));  // lease at(20)
    const Job c = claim_one(store, "default", at(70));   // lease at(100)
    CHECK(store.expired_leases(at(19), 10).empty());
    CHECK(ids_of(store.expired_leases(at(30), 10)) == std::vector<JobId>{b.id, a.id});
    CHECK(ids_of(store.expired_leases(at(30), 1)) == std::vector<JobId>{b.id});
    CHECK(ids_of(store.expired_leases(at(100), 10)) == std::vector<JobId>{b.id, a.id, c.id});
}

TEST_CASE_FIXTURE(StoreTest, "a rescue outcome applies to a job whose lease expired") {
    enqueue(store, JobSpec{"k"}.max_attempts(3));
    claim_one(store, "default", at(0));
    const std::vector<Job> expired = store.expired_leases(at(40), 10);
    REQUIRE(expired.size() == 1);
    Outcome o = outcome(expired[0], OutcomeKind::retry, at(40));
    o.run_at = at(41);
    o.error = attempt_error(1, at(40), "lease_expired", "the worker stopped renewing");
    o.only_if_lease_expired_by = at(40);
    CHECK(apply(store, o));
    const Job rescued = get(store, o.id);
    CHECK(rescued.state == JobState::retryable);
    CHECK_FALSE(rescued.lease_expires_at.has_value());
    CHECK(rescued.errors.size() == 1);
}

TEST_CASE_FIXTURE(StoreTest, "a renewed lease blocks a rescue decided on the old one") {
    enqueue(store, JobSpec{"k"});
    const Job job = claim_one(store, "default", at(0));  // lease at(30)
    const std::vector<Job> expired = store.expired_leases(at(40), 10);
    REQUIRE(expired.size() == 1);

    HeartbeatRequest hb;
    hb.worker_id = worker;
    hb.lease_expires_at = at(70);
    hb.jobs = {{job.id, job.attempt}};
    CHECK(store.heartbeat(hb).empty());

    Outcome o = outcome(expired[0], OutcomeKind::retry, at(40));
    o.run_at = at(41);
    o.error = attempt_error(1, at(40), "lease_expired", "late");
    o.only_if_lease_expired_by = at(40);
    CHECK_FALSE(apply(store, o));
    const Job still = get(store, job.id);
    CHECK(still.state == JobState::running);
    CHECK(still.lease_expires_at == std::optional<Timestamp>{at(70)});
    CHECK(still.errors.empty());
}

// ---- operator actions -----------------------------------------------------------------------

TEST_CASE_FIXTURE(StoreTest, "cancelling a running job fences out its worker") {
    enqueue(store, JobSpec{"k"});
    const Job job = claim_one(store, "default", at(1));
    const ChangeResult r = store.cancel(job.id, at(5));
    CHECK(r.changed);
    REQUIRE(r.job.has_value());
    CHECK(r.job->state == JobState::cancelled);
    CHECK(r.job->finished_at == std::optional<Timestamp>{at(5)});
    CHECK_FALSE(r.job->lease_expires_at.has_value());

    HeartbeatRequest hb;
    hb.worker_id = worker;
    hb.lease_expires_at = at(60);
    hb.jobs = {{job.id, job.attempt}};
    CHECK(store.heartbeat(hb) == std::vector<LostLease>{{job.id, LeaseLoss::cancelled}});
    CHECK_FALSE(apply(store, outcome(job, OutcomeKind::complete, at(6))));
    CHECK(get(store, job.id).state == JobState::cancelled);
}

TEST_CASE_FIXTURE(StoreTest, "cancel applies to unfinished jobs only") {
    const JobId scheduled = enqueue(store, JobSpec{"k"}.delay(1h));
    const JobId done = finished_job(store, JobSpec{"k"}.queue("q"), OutcomeKind::complete, at(10));

    const ChangeResult a = store.cancel(scheduled, at(20));
    CHECK(a.changed);
    CHECK(a.job->state == JobState::cancelled);

    const ChangeResult b = store.cancel(done, at(20));
    CHECK_FALSE(b.changed);
    REQUIRE(b.job.has_value());
    CHECK(b.job->state == JobState::completed);
    CHECK(b.job->finished_at == std::optional<Timestamp>{at(10)});

    const ChangeResult missing = store.cancel(999999, at(20));
    CHECK_FALSE(missing.changed);
    CHECK_FALSE(missing.job.has_value());
}

TEST_CASE_FIXTURE(StoreTest, "retry makes a finished job available now with an attempt to spend") {
    NewJob spec = new_job(JobSpec{"k"}.queue("q").max_attempts(1), at(0));
    const JobId id = insert(store, spec);
    const Job job = claim_one(store, "q", at(1));
    Outcome o = outcome(job, OutcomeKind::discard, at(2));
    o.error = attempt_error(1, at(2), "exception", "out of attempts");
    REQUIRE(apply(store, o));

    const ChangeResult r = store.retry(id, at(50));
    CHECK(r.changed);
    REQUIRE(r.job.has_value());
    CHECK(r.job->state == JobState::available);
    CHECK(r.job->run_at == at(50));
    CHECK_FALSE(r.job->finished_at.has_value());
    CHECK(r.job->max_attempts == 2);
    CHECK(r.job->errors.size() == 1);
    CHECK(claim_one(store, "q", at(50)).attempt == 2);
}

TEST_CASE_FIXTURE(StoreTest, "retry keeps max_attempts when attempts remain") {
    const JobId id =
        finished_job(store, JobSpec{"k"}.queue("q").max_attempts(5), OutcomeKind::cancel, at(10));
    const ChangeResult r = store.retry(id, at(20));
    CHECK(r.changed);
    CHECK(r.job->max_attempts == 5);
}

TEST_CASE_FIXTURE(StoreTest, "retry leaves running and available jobs alone") {
    const JobId available = enqueue(store, JobSpec{"k"}.queue("a"));
    enqueue(store, JobSpec{"k"}.queue("r"));
    const Job running = claim_one(store, "r", at(1));

    const ChangeResult a = store.retry(available, at(5));
    CHECK_FALSE(a.changed);
    CHECK(a.job->state == JobState::available);
    const ChangeResult r = store.retry(running.id, at(5));
    CHECK_FALSE(r.changed);
    CHECK(r.job->state == JobState::running);
    CHECK(r.job->lease_expires_at == running.lease_expires_at);
    CHECK_FALSE(store.retry(999999, at(5)).job.has_value());
}

TEST_CASE_FIXTURE(StoreTest, "replay_discarded replays the discarded jobs that match the filter") {
    const JobId a_x = finished_job(store, JobSpec{"x"}.queue("a"), OutcomeKind::discard, at(10));
    const JobId b_x = finished_job(store, JobSpec{"x"}.queue("b"), OutcomeKind::discard, at(10));
    const JobId a_y = finished_job(store, JobSpec{"y"}.queue("a"), OutcomeKind::discard, at(10));
    const JobId a_x_t =
        finished_job(store, JobSpec{"x"}.queue("a").tenant("t2"), OutcomeKind::discard, at(10));
    const JobId done = finished_job(store, JobSpec{"x"}.queue("a"), OutcomeKind::complete, at(10));

    JobFilter by_tenant;
    by_tenant.tenant = "t2";
    CHECK(store.replay_discarded(by_tenant, at(20)) == 1);
    CHECK(get(store, a_x_t).state == JobState::available);

    JobFilter queue_and_kind;
    queue_and_kind.queue = "a";
    queue_and_kind.kind = "x";
    CHECK(store.replay_discarded(queue_and_kind, at(20)) == 1);
    const Job replayed = get(store, a_x);
    CHECK(replayed.state == JobState::available);
    CHECK(replayed.run_at == at(20));
    CHECK_FALSE(replayed.finished_at.has_value());
    CHECK(replayed.max_attempts == std::max(default_max_attempts, replayed.attempt + 1));
    CHECK(get(store, b_x).state == JobState::discarded);
    CHECK(get(store, a_y).state == JobState::discarded);

    CHECK(store.replay_discarded(JobFilter{}, at(30)) == 2);
    CHECK(get(store, b_x).state == JobState::available);
    CHECK(get(store, a_y).state == JobState::available);
    CHECK(get(store, done).state == JobState::completed);
}

TEST_CASE_FIXTURE(StoreTest, "replayed jobs out of attempts get one more") {
    const JobId id =
        finished_job(store, JobSpec{"k"}.queue("q").max_attempts(1), OutcomeKind::discard, at(10));
    CHECK(store.replay_discarded(JobFilter{}, at(20)) == 1);
    CHECK(get(store, id).max_attempts == 2);
}

TEST_CASE_FIXTURE(StoreTest, "remove deletes a job that is not running and refuses a running one") {
    const JobId done = finished_job(store, JobSpec{"k"}.queue("d"), OutcomeKind::complete, at(10));
    enqueue(store, JobSpec{"k"}.queue("r"));
    const Job running = claim_one(store, "r", at(11));

    const ChangeResult removed = store.remove(done);
    CHECK(removed.changed);
    REQUIRE(removed.job.has_value());
    CHECK(removed.job->id == done);
    CHECK_FALSE(store.get(done).has_value());

    const ChangeResult refused = store.remove(running.id);
    CHECK_FALSE(refused.changed);
    REQUIRE(refused.job.has_value());
    CHECK(refused.job->state == JobState::running);
    CHECK(store.get(running.id).has_value());

    CHECK_FALSE(store.remove(999999).job.has_value());
}

// ---- listing and statistics -----------------------------------------------------------------

TEST_CASE_FIXTURE(StoreTest, "list filters by state, queue, kind and tenant, newest first") {
    const JobId a1 = enqueue(store, JobSpec{"send"}.queue("mail").tenant("acme"));
    const JobId a2 = enqueue(store, JobSpec{"build"}.queue("reports"));
    const JobId a3 = enqueue(store, JobSpec{"send"}.queue("mail").delay(1h));
    const JobId a4 = enqueue(store, JobSpec{"send"}.queue("reports").tenant("acme"));
    const JobId a5 = enqueue(store, JobSpec{"build"}.queue("mail").tenant("other"));

    auto list_ids = [&](JobFilter f) {
        return ids_of(store.list(f).jobs);
    };
    CHECK(list_ids({}) == std::vector<JobId>{a5, a4, a3, a2, a1});

    JobFilter by_state;
    by_state.states = {JobState::scheduled};
    CHECK(list_ids(by_state) == std::vector<JobId>{a3});
    by_state.states = {JobState::scheduled, JobState::available};
    CHECK(list_ids(by_state).size() == 5);
    by_state.states = {JobState::running};
    CHECK(list_ids(by_state).empty());

    JobFilter by_queue;
    by_queue.queue = "mail";
    CHECK(list_ids(by_queue) == std::vector<JobId>{a5, a3, a1});

    JobFilter by_kind;
    by_kind.kind = "build";
    CHECK(list_ids(by_kind) == std::vector<JobId>{a5, a2});

    JobFilter by_tenant;
    by_tenant.tenant = "acme";
    CHECK(list_ids(by_tenant) == std::vector<JobId>{a4, a1});

    JobFilter combined;
    combined.queue = "mail";
    combined.kind = "send";
    combined.states = {JobState::available};
    CHECK(list_ids(combined) == std::vector<JobId>{a1});
}

TEST_CASE_FIXTURE(StoreTest,
                  "list filters by tag: any of a job's tags, exactly, with the other filters") {
    const JobId a1 = enqueue(store, JobSpec{"send"}.tag("urgent").tag("vip"));
    const JobId a2 = enqueue(store, JobSpec{"send"}.queue("mail").tag("vip"));
    enqueue(store, JobSpec{"send"}.tag("vip-lite"));  // a prefix is not a match
    enqueue(store, JobSpec{"send"});
    const JobId a5 = enqueue(store, JobSpec{"send"}.tag("\xe6\xa8\x99"));
    auto list_ids = [&](JobFilter f) {
        return ids_of(store.list(f).jobs);
    };
    JobFilter by_tag;
    by_tag.tag = "vip";
    CHECK(list_ids(by_tag) == std::vector<JobId>{a2, a1});
    by_tag.tag = "urgent";
    CHECK(list_ids(by_tag) == std::vector<JobId>{a1});
    by_tag.tag = "\xe6\xa8\x99";
    CHECK(list_ids(by_tag) == std::vector<JobId>{a5});
    by_tag.tag = "vip";
    by_tag.queue = "mail";
    CHECK(list_ids(by_tag) == std::vector<JobId>{a2});
    by_tag.tag = "none";
    by_tag.queue.clear();
    CHECK(list_ids(by_tag).empty());
}

TEST_CASE_FIXTURE(StoreTest, "list filters by when jobs finished: at or after, and before") {
    const JobId early = finished_job(store, JobSpec{"hook"}, OutcomeKind::discard, at(100));
    const JobId edge = finished_job(store, JobSpec{"hook"}, OutcomeKind::discard, at(200));
    const JobId late = finished_job(store, JobSpec{"hook"}, OutcomeKind::complete, at(300));
    enqueue(store, JobSpec{"hook"});  // unfinished: never in a finish window
    auto list_ids = [&](JobFilter f) {
        return ids_of(store.list(f).jobs);
    };
    JobFilter window;
    window.finished_after = at(200);
    CHECK(list_ids(window) == std::vector<JobId>{late, edge});
    window.finished_before = at(300);
    CHECK(list_ids(window) == std::vector<JobId>{edge});
    window.finished_after.reset();
    CHECK(list_ids(window) == std::vector<JobId>{edge, early});
    window.states = {JobState::discarded};
    window.finished_before = at(1000);
    CHECK(list_ids(window) == std::vector<JobId>{edge, early});
}

TEST_CASE_FIXTURE(StoreTest, "list pages through jobs with a keyset cursor") {
    std::vector<NewJob> batch;
    for (int i = 0; i < 25; ++i) batch.push_back(new_job(JobSpec{"k"}));
    std::vector<JobId> all;
    for (const InsertResult& r : store.insert(batch)) all.push_back(r.id);
    std::reverse(all.begin(), all.end());

    std::vector<JobId> seen;
    std::vector<std::size_t> sizes;
    JobFilter f;
    f.limit = 10;
    for (int page_no = 0; page_no < 10; ++page_no) {
        const JobPage page = store.list(f);
        sizes.push_back(page.jobs.size());
        for (const Job& j : page.jobs) seen.push_back(j.id);
        if (!page.next_before_id) break;
        CHECK(*page.next_before_id == page.jobs.back().id);
        f.before_id = page.next_before_id;
    }
    CHECK(sizes == std::vector<std::size_t>{10, 10, 5});
    CHECK(seen == all);
}

TEST_CASE_FIXTURE(StoreTest, "a page that ends at the last job has no cursor") {
    for (int i = 0; i < 4; ++i) enqueue(store, JobSpec{"k"});
    JobFilter f;
    f.limit = 2;
    const JobPage first = store.list(f);
    REQUIRE(first.next_before_id.has_value());
    f.before_id = first.next_before_id;
    const JobPage second = store.list(f);
    CHECK(second.jobs.size() == 2);
    CHECK_FALSE(second.next_before_id.has_value());
}

TEST_CASE_FIXTURE(StoreTest, "stats counts the jobs of each queue by state") {
    enqueue(store, JobSpec{"k"}.queue("a"), at(0));
    enqueue(store, JobSpec{"k"}.queue("a"), at(0));
    enqueue(store, JobSpec{"k"}.queue("a").delay(1h), at(0));
    finished_job(store, JobSpec{"k"}.queue("b"), OutcomeKind::complete, at(10));
    finished_job(store, JobSpec{"k"}.queue("b"), OutcomeKind::discard, at(10));
    enqueue(store, JobSpec{"k"}.queue("b"), at(20));
    claim_one(store, "b", at(21));
    enqueue(store, JobSpec{"k"}.queue("c"), at(20));

    const std::vector<QueueStats> all = store.stats(at(30));
    CHECK(all.size() == 3);
    const QueueStats* a = find_stats(all, "a");
    const QueueStats* b = find_stats(all, "b");
    REQUIRE(a != nullptr);
    REQUIRE(b != nullptr);
    CHECK(a->count(JobState::available) == 2);
    CHECK(a->count(JobState::scheduled) == 1);
    CHECK(a->count(JobState::running) == 0);
    CHECK(b->count(JobState::running) == 1);
    CHECK(b->count(JobState::completed) == 1);
    CHECK(b->count(JobState::discarded) == 1);
    CHECK(b->count(JobState::available) == 0);
}

TEST_CASE_FIXTURE(StoreTest, "stats reports the run_at of the oldest job claimable at now") {
    enqueue(store, JobSpec{"k"}.queue("a").run_at(at(-5)), at(0));   // available since -5
    enqueue(store, JobSpec{"k"}.queue("a").run_at(at(-50)), at(0));  // available since -50
    enqueue(store, JobSpec{"k"}.queue("b").run_at(at(40)), at(0));   // due at 40
    enqueue(store, JobSpec{"k"}.queue("b").run_at(at(90)), at(0));   // due at 90
    enqueue(store, JobSpec{"k"}.queue("c").run_at(at(500)), at(0));  // not due

    const std::vector<QueueStats> all = store.stats(at(60));
    CHECK(find_stats(all, "a")->oldest_runnable_since == std::optional<Timestamp>{at(-50)});
    CHECK(find_stats(all, "b")->oldest_runnable_since == std::optional<Timestamp>{at(40)});
    CHECK_FALSE(find_stats(all, "c")->oldest_runnable_since.has_value());
    CHECK(find_stats(all, "b")->count(JobState::scheduled) == 2);
}

// ---- maintenance ----------------------------------------------------------------------------

TEST_CASE_FIXTURE(StoreTest, "prune deletes finished jobs older than each cutoff") {
    const JobId c10 = finished_job(store, JobSpec{"k"}.queue("q"), OutcomeKind::complete, at(10));
    const JobId c20 = finished_job(store, JobSpec{"k"}.queue("q"), OutcomeKind::complete, at(20));
    const JobId x15 = finished_job(store, JobSpec{"k"}.queue("q"), OutcomeKind::cancel, at(15));
    const JobId d5 = finished_job(store, JobSpec{"k"}.queue("q"), OutcomeKind::discard, at(5));
    const JobId waiting = enqueue(store, JobSpec{"k"}.queue("w"), at(0));

    PruneRequest req;
    req.completed_before = at(20);  // strictly before: the job finished at 20 stays
    req.discarded_before = at(6);
    CHECK(store.prune(req) == 2);
    CHECK_FALSE(store.get(c10).has_value());
    CHECK_FALSE(store.get(d5).has_value());
    CHECK(store.get(c20).has_value());
    CHECK(store.get(x15).has_value());
    CHECK(store.get(waiting).has_value());

    PruneRequest cancelled;
    cancelled.cancelled_before = at(1000);
    CHECK(store.prune(cancelled) == 1);
    CHECK_FALSE(store.get(x15).has_value());
}

TEST_CASE_FIXTURE(StoreTest, "prune deletes at most limit jobs per call") {
    for (int i = 0; i < 5; ++i) {
        finished_job(store, JobSpec{"k"}.queue("q"), OutcomeKind::complete, at(10 + i));
    }
    PruneRequest req;
    req.completed_before = at(100);
    req.limit = 2;
    CHECK(store.prune(req) == 2);
    CHECK(store.prune(req) == 2);
    CHECK(store.prune(req) == 1);
    CHECK(store.prune(req) == 0);
}

TEST_CASE_FIXTURE(StoreTest, "promote_due makes due scheduled and retryable jobs available") {
    const JobId s10 = enqueue(store, JobSpec{"k"}.queue("s").run_at(at(10)), at(0));
    const JobId s100 = enqueue(store, JobSpec{"k"}.queue("s").run_at(at(100)), at(0));
    enqueue(store, JobSpec{"k"}.queue("r"), at(0));
    const Job job = claim_one(store, "r", at(1));
    Outcome o = outcome(job, OutcomeKind::retry, at(2));
    o.run_at = at(20);
    o.error = attempt_error(1, at(2), "exception", "x");
    REQUIRE(apply(store, o));

    CHECK(store.promote_due(at(19)) == 1);
    CHECK(get(store, s10).state == JobState::available);
    CHECK(get(store, s10).run_at == at(10));
    CHECK(get(store, job.id).state == JobState::retryable);
    CHECK(store.promote_due(at(20)) == 1);
    CHECK(get(store, job.id).state == JobState::available);
    CHECK(get(store, s100).state == JobState::scheduled);
    CHECK(store.promote_due(at(20)) == 0);
}

TEST_CASE_FIXTURE(StoreTest, "next_run_at is the earliest scheduled or retryable run_at") {
    enqueue(store, JobSpec{"k"}.queue("a").run_at(at(50)), at(0));
    enqueue(store, JobSpec{"k"}.queue("a").run_at(at(70)), at(0));
    enqueue(store, JobSpec{"k"}.queue("c").run_at(at(10)), at(0));
    enqueue(store, JobSpec{"k"}.queue("d"), at(0));  // available: not waiting for a time
    enqueue(store, JobSpec{"k"}.queue("b"), at(0));
    const Job job = claim_one(store, "b", at(1));
    Outcome o = outcome(job, OutcomeKind::retry, at(2));
    o.run_at = at(30);
    o.error = attempt_error(1, at(2), "exception", "x");
    REQUIRE(apply(store, o));

    const std::vector<std::string> none;
    const std::vector<std::string> a_b{"a", "b"};
    const std::vector<std::string> a{"a"};
    const std::vector<std::string> d{"d"};
    CHECK(store.next_run_at(none) == std::optional<Timestamp>{at(10)});
    CHECK(store.next_run_at(a_b) == std::optional<Timestamp>{at(30)});
    CHECK(store.next_run_at(a) == std::optional<Timestamp>{at(50)});
    CHECK_FALSE(store.next_run_at(d).has_value());
}

// ---- concurrency ----------------------------------------------------------------------------

TEST_CASE_FIXTURE(StoreTest, "two handles claiming at once never get the same job") {
    constexpr int total = 600;
    std::vector<NewJob> batch;
    for (int i = 0; i < total; ++i) batch.push_back(new_job(JobSpec{"k", {{"i", i}}}));
    store.insert(batch);

    std::unique_ptr<Store> other = db->open_another();
    std::vector<JobId> got[2];
    std::string failure[2];
    auto drain = [&](Store& s, int who) {
        try {
            for (;;) {
                const std::vector<Job> jobs =
                    claim(s, "default", 7, at(1), "worker-" + std::to_string(who));
                if (jobs.empty()) return;
                for (const Job& j : jobs) got[who].push_back(j.id);
            }
        } catch (const std::exception& e) {
            failure[who] = e.what();
        }
    };
    std::thread first(drain, std::ref(store), 0);
    std::thread second(drain, std::ref(*other), 1);
    first.join();
    second.join();
    CHECK(failure[0].empty());
    CHECK(failure[1].empty());

    std::set<JobId> unique(got[0].begin(), got[0].end());
    unique.insert(got[1].begin(), got[1].end());
    CHECK(got[0].size() + got[1].size() == total);
    CHECK(unique.size() == static_cast<std::size_t>(total));
    // Each job is held by the worker that got it.
    for (int who = 0; who < 2; ++who) {
        for (JobId id : got[who]) {
            const Job j = get(store, id);
            CHECK(j.worker_id == "worker-" + std::to_string(who));
            CHECK(j.attempt == 1);
        }
    }
}

TEST_CASE_FIXTURE(StoreTest, "one handle serves several threads at once") {
    constexpr int total = 300;
    std::vector<NewJob> batch;
    for (int i = 0; i < total; ++i) batch.push_back(new_job(JobSpec{"k"}));
    store.insert(batch);

    std::vector<JobId> got[2];
    std::string failure[3];
    std::atomic<bool> claiming{true};
    auto drain = [&](int who) {
        try {
            for (;;) {
                const std::vector<Job> jobs =
                    claim(store, "default", 5, at(1), "worker-" + std::to_string(who));
                if (jobs.empty()) return;
                for (const Job& j : jobs) got[who].push_back(j.id);
            }
        } catch (const std::exception& e) {
            failure[who] = e.what();
        }
    };
    // Inspections run while the claims do, as an operator's CLI would.
    auto inspect = [&] {
        try {
            while (claiming) {
                store.list(JobFilter{});
                store.stats(at(1));
            }
        } catch (const std::exception& e) {
            failure[2] = e.what();
        }
    };
    std::thread inspector(inspect);
    std::thread first(drain, 0);
    std::thread second(drain, 1);
    first.join();
    second.join();
    claiming = false;
    inspector.join();
    CHECK(failure[0].empty());
    CHECK(failure[1].empty());
    CHECK(failure[2].empty());
    std::set<JobId> unique(got[0].begin(), got[0].end());
    unique.insert(got[1].begin(), got[1].end());
    CHECK(got[0].size() + got[1].size() == total);
    CHECK(unique.size() == static_cast<std::size_t>(total));
}

}  // namespace jobq::conformance
