// Flow-control load tests on one SQLite file (flow_load.hpp): caps, rate limits and fairness
// held by several worker processes, checked from the store's own timestamps.

#include <string>

#include <doctest/doctest.h>

#include "flow_load.hpp"
#include "jobq/sqlite/sqlite_store.hpp"

namespace jobq::itest {

TEST_SUITE_BEGIN("flow_load");

struct SqliteLoad {
    TempDir dir;
    std::string path = (dir.path() / "jobs.db").string();
    SqliteStore store{path, SqliteOptions{.migrate = true}};
};

TEST_CASE_FIXTURE(SqliteLoad,
                  "SQLite: a kind cap of 5 is never exceeded by four worker processes") {
    load_cap_holds(store, path, dir);
}

TEST_CASE_FIXTURE(SqliteLoad, "SQLite: 50 starts/s hold within 10% over a backlog of 10,000") {
    load_rate_holds(store, path, dir);
}

TEST_CASE_FIXTURE(SqliteLoad, "SQLite: a cold queue is not starved by 20,000 hot jobs") {
    load_cold_queue_not_starved(store, path, dir);
}

TEST_CASE_FIXTURE(SqliteLoad, "SQLite: a cold tenant is not starved by 20,000 hot jobs") {
    load_cold_tenant_not_starved(store, path, dir);
}

TEST_SUITE_END();

}  // namespace jobq::itest
