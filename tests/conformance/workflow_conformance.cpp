// The Store contract for workflows and batches: atomic insert, release of dependents exactly
// once, results read at claim, failure policies carried down, cancel cascade, selective rerun,
// append, deadlines, batch callbacks, retention and explain. Written only against jobq::Store,
// with explicit times, like the other conformance files.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <doctest/doctest.h>

#include "conformance_support.hpp"
#include "jobq/backend/new_job.hpp"
#include "jobq/backend/store.hpp"
#include "jobq/backend/workflow_plan.hpp"
#include "jobq/batch_spec.hpp"
#include "jobq/error.hpp"
#include "jobq/job_spec.hpp"
#include "jobq/workflow_spec.hpp"

namespace jobq::conformance {
namespace {

using namespace std::chrono_literals;

constexpr const char* worker = "worker-1";

std::vector<Job> claim(Store& store, const std::string& queue, int limit, Timestamp now,
                       const std::string& worker_id = worker) {
    ClaimRequest req;
    req.queues = {{queue, limit}};
    req.worker_id = worker_id;
    req.now = now;
    req.lease_expires_at = now + 30s;
    return store.claim(req).jobs;
}

Outcome ending(const Job& job, OutcomeKind kind, Timestamp when, std::string result = {}) {
    Outcome o;
    o.id = job.id;
    o.attempt = job.attempt;
    o.worker_id = job.worker_id;
    o.workflow_id = job.workflow_id;
    o.kind = kind;
    o.at = when;
    o.run_at = when;
    o.result = std::move(result);
    if (kind != OutcomeKind::complete) o.error = AttemptError{job.attempt, when, "discard", "no"};
    return o;
}

bool end(Store& store, const Job& job, OutcomeKind kind, Timestamp when, std::string result = {}) {
    const Outcome o = ending(job, kind, when, std::move(result));
    const std::vector<bool> r = store.complete(std::span<const Outcome>(&o, 1));
    REQUIRE(r.size() == 1);
    return r[0];
}

// Claims the one available job named `step` of the queue (all others stay claimed by nobody:
// each workflow job below has a queue of its own where the test needs to pick).
Job claim_one(Store& store, const std::string& queue, Timestamp now) {
    const std::vector<Job> jobs = claim(store, queue, 1, now);
    REQUIRE(jobs.size() == 1);
    return jobs.front();
}

WorkflowInsert insert(Store& store, const WorkflowSpec& spec, Timestamp now = t0) {
    return store.insert_workflow(to_new_workflow(spec, now));
}

JobState state_of(Store& store, JobId id) {
    const std::optional<Job> job = store.get(id);
    REQUIRE(job.has_value());
    return job->state;
}

JobSpec in_queue(const std::string& kind, const std::string& queue) {
    return JobSpec{kind}.queue(queue);
}

// extract -> {t1, t2} -> load: a diamond, each step in a queue of its own.
WorkflowSpec diamond() {
    return WorkflowSpec{"etl"}
        .add("extract", in_queue("etl.extract", "q-extract"))
        .add("t1", in_queue("etl.transform", "q-t1"), {"extract"})
        .add("t2", in_queue("etl.transform", "q-t2"), {"extract"})
        .add("load", in_queue("etl.load", "q-load"), {"t1", "t2"});
}

// ---- insert -------------------------------------------------------------------------------

TEST_CASE_FIXTURE(StoreTest, "workflow: inserted whole; jobs with dependencies wait pending") {
    const WorkflowInsert w = insert(store, diamond());
    REQUIRE(w.job_ids.size() == 4);
    CHECK(w.id > 0);
    const std::optional<WorkflowRecord> rec = store.workflow(w.id);
    REQUIRE(rec.has_value());
    CHECK(rec->summary.name == "etl");
    CHECK(rec->summary.kind == WorkflowKind::workflow);
    CHECK(rec->summary.state == WorkflowState::running);
    REQUIRE(rec->jobs.size() == 4);
    CHECK(rec->edges.size() == 4);
    const std::optional<Job> extract = store.get(w.job_ids[0]);
    REQUIRE(extract.has_value());
    CHECK(extract->state == JobState::available);
    CHECK(extract->workflow_id == w.id);
    CHECK(extract->step == "extract");
    CHECK(state_of(store, w.job_ids[1]) == JobState::pending);
    CHECK(state_of(store, w.job_ids[2]) == JobState::pending);
    CHECK(state_of(store, w.job_ids[3]) == JobState::pending);
    // Nothing pending is claimable.
    CHECK(claim(store, "q-load", 10, at(1)).empty());
    CHECK(claim(store, "q-t1", 10, at(1)).empty());
    // Job ids come back in the order of the spec, whatever order they were inserted in.
    const WorkflowInsert backwards =
        insert(store, WorkflowSpec{"b"}
                          .add("second", in_queue("k", "qb"), {"first"})
                          .add("first", in_queue("k", "qb")));
    CHECK(store.get(backwards.job_ids[0])->step == "second");
    CHECK(store.get(backwards.job_ids[1])->step == "first");
}

TEST_CASE_FIXTURE(StoreTest, "workflow: an append naming an unknown job writes nothing") {
    const WorkflowInsert w = insert(store, diamond());
    const JobPage before = store.list(JobFilter{});
    const NewWorkflow more =
        to_new_workflow(WorkflowSpec{"etl"}.add("report", JobSpec{"r"}, {"nope"}), at(1), {}, true);
    try {
        store.append_workflow(w.id, more);
        FAIL("expected invalid_argument");
    } catch (const Error& e) {
        CHECK(e.code() == ErrorCode::invalid_argument);
        CHECK(e.field() == "jobs[0].deps[0]");
    }
    const NewWorkflow dup =
        to_new_workflow(WorkflowSpec{"etl"}.add("load", JobSpec{"r"}), at(1), {}, true);
    CHECK_THROWS_AS(store.append_workflow(w.id, dup), Error);
    CHECK(store.list(JobFilter{}).jobs.size() == before.jobs.size());
    CHECK_THROWS_AS(store.append_workflow(w.id + 1000, more), Error);
}

// ---- release and results ------------------------------------------------------------------

TEST_CASE_FIXTURE(StoreTest, "workflow: the last dependency's completion releases, with results") {
    const WorkflowInsert w = insert(store, diamond());
    const Job extract = claim_one(store, "q-extract", at(1));
    CHECK(extract.upstream.empty());
    REQUIRE(end(store, extract, OutcomeKind::complete, at(2), R"({"rows":3})"));
    CHECK(state_of(store, w.job_ids[1]) == JobState::available);
    CHECK(state_of(store, w.job_ids[2]) == JobState::available);
    CHECK(state_of(store, w.job_ids[3]) == JobState::pending);

    const Job t1 = claim_one(store, "q-t1", at(3));
    REQUIRE(t1.upstream.size() == 1);
    CHECK(t1.upstream[0].name == "extract");
    CHECK(t1.upstream[0].id == extract.id);
    CHECK(t1.upstream[0].state == JobState::completed);
    CHECK(t1.upstream[0].result == nlohmann::json{{"rows", 3}});
    REQUIRE(end(store, t1, OutcomeKind::complete, at(4), R"("one")"));
    CHECK(state_of(store, w.job_ids[3]) == JobState::pending);  // t2 still open

    const Job t2 = claim_one(store, "q-t2", at(5));
    REQUIRE(end(store, t2, OutcomeKind::complete, at(6), R"("two")"));
    const Job load = claim_one(store, "q-load", at(7));
    REQUIRE(load.upstream.size() == 2);
    std::map<std::string, nlohmann::json> results;
    for (const UpstreamResult& u : load.upstream) results[u.name] = u.result;
    CHECK(results["t1"] == "one");
    CHECK(results["t2"] == "two");
    REQUIRE(end(store, load, OutcomeKind::complete, at(8)));

    const std::optional<WorkflowRecord> rec = store.workflow(w.id);
    CHECK(rec->summary.state == WorkflowState::completed);
    CHECK(rec->summary.finished_at == at(8));
    CHECK(rec->summary.counts[static_cast<std::size_t>(JobState::completed)] == 4);
}

TEST_CASE_FIXTURE(StoreTest, "workflow: a dependent with a delay waits for it after release") {
    const WorkflowInsert w =
        insert(store, WorkflowSpec{"d"}
                          .add("a", in_queue("k", "qa"))
                          .add("b", in_queue("k", "qb").delay(60s), {"a"}));
    const Job a = claim_one(store, "qa", at(1));
    REQUIRE(end(store, a, OutcomeKind::complete, at(2)));
    CHECK(state_of(store, w.job_ids[1]) == JobState::scheduled);
    CHECK(claim(store, "qb", 1, at(59)).empty());
    CHECK(claim(store, "qb", 1, at(61)).size() == 1);
}

TEST_CASE_FIXTURE(StoreTest, "workflow: two connections ending the last two dependencies at once "
                             "release the dependent exactly once") {
    std::unique_ptr<Store> other = db->open_another();
    for (int round = 0; round < 20; ++round) {
        const std::string qa = "race-a-" + std::to_string(round);
        const std::string qb = "race-b-" + std::to_string(round);
        const std::string qc = "race-c-" + std::to_string(round);
        const WorkflowInsert w = insert(store, WorkflowSpec{"race"}
                                                   .add("a", in_queue("k", qa))
                                                   .add("b", in_queue("k", qb))
                                                   .add("c", in_queue("k", qc), {"a", "b"}));
        const Job a = claim_one(store, qa, at(1));
        const Job b = claim_one(*other, qb, at(1));
        std::atomic<int> ready{0};
        auto finish = [&ready](Store& s, const Job& j) {
            ++ready;
            while (ready.load() < 2) std::this_thread::yield();
            const Outcome o = ending(j, OutcomeKind::complete, at(2));
            CHECK(s.complete(std::span<const Outcome>(&o, 1)) == std::vector<bool>{true});
        };
        std::thread t1([&] { finish(store, a); });
        std::thread t2([&] { finish(*other, b); });
        t1.join();
        t2.join();
        CHECK(state_of(store, w.job_ids[2]) == JobState::available);
        const std::vector<Job> got = claim(store, qc, 10, at(3));
        CHECK(got.size() == 1);
        CHECK(claim(store, qc, 10, at(4)).empty());
    }
}

// ---- failure policies ---------------------------------------------------------------------

TEST_CASE_FIXTURE(StoreTest, "workflow: a discarded job cancels its dependents transitively") {
    const WorkflowInsert w =
        insert(store, WorkflowSpec{"pay"}
                          .add("charge", in_queue("k", "qc"))
                          .add("receipt", in_queue("k", "qr"), {"charge"})
                          .add("archive", in_queue("k", "qa"), {"receipt"})
                          .add("audit", in_queue("k", "qu")));
    const Job charge = claim_one(store, "qc", at(1));
    REQUIRE(end(store, charge, OutcomeKind::discard, at(2)));
    const std::optional<Job> receipt = store.get(w.job_ids[1]);
    CHECK(receipt->state == JobState::cancelled);
    CHECK(receipt->finished_at == at(2));
    REQUIRE(receipt->errors.size() == 1);
    CHECK(receipt->errors[0].kind == "dependency");
    CHECK(receipt->errors[0].message.find("'charge'") != std::string::npos);
    CHECK(receipt->errors[0].message.find("discarded") != std::string::npos);
    const std::optional<Job> archive = store.get(w.job_ids[2]);
    CHECK(archive->state == JobState::cancelled);
    CHECK(archive->errors.at(0).message.find("'receipt'") != std::string::npos);
    CHECK(archive->errors.at(0).message.find("cancelled") != std::string::npos);
    // An unrelated branch runs on; the workflow ends when it does.
    CHECK(store.workflow(w.id)->summary.state == WorkflowState::running);
    const Job audit = claim_one(store, "qu", at(3));
    REQUIRE(end(store, audit, OutcomeKind::complete, at(4)));
    CHECK(store.workflow(w.id)->summary.state == WorkflowState::failed);
}

TEST_CASE_FIXTURE(StoreTest, "workflow: under ignore the dependent runs and sees how it ended") {
    WorkflowSpec spec{"best-effort"};
    spec.add("optional", in_queue("k", "qo"));
    spec.add(WorkflowJob{"after", in_queue("k", "qa"), {"optional"}, DependencyPolicy::ignore,
                         DependencyPolicy::cancel});
    spec.add(WorkflowJob{"strict", in_queue("k", "qs"), {"optional"}, DependencyPolicy::cancel,
                         DependencyPolicy::ignore});
    const WorkflowInsert w = insert(store, spec);
    const Job opt = claim_one(store, "qo", at(1));
    REQUIRE(end(store, opt, OutcomeKind::discard, at(2)));
    CHECK(state_of(store, w.job_ids[1]) == JobState::available);
    CHECK(state_of(store, w.job_ids[2]) == JobState::cancelled);  // ignores cancels only
    const Job after = claim_one(store, "qa", at(3));
    REQUIRE(after.upstream.size() == 1);
    CHECK(after.upstream[0].state == JobState::discarded);
    CHECK(after.upstream[0].result.is_null());
    CHECK(after.upstream[0].error == "no");
}

TEST_CASE_FIXTURE(StoreTest, "workflow: cancelling or removing a job others wait on follows the "
                             "policy") {
    const WorkflowInsert w = insert(store, WorkflowSpec{"c"}
                                               .add("a", in_queue("k", "qa"))
                                               .add("b", in_queue("k", "qb"), {"a"})
                                               .add("x", in_queue("k", "qx"))
                                               .add("y", in_queue("k", "qy"), {"x"}));
    CHECK(store.cancel(w.job_ids[0], at(1)).changed);
    CHECK(state_of(store, w.job_ids[1]) == JobState::cancelled);
    CHECK(store.remove(w.job_ids[2]).changed);
    const std::optional<Job> y = store.get(w.job_ids[3]);
    CHECK(y->state == JobState::cancelled);
    CHECK(y->errors.at(0).message.find("removed") != std::string::npos);
    CHECK(store.workflow(w.id)->summary.state == WorkflowState::cancelled);
}

// ---- cancel cascade, rerun, append, deadline ----------------------------------------------

TEST_CASE_FIXTURE(StoreTest, "workflow: cancelling it cancels every unfinished job, running too") {
    const WorkflowInsert w = insert(store, diamond());
    const Job extract = claim_one(store, "q-extract", at(1));
    CHECK(store.cancel_workflow(w.id, at(2)) == 4);
    for (const JobId id : w.job_ids) CHECK(state_of(store, id) == JobState::cancelled);
    // The running job's worker loses it.
    HeartbeatRequest hb;
    hb.jobs = {{extract.id, extract.attempt}};
    hb.worker_id = worker;
    hb.lease_expires_at = at(40);
    const std::vector<LostLease> lost = store.heartbeat(hb);
    REQUIRE(lost.size() == 1);
    CHECK(lost[0].why == LeaseLoss::cancelled);
    CHECK_FALSE(end(store, extract, OutcomeKind::complete, at(3)));
    CHECK(store.workflow(w.id)->summary.state == WorkflowState::cancelled);
    CHECK(store.cancel_workflow(w.id, at(4)) == 0);
    CHECK_FALSE(store.cancel_workflow(w.id + 1000, at(4)).has_value());
}

TEST_CASE_FIXTURE(StoreTest, "workflow: a rerun re-arms failed jobs and keeps completed results") {
    const WorkflowInsert w = insert(store, diamond());
    const Job extract = claim_one(store, "q-extract", at(1));
    REQUIRE(end(store, extract, OutcomeKind::complete, at(2), R"({"rows":3})"));
    const Job t1 = claim_one(store, "q-t1", at(3));
    REQUIRE(end(store, t1, OutcomeKind::complete, at(4), R"("one")"));
    const Job t2 = claim_one(store, "q-t2", at(3));
    REQUIRE(end(store, t2, OutcomeKind::discard, at(4)));
    CHECK(state_of(store, w.job_ids[3]) == JobState::cancelled);
    CHECK(store.workflow(w.id)->summary.state == WorkflowState::failed);

    CHECK(store.rerun_workflow(w.id, std::nullopt, at(5)) == 2);  // t2 and load
    CHECK(store.workflow(w.id)->summary.state == WorkflowState::running);
    CHECK(state_of(store, w.job_ids[0]) == JobState::completed);
    CHECK(state_of(store, w.job_ids[1]) == JobState::completed);
    CHECK(state_of(store, w.job_ids[2]) == JobState::available);
    CHECK(state_of(store, w.job_ids[3]) == JobState::pending);
    const Job again = claim_one(store, "q-t2", at(6));
    CHECK(again.attempt == 2);
    REQUIRE(again.upstream.size() == 1);
    CHECK(again.upstream[0].result == nlohmann::json{{"rows", 3}});
    REQUIRE(end(store, again, OutcomeKind::complete, at(7), R"("two")"));
    const Job load = claim_one(store, "q-load", at(8));
    CHECK(load.upstream.size() == 2);
    REQUIRE(end(store, load, OutcomeKind::complete, at(9)));
    CHECK(store.workflow(w.id)->summary.state == WorkflowState::completed);
    CHECK_FALSE(store.rerun_workflow(w.id + 1000, std::nullopt, at(10)).has_value());
}

TEST_CASE_FIXTURE(StoreTest, "workflow: retrying one job reruns it and what waits on it") {
    const WorkflowInsert w = insert(store, WorkflowSpec{"r"}
                                               .add("a", in_queue("k", "qa"))
                                               .add("b", in_queue("k", "qb"), {"a"})
                                               .add("x", in_queue("k", "qx")));
    const Job a = claim_one(store, "qa", at(1));
    REQUIRE(end(store, a, OutcomeKind::discard, at(2)));
    const Job x = claim_one(store, "qx", at(1));
    REQUIRE(end(store, x, OutcomeKind::discard, at(2)));
    const ChangeResult r = store.retry(w.job_ids[0], at(3));
    CHECK(r.changed);
    CHECK(r.job->state == JobState::available);
    CHECK(state_of(store, w.job_ids[1]) == JobState::pending);
    CHECK(state_of(store, w.job_ids[2]) == JobState::discarded);  // not downstream of a
    // A pending job is not made runnable by a retry.
    CHECK_FALSE(store.retry(w.job_ids[1], at(3)).changed);
    CHECK(state_of(store, w.job_ids[1]) == JobState::pending);
    // Replaying the dead-letter queue reruns x the same way.
    CHECK(store.replay_discarded(JobFilter{}, at(4)) == 1);
    CHECK(state_of(store, w.job_ids[2]) == JobState::available);
}

TEST_CASE_FIXTURE(StoreTest, "workflow: appended jobs wait on stored ones; completed ones are met") {
    const WorkflowInsert w = insert(store, WorkflowSpec{"grow"}
                                               .add("a", in_queue("k", "qa"))
                                               .add("b", in_queue("k", "qb")));
    const Job a = claim_one(store, "qa", at(1));
    REQUIRE(end(store, a, OutcomeKind::complete, at(2), "1"));
    const Job b = claim_one(store, "qb", at(1));
    REQUIRE(end(store, b, OutcomeKind::discard, at(2)));
    CHECK(store.workflow(w.id)->summary.state == WorkflowState::failed);
    const WorkflowInsert more = store.append_workflow(
        w.id, to_new_workflow(WorkflowSpec{"-"}
                                  .add("after-a", in_queue("k", "qc"), {"a"})
                                  .add("after-b", in_queue("k", "qd"), {"b"})
                                  .add("after-both", in_queue("k", "qe"), {"after-a"}),
                              at(3), {}, true));
    CHECK(more.id == w.id);
    REQUIRE(more.job_ids.size() == 3);
    CHECK(state_of(store, more.job_ids[0]) == JobState::available);
    CHECK(state_of(store, more.job_ids[1]) == JobState::cancelled);
    CHECK(state_of(store, more.job_ids[2]) == JobState::pending);
    CHECK(store.workflow(w.id)->summary.state == WorkflowState::running);
    CHECK(claim_one(store, "qc", at(4)).upstream.at(0).result == 1);
}

TEST_CASE_FIXTURE(StoreTest, "workflow: past its deadline, unfinished jobs are cancelled") {
    const WorkflowInsert w =
        insert(store, diamond().deadline(at(100)));
    const Job extract = claim_one(store, "q-extract", at(1));
    REQUIRE(end(store, extract, OutcomeKind::complete, at(2)));
    CHECK(store.settle_workflows(at(99), 100) == 0);
    CHECK(state_of(store, w.job_ids[1]) == JobState::available);
    CHECK(store.settle_workflows(at(100), 100) == 1);
    CHECK(state_of(store, w.job_ids[0]) == JobState::completed);
    const std::optional<Job> t1 = store.get(w.job_ids[1]);
    CHECK(t1->state == JobState::cancelled);
    CHECK(t1->errors.at(0).kind == "deadline");
    CHECK(store.workflow(w.id)->summary.state == WorkflowState::cancelled);
    CHECK(store.settle_workflows(at(200), 100) == 0);
}

// ---- batches ------------------------------------------------------------------------------

TEST_CASE_FIXTURE(StoreTest, "batch: callbacks run once each, with a summary") {
    BatchSpec spec{"exports"};
    for (int i = 0; i < 3; ++i) spec.add(in_queue("export.one", "qx"));
    spec.on(BatchCallback::all_completed, in_queue("cb.done", "cb"));
    spec.on(BatchCallback::any_discarded, JobSpec{"cb.failed", {{"to", "ops"}}}.queue("cb"));
    spec.on(BatchCallback::all_finished, in_queue("cb.finished", "cb"));
    const WorkflowInsert b = store.insert_workflow(to_new_workflow(spec, t0));
    REQUIRE(b.job_ids.size() == 3);
    CHECK(store.workflow(b.id)->summary.kind == WorkflowKind::batch);
    const std::vector<Job> jobs = claim(store, "qx", 3, at(1));
    REQUIRE(jobs.size() == 3);
    REQUIRE(end(store, jobs[0], OutcomeKind::discard, at(2)));
    std::vector<Job> cbs = claim(store, "cb", 10, at(3));
    REQUIRE(cbs.size() == 1);
    CHECK(cbs[0].kind == "cb.failed");
    CHECK(cbs[0].payload["to"] == "ops");
    CHECK(cbs[0].payload["batch"]["id"] == b.id);
    CHECK(cbs[0].payload["batch"]["discarded"] == 1);
    CHECK(cbs[0].payload["batch"]["failed_ids"] == nlohmann::json::array({jobs[0].id}));
    REQUIRE(end(store, jobs[1], OutcomeKind::discard, at(4)));  // no second any_discarded
    CHECK(claim(store, "cb", 10, at(5)).empty());
    REQUIRE(end(store, jobs[2], OutcomeKind::complete, at(6)));
    cbs = claim(store, "cb", 10, at(7));
    REQUIRE(cbs.size() == 1);  // all_finished; never all_completed
    CHECK(cbs[0].kind == "cb.finished");
    CHECK(cbs[0].payload["batch"]["total"] == 3);
    CHECK(cbs[0].payload["batch"]["completed"] == 1);
    const std::optional<WorkflowRecord> rec = store.workflow(b.id);
    CHECK(rec->summary.state == WorkflowState::failed);
    REQUIRE(rec->callbacks.size() == 3);
    for (const BatchCallbackRecord& c : rec->callbacks) {
        CHECK((c.fired_job != 0) == (c.on != "all_completed"));
    }
}

TEST_CASE_FIXTURE(StoreTest, "batch: an empty batch completes at once and calls back") {
    BatchSpec spec{"nothing"};
    spec.on(BatchCallback::all_completed, in_queue("cb.done", "cb"));
    const WorkflowInsert b = store.insert_workflow(to_new_workflow(spec, t0));
    CHECK(b.job_ids.empty());
    CHECK(store.workflow(b.id)->summary.state == WorkflowState::completed);
    const std::vector<Job> cbs = claim(store, "cb", 10, at(1));
    REQUIRE(cbs.size() == 1);
    CHECK(cbs[0].payload["batch"]["total"] == 0);
}

// ---- retention, listing, explain ----------------------------------------------------------

TEST_CASE_FIXTURE(StoreTest, "workflow: nothing of an unfinished one is pruned; a finished one "
                             "goes whole") {
    const WorkflowInsert w = insert(store, WorkflowSpec{"keep"}
                                               .add("a", in_queue("k", "qa"))
                                               .add("b", in_queue("k", "qb"), {"a"}));
    const Job a = claim_one(store, "qa", at(1));
    REQUIRE(end(store, a, OutcomeKind::complete, at(2), "7"));
    PruneRequest prune;
    prune.completed_before = at(1000);
    prune.cancelled_before = at(1000);
    prune.discarded_before = at(1000);
    CHECK(store.prune(prune) == 0);
    const Job b = claim_one(store, "qb", at(500));
    CHECK(b.upstream.at(0).result == 7);
    REQUIRE(end(store, b, OutcomeKind::complete, at(501)));
    prune.completed_before = at(501);  // b finished at 501: not before it
    CHECK(store.prune(prune) == 0);
    PruneRequest no_discard_cutoff;
    no_discard_cutoff.completed_before = at(1000);  // only completed jobs: all it has
    CHECK(store.prune(no_discard_cutoff) == 2);
    CHECK_FALSE(store.workflow(w.id).has_value());
    CHECK_FALSE(store.get(a.id).has_value());
}

TEST_CASE_FIXTURE(StoreTest, "workflow: listed by state and kind, newest first, in pages") {
    const WorkflowInsert one = insert(store, WorkflowSpec{"one"}.add("a", in_queue("k", "qa")));
    const WorkflowInsert two = insert(store, WorkflowSpec{"two"}.add("a", in_queue("k", "qa")));
    store.insert_workflow(to_new_workflow(BatchSpec{"three"}, t0));
    WorkflowFilter f;
    f.kind = WorkflowKind::workflow;
    f.limit = 1;
    const WorkflowPage p1 = store.workflows(f);
    REQUIRE(p1.workflows.size() == 1);
    CHECK(p1.workflows[0].id == two.id);
    CHECK(p1.workflows[0].counts[static_cast<std::size_t>(JobState::available)] == 1);
    REQUIRE(p1.next_before_id.has_value());
    f.before_id = p1.next_before_id;
    const WorkflowPage p2 = store.workflows(f);
    REQUIRE(p2.workflows.size() == 1);
    CHECK(p2.workflows[0].id == one.id);
    WorkflowFilter done;
    done.state = WorkflowState::completed;
    const WorkflowPage completed = store.workflows(done);
    REQUIRE(completed.workflows.size() == 1);
    CHECK(completed.workflows[0].name == "three");
}

TEST_CASE_FIXTURE(StoreTest, "workflow: explain's facts name the dependencies a job waits for") {
    const WorkflowInsert w = insert(store, diamond());
    const std::optional<WaitFacts> facts = store.wait_facts(w.job_ids[3], at(1));
    REQUIRE(facts.has_value());
    REQUIRE(facts->job.upstream.size() == 2);
    const WaitExplanation e = explain_wait(*facts, at(1));
    CHECK(e.reason == WaitReason::dependencies);
    CHECK(e.text.find("'t1'") != std::string::npos);
    CHECK(e.text.find("pending") != std::string::npos);
}

}  // namespace
}  // namespace jobq::conformance

