// The workflow rules backends apply: where new jobs start, how an end travels down the graph
// (over an in-memory graph: the rule, not a store), what a rerun re-arms, how a finished
// workflow ended, and when a batch's stored callbacks are due.

#include <map>
#include <set>

#include <doctest/doctest.h>

#include "jobq/backend/workflow_plan.hpp"
#include "jobq/error.hpp"
#include "support/fixed_time.hpp"

using namespace jobq;
using jobq::test::t0;

namespace {

// A DAG in memory: each job's state, open count, and edges.
struct MemoryGraph final : DependencyGraph {
    struct Node {
        std::string step;
        JobState state = JobState::pending;
        int open = 0;
        std::string error;
    };
    std::map<JobId, Node> nodes;
    std::vector<WorkflowEdge> edges;
    std::vector<std::vector<JobId>> cancel_calls;

    void add(JobId id, std::string step, JobState state, std::vector<JobId> deps,
             DependencyPolicy on_discarded = DependencyPolicy::cancel) {
        nodes[id] = {std::move(step), state, static_cast<int>(deps.size()), {}};
        for (const JobId d : deps) edges.push_back({id, d, on_discarded, DependencyPolicy::cancel});
    }
    std::vector<DependentEdge> dependents(std::span<const JobId> ended) override {
        std::vector<DependentEdge> out;
        for (const JobId e : ended) {
            for (const WorkflowEdge& w : edges) {
                if (w.dep != e) continue;
                out.push_back({w.dep, nodes[w.dep].step, w.job, nodes[w.job].step,
                               nodes[w.job].state, w.on_discarded, w.on_cancelled});
            }
        }
        return out;
    }
    void meet(std::span<const std::pair<JobId, int>> met) override {
        for (const auto& [id, n] : met) {
            Node& node = nodes[id];
            if (node.state != JobState::pending) continue;
            node.open -= n;
            if (node.open == 0) node.state = JobState::available;
        }
    }
    std::vector<JobId> cancel(std::span<const std::pair<JobId, std::string>> jobs) override {
        std::vector<JobId> done;
        for (const auto& [id, error] : jobs) {
            Node& node = nodes[id];
            if (node.state != JobState::pending) continue;
            node.state = JobState::cancelled;
            node.error = error;
            done.push_back(id);
        }
        cancel_calls.push_back(done);
        return done;
    }
};

NewWorkflow workflow(const WorkflowSpec& spec, bool append = false) {
    return to_new_workflow(spec, t0, {}, append);
}

}  // namespace

TEST_SUITE_BEGIN("workflow_plan");

TEST_CASE("new jobs start available or pending; ids follow insertion order") {
    const NewWorkflow wf = workflow(WorkflowSpec{"w"}
                                        .add("load", JobSpec{"l"}, {"a", "b"})
                                        .add("a", JobSpec{"a"})
                                        .add("b", JobSpec{"b"}, {"a"}));
    REQUIRE(wf.jobs.size() == 3);
    CHECK(wf.jobs[0].step == "a");
    CHECK(wf.spec_index == std::vector<std::size_t>{2, 0, 1});
    const std::vector<PlacedJob> placed = place_workflow_jobs(wf, {});
    CHECK(placed[0].state == JobState::available);
    CHECK(placed[1].state == JobState::pending);
    CHECK(placed[1].open_deps == 1);
    CHECK(placed[2].open_deps == 2);
    REQUIRE(placed[2].deps.size() == 2);
    CHECK(placed[2].deps[0].new_index == 0u);
}

TEST_CASE("appended jobs: completed met, failed judged, unknown and repeated names refused") {
    const std::vector<WorkflowMember> stored{{10, "done", JobState::completed, 1, 1},
                                             {11, "broken", JobState::discarded, 3, 3},
                                             {12, "busy", JobState::running, 1, 3}};
    WorkflowSpec more{"-"};
    more.add("x", JobSpec{"k"}, {"done"});
    more.add("y", JobSpec{"k"}, {"broken"});
    more.add(WorkflowJob{"z", JobSpec{"k"}, {"broken", "busy"}, DependencyPolicy::ignore,
                         DependencyPolicy::cancel});
    more.add("after-y", JobSpec{"k"}, {"y"});
    const std::vector<PlacedJob> placed = place_workflow_jobs(workflow(more, true), stored);
    CHECK(placed[0].state == JobState::available);
    CHECK(placed[0].deps[0].stored_id == 10);
    CHECK(placed[1].state == JobState::cancelled);
    CHECK(placed[1].cancel_error->find("'broken' (job 11) was discarded") != std::string::npos);
    CHECK(placed[2].state == JobState::pending);
    CHECK(placed[2].open_deps == 1);
    CHECK(placed[3].state == JobState::cancelled);  // its dependency starts cancelled

    try {
        place_workflow_jobs(workflow(WorkflowSpec{"-"}.add("q", JobSpec{"k"}, {"nope"}), true),
                            stored);
        FAIL("expected a refusal");
    } catch (const Error& e) {
        CHECK(e.field() == "jobs[0].deps[0]");
    }
    CHECK_THROWS_AS(
        place_workflow_jobs(workflow(WorkflowSpec{"-"}.add("busy", JobSpec{"k"}), true), stored),
        Error);
}

