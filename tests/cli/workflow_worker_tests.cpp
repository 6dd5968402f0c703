// A workflow added with the CLI runs to its end in a real demo_worker process (SQLite).

#include <doctest/doctest.h>

#include "workflow_run.hpp"

TEST_CASE("a fan-out, fan-in workflow added with jobq runs in demo_worker and collects results") {
    jobq::test::CliFixture fx;
    fx.migrate();
    jobq::test::run_fan_in_workflow(fx);
}
