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
         {"jobs.db", "/var/lib/jobq/jobs.db", "data/jobs:v2.db", "my jobs%.db"}) {
        const auto location = parse_store_url(path);
        CHECK(location.backend == Backend::sqlite);
        CHECK(location.sqlite_path == path);
        CHECK(location.sqlite_options.durability == jobq::SqliteDurability::full);
    }
}

TEST_CASE("options after a plain path are parsed, never taken into the file name") {
    const auto location = parse_store_url("/tmp/jobs.db?durability=normal");
    CHECK(location.sqlite_path == "/tmp/jobs.db");
    CHECK(location.sqlite_options.durability == jobq::SqliteDurability::normal);
    const std::string why = rejection("a?b.db");
    CHECK(why.find("'b.db'") != std::string::npos);
    CHECK(why.find("%3F") != std::string::npos);
    CHECK(rejection("jobs.db?durability=fast").find("'fast'") != std::string::npos);
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

TEST_CASE("the mode option of a sqlite URL selects the access; the tools default to automatic") {
    CHECK(parse_store_url("jobs.db").sqlite_options.access == jobq::SqliteAccess::automatic);
    CHECK(parse_store_url("sqlite:jobs.db?durability=full").sqlite_options.access ==
          jobq::SqliteAccess::automatic);
    CHECK(parse_store_url("sqlite:jobs.db?mode=ro").sqlite_options.access ==
          jobq::SqliteAccess::read_only);
    CHECK(parse_store_url("jobs.db?mode=rw&durability=normal").sqlite_options.access ==
          jobq::SqliteAccess::read_write);
    CHECK(parse_store_url("sqlite:jobs.db?mode=auto").sqlite_options.access ==
          jobq::SqliteAccess::automatic);
    CHECK(rejection("sqlite:jobs.db?mode=ro&mode=rw").find("'mode' is given twice") !=
          std::string::npos);
    CHECK(rejection("sqlite:jobs.db?mode=rwc").find("'rwc'") != std::string::npos);
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

TEST_CASE("postgresql:// and postgres:// URLs name a PostgreSQL database with default options") {
    for (const std::string url :
         {"postgresql://u@h:5432/jobs", "postgres://u@h:5432/jobs", "PostgreSQL://u@h:5432/jobs"}) {
        CAPTURE(url);
        const auto location = parse_store_url(url);
        CHECK(location.backend == Backend::postgres);
        // libpq knows only the lower-case scheme names.
        CHECK(location.postgres_conninfo == "postgresql://u@h:5432/jobs");
        CHECK(location.postgres_options.schema == jobq::PostgresOptions{}.schema);
        CHECK(location.postgres_options.pool_size == jobq::PostgresOptions{}.pool_size);
        CHECK_FALSE(location.postgres_schema_given);
        CHECK(location.url == url);
    }
    CHECK(parse_store_url("postgresql://").postgres_conninfo == "postgresql://");
    CHECK(parse_store_url("postgresql:///jobs").postgres_conninfo == "postgresql:///jobs");
}

TEST_CASE("schema and pool_size are jobq's options and are taken out of the libpq URL") {
    const auto location = parse_store_url(
        "postgresql://u@h/db?sslmode=disable&schema=app_jobs&connect_timeout=3&pool_size=8");
    CHECK(location.postgres_options.schema == "app_jobs");
    CHECK(location.postgres_schema_given);
    CHECK(location.postgres_options.pool_size == 8);
    CHECK(location.postgres_conninfo == "postgresql://u@h/db?sslmode=disable&connect_timeout=3");

    const auto only_ours = parse_store_url("postgres://h/db?schema=_q1&pool_size=1");
    CHECK(only_ours.postgres_conninfo == "postgresql://h/db");
    CHECK(only_ours.postgres_options.schema == "_q1");
    CHECK(only_ours.postgres_options.pool_size == 1);

    CHECK(parse_store_url("postgresql://h/db?schema=my%5Fjobs").postgres_options.schema ==
          "my_jobs");
}

TEST_CASE("other query parameters are libpq's and reach it exactly as written") {
    // libpq, not jobq, rejects an unknown one when the store connects.
    CHECK(parse_store_url("postgresql://h/db?application_name=a%20b&bogus=1").postgres_conninfo ==
          "postgresql://h/db?application_name=a%20b&bogus=1");
    CHECK(parse_store_url("postgresql://h1:5432,h2:5433/db?target_session_attrs=read-write")
              .postgres_conninfo ==
          "postgresql://h1:5432,h2:5433/db?target_session_attrs=read-write");
    CHECK(parse_store_url("postgresql://[::1]:5432/db").postgres_conninfo ==
          "postgresql://[::1]:5432/db");
}

TEST_CASE("a bad pool_size is rejected naming pool_size") {
    for (const std::string value : {"0", "-1", "x", "", "4x", "99999999999"}) {
        CAPTURE(value);
        const std::string message = rejection("postgresql://h/db?pool_size=" + value);
        CHECK(message.find("pool_size") != std::string::npos);
    }
    CHECK(rejection("postgresql://h/db?pool_size=2&pool_size=3").find("twice") !=
          std::string::npos);
}

TEST_CASE("a schema that is not a plain lower-case identifier is rejected naming schema") {
    const std::string too_long(64, 'a');
    for (const std::string value : {"Jobs", "1jobs", "a-b", "", "a.b", "a%20b", too_long.c_str()}) {
        CAPTURE(value);
        const std::string message = rejection("postgresql://h/db?schema=" + value);
        CHECK(message.find("schema") != std::string::npos);
    }
    CHECK(parse_store_url("postgresql://h/db?schema=" + std::string(63, 'a'))
              .postgres_options.schema.size() == 63);
    CHECK(rejection("postgresql://h/db?schema=a&schema=b").find("twice") != std::string::npos);
}

TEST_CASE("a PostgreSQL URL must start with scheme://") {
    CHECK(rejection("postgresql:jobs").find("postgresql://") != std::string::npos);
}

TEST_CASE("a password in the URL goes to libpq but never into messages") {
    const auto location =
        parse_store_url("postgresql://app:s3cr%3At@db.example:5432/jobs?schema=q&sslmode=require");
    CHECK(location.postgres_conninfo ==
          "postgresql://app:s3cr%3At@db.example:5432/jobs?sslmode=require");
    CHECK(location.url == "postgresql://app:***@db.example:5432/jobs?schema=q&sslmode=require");

    const auto in_query = parse_store_url("postgresql://h/db?password=hunter2&user=app");
    CHECK(in_query.postgres_conninfo == "postgresql://h/db?password=hunter2&user=app");
    CHECK(in_query.url == "postgresql://h/db?password=***&user=app");

    // As in libpq, the user information ends at the first '@' before any '/', so a password
    // may hold '?' and ':' literally.
    const auto odd = parse_store_url("postgresql://u:p?a:ss@h/db?schema=s");
    CHECK(odd.postgres_conninfo == "postgresql://u:p?a:ss@h/db");
    CHECK(odd.postgres_options.schema == "s");
    CHECK(odd.url.find("p?a:ss") == std::string::npos);

    for (const std::string url :
         {"postgresql://u:hunter2@h/db?pool_size=0", "postgres://u:hunter2@h/db?schema=Bad",
          "postgresql://h/db?password=hunter2&schema=Bad", "mysql://u:hunter2@h/db",
          "postgresql://u:hunter2@h/db?schema=%zz"}) {
        CAPTURE(url);
        const std::string message = rejection(url);
        CHECK(message.find("hunter2") == std::string::npos);
        CHECK(message.find("***") != std::string::npos);
    }
}

#ifdef JOBQ_TOOLS_HAVE_POSTGRES
TEST_CASE("open_store makes a PostgresStore without connecting") {
    // Nothing listens on port 1: the store connects on its first call, not here.
    auto store = jobq::tools::open_store("postgresql://127.0.0.1:1/jobs?schema=s&pool_size=2");
    auto* pg = dynamic_cast<jobq::PostgresStore*>(store.get());
    REQUIRE(pg != nullptr);
    CHECK(pg->schema() == "s");
    try {
        store->schema_version();
        FAIL("a store on a closed port answered");
    } catch (const jobq::Error& e) {
        CHECK(e.code() == ErrorCode::unavailable);
    }
}
#else
TEST_CASE("PostgreSQL URLs are recognised but the backend is not built in") {
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
#endif

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
