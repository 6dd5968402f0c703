// Flow-control load tests on one PostgreSQL schema (tests/integration/flow_load.hpp): caps,
// rate limits and fairness held by several worker processes, checked from the store's own
// timestamps.

#include <string>

#include <doctest/doctest.h>

#include "flow_load.hpp"
#include "jobq/postgres/postgres_store.hpp"
#include "pg_fixture.hpp"

namespace jobq::pgtest {

TEST_SUITE_BEGIN("flow_load");

struct PostgresLoad {
    ScratchSchema schema{"load"};
    PostgresStore store{schema.url(), schema.options()};
    itest::TempDir dir;
    // What demo_worker's --db takes: the server's URL with the scratch schema.
    std::string url = schema.url() + (schema.url().find('?') == std::string::npos ? "?" : "&") +
                      "schema=" + schema.name();
};

TEST_CASE_FIXTURE(PostgresLoad,
                  "PostgreSQL: a kind cap of 5 is never exceeded by four worker processes") {
    itest::load_cap_holds(store, url, dir);
}

TEST_CASE_FIXTURE(PostgresLoad,
                  "PostgreSQL: 50 starts/s hold within 10% over a backlog of 10,000") {
    itest::load_rate_holds(store, url, dir);
}

TEST_CASE_FIXTURE(PostgresLoad, "PostgreSQL: a cold queue is not starved by 20,000 hot jobs") {
    itest::load_cold_queue_not_starved(store, url, dir);
}

TEST_CASE_FIXTURE(PostgresLoad, "PostgreSQL: a cold tenant is not starved by 20,000 hot jobs") {
    itest::load_cold_tenant_not_starved(store, url, dir);
}

TEST_SUITE_END();

}  // namespace jobq::pgtest
