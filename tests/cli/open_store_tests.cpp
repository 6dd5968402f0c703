// The store opener the tools share: which text names which database, and how bad text fails.

#include <stdlib.h>

#include <doctest/doctest.h>

#include "cli_fixture.hpp"
#include "common/open_store.hpp"
#include "jobq/error.hpp"

using jobq::ErrorCode;
using jobq::tools::Backend;
using jobq::tools::parse_store_url;

namespace {

// The message of the invalid_argument error parsing `url` throws.
std::string rejection(const std::string& url) {
    try {
        parse_store_url(url);
    } catch (const jobq::Error& e) {
        CHECK(e.code() == ErrorCode::invalid_argument);
        return e.what();
    }
    FAIL("'" << url << "' was accepted");
    return {};
}

}  // namespace

TEST_CASE("a plain path names a SQLite file, taken literally") {
    for (const std::string path :
         {"jobs.db", "/var/lib/jobq/jobs.db", "data/jobs:v2.db", "a?b.db"}) {
        const auto location = parse_store_url(path);
        CHECK(location.backend == Backend::sqlite);
        CHECK(location.sqlite_path == path);
        CHECK(location.sqlite_options.durability == jobq::SqliteDurability::full);
    }
}

TEST_CASE("sqlite URLs name relative and absolute paths") {
    CHECK(parse_store_url("sqlite:jobs.db").sqlite_path == "jobs.db");
    CHECK(parse_store_url("sqlite:data/jobs.db").sqlite_path == "data/jobs.db");
    CHECK(parse_store_url("sqlite:/var/jobs.db").sqlite_path == "/var/jobs.db");
    CHECK(parse_store_url("sqlite:///var/jobs.db").sqlite_path == "/var/jobs.db");
    CHECK(parse_store_url("SQLite:jobs.db").sqlite_path == "jobs.db");
}

TEST_CASE("percent escapes in a sqlite URL are decoded") {
    CHECK(parse_store_url("sqlite:///tmp/my%20jobs%3F.db").sqlite_path == "/tmp/my jobs?.db");
    CHECK(rejection("sqlite:///tmp/100%.db").find("%25") != std::string::npos);
}

TEST_CASE("the durability option of a sqlite URL selects the SQLite synchronous level") {
    CHECK(parse_store_url("sqlite:jobs.db?durability=normal").sqlite_options.durability ==
          jobq::SqliteDurability::normal);
    CHECK(parse_store_url("sqlite:///tmp/jobs.db?durability=full").sqlite_options.durability ==
          jobq::SqliteDurability::full);
    CHECK(parse_store_url("sqlite:///tmp/jobs.db?durability=normal").sqlite_path == "/tmp/jobs.db");
}

TEST_CASE("an unknown option or value in a sqlite URL is rejected by name") {
    CHECK(rejection("sqlite:jobs.db?cache=shared").find("'cache'") != std::string::npos);
    CHECK(rejection("sqlite:jobs.db?durability=fast").find("durability") != std::string::npos);
    CHECK(rejection("sqlite:jobs.db?durability=fast").find("'fast'") != std::string::npos);
    CHECK(rejection("sqlite:jobs.db?durability=full&durability=normal").find("twice") !=
          std::string::npos);
}

TEST_CASE("a sqlite URL must name a file and no host") {
    CHECK(rejection("sqlite:").find("no file") != std::string::npos);
    CHECK(rejection("sqlite://jobs.db").find("sqlite:jobs.db") != std::string::npos);
    CHECK(rejection("").find("empty") != std::string::npos);
}

TEST_CASE("an unknown URL scheme is rejected by name") {
    CHECK(rejection("mysql://localhost/jobs").find("'mysql'") != std::string::npos);
}

TEST_CASE("PostgreSQL URLs are recognised but the backend is not built in yet") {
    for (const std::string url : {"postgresql://localhost/jobs", "postgres://u@h:5432/jobs"}) {
        CHECK(parse_store_url(url).backend == Backend::postgres);
        try {
            jobq::tools::open_store(url);
            FAIL("open_store accepted " << url);
        } catch (const jobq::Error& e) {
            CHECK(e.code() == ErrorCode::invalid_argument);
            CHECK(std::string(e.what()) == "PostgreSQL backend is not built in this version");
        }
    }
}

TEST_CASE("the default database is $JOBQ_DATABASE_URL, else ./jobq.db") {
    const char* saved = std::getenv("JOBQ_DATABASE_URL");
    const std::string restore = saved ? saved : "";
    ::setenv("JOBQ_DATABASE_URL", "sqlite:///srv/jobs.db", 1);
    CHECK(jobq::tools::default_database_url() == "sqlite:///srv/jobs.db");
    ::setenv("JOBQ_DATABASE_URL", "", 1);
    CHECK(jobq::tools::default_database_url() == "./jobq.db");
    ::unsetenv("JOBQ_DATABASE_URL");
    CHECK(jobq::tools::default_database_url() == "./jobq.db");
    if (saved) ::setenv("JOBQ_DATABASE_URL", restore.c_str(), 1);
}

TEST_CASE("open_store opens a SQLite store that can be migrated") {
    jobq::test::CliFixture fx;
    auto store = jobq::tools::open_store("sqlite://" + fx.db().string() + "?durability=normal");
    CHECK(store->schema_version() == 0);
    const int version = store->migrate();
    CHECK(version >= 1);
    CHECK(store->schema_version() == version);
    CHECK(std::filesystem::exists(fx.db()));
}
