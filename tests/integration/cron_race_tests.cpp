// The cron race on one SQLite file (cron_race.hpp): three scheduler processes, each window once.

#include <string>

#include <doctest/doctest.h>

#include "cron_race.hpp"
#include "jobq/sqlite/sqlite_store.hpp"

namespace jobq::itest {

TEST_SUITE_BEGIN("cron_race");

TEST_CASE("three scheduler processes on one SQLite file emit every window exactly once") {
    TempDir dir;
    const std::string path = (dir.path() / "jobs.db").string();
    SqliteStore store{path, SqliteOptions{.migrate = true}};
    race_three_schedulers(store, path, dir);
}

TEST_SUITE_END();

}  // namespace jobq::itest