TEST_CASE("an end travels down level by level; a cancelled job is not also counted off") {
    MemoryGraph g;
    g.add(1, "a", JobState::discarded, {});
    g.add(2, "b", JobState::completed, {});
    g.add(3, "c", JobState::pending, {1, 2});  // a cancels it even though b is met
    g.add(4, "d", JobState::pending, {3});
    g.add(5, "e", JobState::pending, {2});
    g.add(6, "f", JobState::pending, {1}, DependencyPolicy::ignore);
    release_dependents(g, {{1, DependencyEnd::discarded}, {2, DependencyEnd::completed}});
    CHECK(g.nodes[3].state == JobState::cancelled);
    CHECK(g.nodes[3].open == 2);
    CHECK(g.nodes[3].error.find("'a' (job 1) was discarded") != std::string::npos);
    CHECK(g.nodes[4].state == JobState::cancelled);
    CHECK(g.nodes[4].error.find("'c' (job 3) was cancelled") != std::string::npos);
    CHECK(g.nodes[5].state == JobState::available);
    CHECK(g.nodes[6].state == JobState::available);
    REQUIRE(g.cancel_calls.size() == 2);
    CHECK(g.cancel_calls[0] == std::vector<JobId>{3});
}

TEST_CASE("a rerun re-arms failed jobs downstream and leaves completed ones") {
    // a -> b -> c ; x (discarded, unrelated) ; d waits on b and x
    const std::vector<WorkflowMember> m{{1, "a", JobState::completed, 1, 1},
                                        {2, "b", JobState::discarded, 3, 3},
                                        {3, "c", JobState::cancelled, 0, 3},
                                        {4, "x", JobState::discarded, 1, 1},
                                        {5, "d", JobState::cancelled, 0, 1}};
    const std::vector<WorkflowEdge> e{{2, 1, DependencyPolicy::cancel, DependencyPolicy::cancel},
                                      {3, 2, DependencyPolicy::cancel, DependencyPolicy::cancel},
                                      {5, 2, DependencyPolicy::cancel, DependencyPolicy::cancel},
                                      {5, 4, DependencyPolicy::cancel, DependencyPolicy::cancel}};
    std::map<JobId, RearmedJob> all;
    for (const RearmedJob& r : plan_rerun(m, e, std::nullopt)) all[r.id] = r;
    CHECK(all.size() == 4);
    CHECK(all[2].state == JobState::available);
    CHECK(all[3].state == JobState::pending);
    CHECK(all[3].open_deps == 1);
    CHECK(all[5].open_deps == 2);
    // From b only: d still waits on x, which stays discarded under `cancel`: left alone.
    std::map<JobId, RearmedJob> from_b;
    for (const RearmedJob& r : plan_rerun(m, e, JobId{2})) from_b[r.id] = r;
    CHECK(from_b.size() == 2);
    CHECK(from_b.count(5) == 0);
    CHECK(plan_rerun(m, e, JobId{1}).empty());  // a completed job is not rerun
}

TEST_CASE("a finished workflow failed when a job was discarded, else cancelled or completed") {
    std::array<std::int64_t, all_job_states.size()> c{};
    c[static_cast<std::size_t>(JobState::completed)] = 3;
    CHECK(finished_state(c) == WorkflowState::completed);
    c[static_cast<std::size_t>(JobState::cancelled)] = 1;
    CHECK(finished_state(c) == WorkflowState::cancelled);
    c[static_cast<std::size_t>(JobState::discarded)] = 1;
    CHECK(finished_state(c) == WorkflowState::failed);
}

TEST_CASE("stored batch callbacks are due once, with a summary payload") {
    const BatchSpec spec = BatchSpec{"b"}
                               .on(BatchCallback::all_completed, JobSpec{"done", {{"x", 1}}})
                               .on(BatchCallback::any_discarded, JobSpec{"oops"});
    nlohmann::json stored = callbacks_json(spec);
    std::array<std::int64_t, all_job_states.size()> c{};
    c[static_cast<std::size_t>(JobState::running)] = 1;
    c[static_cast<std::size_t>(JobState::discarded)] = 1;
    CHECK(awaits_discard(stored));
    CHECK(due_callbacks(stored, c) == std::vector<std::size_t>{1});
    stored[1]["fired_job"] = 7;
    CHECK_FALSE(awaits_discard(stored));
    CHECK(due_callbacks(stored, c).empty());
    c = {};
    c[static_cast<std::size_t>(JobState::completed)] = 2;
    REQUIRE(due_callbacks(stored, c) == std::vector<std::size_t>{0});
    const nlohmann::json job = callback_job(stored[0], 42, "b", c, {});
    CHECK(job["kind"] == "done");
    CHECK(job["payload"]["x"] == 1);
    CHECK(job["payload"]["batch"]["id"] == 42);
    CHECK(job["payload"]["batch"]["total"] == 2);
    CHECK(job["payload"]["batch"]["callback"] == "all_completed");
}


TEST_CASE("a batch refuses callbacks with a unique key or a 'batch' payload key") {
    try {
        BatchSpec{"b"}.on(BatchCallback::all_finished, JobSpec{"cb"}.unique_key("u")).validate();
        FAIL("expected a refusal");
    } catch (const Error& e) {
        CHECK(e.field() == "callbacks.all_finished.unique_key");
    }
    try {
        BatchSpec{"b"}.on(BatchCallback::all_completed, JobSpec{"cb", {{"batch", 1}}}).validate();
        FAIL("expected a refusal");
    } catch (const Error& e) {
        CHECK(e.field() == "callbacks.all_completed.payload.batch");
    }
}

TEST_SUITE_END();
