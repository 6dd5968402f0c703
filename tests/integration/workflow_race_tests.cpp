// Two processes on one SQLite file end the last two dependencies of a workflow job at the same
// instant, 30 times: each time the job is released exactly once (workflow_race.hpp).

#include <doctest/doctest.h>

#include "workflow_race.hpp"

namespace jobq::itest {

TEST_CASE("two processes ending a job's last two dependencies at once release it once") {
    TempDir dir;
    run_workflow_race(JOBQ_WORKFLOW_RACE_PEER, (dir.path() / "race.db").string(), dir.path(), 30);
}

}  // namespace jobq::itest
