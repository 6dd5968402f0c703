// Workflows on PostgreSQL beyond the conformance suite: a workflow enqueued in the caller's own
// transaction exists if and only if the caller commits, a refused one leaves that transaction
// usable, and two worker processes that end a job's last two dependencies at the same instant
// release it exactly once (workflow_race.hpp).

#include <string>

#include <doctest/doctest.h>
#include <pqxx/pqxx>

#include "jobq/error.hpp"
#include "jobq/postgres/postgres_store.hpp"
#include "jobq/workflow_spec.hpp"
#include "pg_fixture.hpp"
#include "workflow_race.hpp"

namespace jobq::pgtest {

namespace {

WorkflowSpec two_steps() {
    return WorkflowSpec{"tx"}
        .add("a", JobSpec{"k"}.queue("wf-a"))
        .add("b", JobSpec{"k"}.queue("wf-b"), {"a"});
}

}  // namespace

TEST_SUITE_BEGIN("workflows");

TEST_CASE("a workflow enqueued in the caller's transaction exists only if it commits") {
    ScratchSchema schema{"wftx"};
    PostgresStore store{schema.url(), schema.options()};
    pqxx::connection conn{schema.url()};
    {
        pqxx::work tx{conn};
        store.enqueue_in(tx, two_steps());
        // Not committed: nothing to see from elsewhere.
        CHECK(store.workflows({}).workflows.empty());
        tx.abort();
    }
    CHECK(store.workflows({}).workflows.empty());
    CHECK(store.list({}).jobs.empty());

    pqxx::work tx{conn};
    try {
        store.enqueue_in(tx, WorkflowSpec{"bad"}.add("a", JobSpec{"k"}, {"a"}));
        FAIL("expected a refusal");
    } catch (const Error& e) {
        CHECK(e.code() == ErrorCode::invalid_argument);
    }
    const WorkflowInsert w = store.enqueue_in(tx, two_steps());  // the transaction still works
    CHECK(tx.exec("SELECT 1").size() == 1);  // the transaction still works
    tx.commit();
    const std::optional<WorkflowRecord> rec = store.workflow(w.id);
    REQUIRE(rec.has_value());
    CHECK(rec->jobs.size() == 2);
    CHECK(store.get(w.job_ids[1])->state == JobState::pending);
    CHECK(claim_now(store, "wf-a", 10, "w").size() == 1);
}

TEST_CASE("two processes ending a job's last two dependencies at once release it once") {
    ScratchSchema schema{"wfrace"};
    itest::TempDir dir;
    const std::string url = schema.url() + (schema.url().find('?') == std::string::npos ? "?" : "&") +
                            "schema=" + schema.name();
    itest::run_workflow_race(JOBQ_WORKFLOW_RACE_PEER, url, dir.path(), 30);
}

TEST_SUITE_END();

}  // namespace jobq::pgtest
