// The cron race on one PostgreSQL schema (tests/integration/cron_race.hpp): three scheduler
// processes, one killed, all killed, two restarted; every window exactly once.

#include <string>

#include <doctest/doctest.h>

#include "cron_race.hpp"
#include "jobq/postgres/postgres_store.hpp"
#include "pg_fixture.hpp"

namespace jobq::pgtest {

TEST_SUITE_BEGIN("cron_race");

TEST_CASE("three scheduler processes on one PostgreSQL schema emit every window exactly once") {
    ScratchSchema schema{"cron"};
    PostgresStore store{schema.url(), schema.options()};
    itest::TempDir dir;
    const std::string url = schema.url() +
                            (schema.url().find('?') == std::string::npos ? "?" : "&") +
                            "schema=" + schema.name();
    itest::race_three_schedulers(store, url, dir);
}

TEST_SUITE_END();

}  // namespace jobq::pgtest