namespace jobq::conformance {
namespace {

TEST_CASE_FIXTURE(StoreTest, "batch: a callback at the payload limit still fires with its summary") {
    BatchSpec spec{"big"};
    for (int i = 0; i < 50; ++i) spec.add(in_queue("k", "qx").max_attempts(1));
    const std::string filler(InputLimits{}.max_payload_bytes - 100, 'a');
    spec.on(BatchCallback::all_finished, JobSpec{"cb.big", {{"x", filler}}}.queue("cb"));
    const WorkflowInsert b = store.insert_workflow(to_new_workflow(spec, t0));
    std::vector<Outcome> outcomes;
    for (const Job& job : claim(store, "qx", 50, at(1))) {
        outcomes.push_back(ending(job, OutcomeKind::discard, at(2)));
    }
    REQUIRE(outcomes.size() == 50);
    // Every outcome is recorded although the summary takes the callback past the limit.
    CHECK(store.complete(outcomes) == std::vector<bool>(50, true));
    const std::vector<Job> cbs = claim(store, "cb", 10, at(3));
    REQUIRE(cbs.size() == 1);
    CHECK(cbs[0].payload["batch"]["failed_ids"].size() == 50);
    CHECK(store.workflow(b.id)->summary.state == WorkflowState::failed);
}

TEST_CASE_FIXTURE(StoreTest, "batch: jobs cannot be appended to one") {
    const WorkflowInsert b =
        store.insert_workflow(to_new_workflow(BatchSpec{"fixed"}.add(JobSpec{"k"}), t0));
    const std::size_t before = store.list(JobFilter{}).jobs.size();
    try {
        store.append_workflow(
            b.id, to_new_workflow(WorkflowSpec{"-"}.add("x", JobSpec{"k"}), at(1), {}, true));
        FAIL("expected a refusal");
    } catch (const Error& e) {
        CHECK(e.code() == ErrorCode::invalid_argument);
        CHECK(e.field() == "id");
    }
    CHECK(store.list(JobFilter{}).jobs.size() == before);
}

}  // namespace
}  // namespace jobq::conformance
