#pragma once
// A workflow from the command line to its end: `jobq workflow add` enqueues a fan-out and
// fan-in of demo kinds, a real demo_worker process runs it, and `jobq workflow show` reports
// it completed with the results the fan-in job read. Shared by the SQLite and PostgreSQL CLI
// suites; built where the build has demo_worker (JOBQ_DEMO_WORKER names it).

#include "cli_fixture.hpp"

namespace jobq::test {

/// Runs extract (demo.echo) -> a, b, c (demo.echo) -> collect (demo.collect) on the fixture's
/// (migrated) database with one demo_worker, waiting (bounded) for the workflow to finish, and
/// checks collect's result holds a's, b's and c's results by name.
void run_fan_in_workflow(CliFixture& fx);

}  // namespace jobq::test
