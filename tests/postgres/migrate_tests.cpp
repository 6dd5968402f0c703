// Concurrent migration: many processes deploying at once all call migrate() on one fresh
// schema. The advisory lock must make one of them apply each migration while the others wait
// and find it done, so that every process starts and the schema ends up whole.

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "jobq/postgres/postgres_store.hpp"
#include "pg_fixture.hpp"

namespace jobq::pgtest {

namespace {

/// A pipe whose ends close when it goes; both ends close-on-exec.
struct Pipe {
    int read_end = -1;
    int write_end = -1;
    Pipe() {
        int fds[2];
        if (::pipe2(fds, O_CLOEXEC) != 0) FAIL("pipe2 failed: " << std::strerror(errno));
        read_end = fds[0];
        write_end = fds[1];
    }
    ~Pipe() {
        close_read();
        close_write();
    }
    Pipe(const Pipe&) = delete;
    Pipe& operator=(const Pipe&) = delete;
    void close_read() {
        if (read_end >= 0) ::close(std::exchange(read_end, -1));
    }
    void close_write() {
        if (write_end >= 0) ::close(std::exchange(write_end, -1));
    }
};

/// The number after `word` on a line of `text`, or -1.
int number_after(const std::string& text, const std::string& word) {
    std::istringstream lines(text);
    std::string line;
    while (std::getline(lines, line)) {
        std::istringstream fields(line);
        std::string first;
        int n = -1;
        if (fields >> first >> n && first == word) return n;
    }
    return -1;
}

/// The version this library migrates a schema to, measured on a schema of its own.
int latest_version() {
    ScratchSchema reference{"migref"};
    PostgresStore store{reference.url(), reference.options(false)};
    return store.migrate();
}

}  // namespace

TEST_SUITE_BEGIN("migrate");
TEST_CASE("ten processes migrating one fresh schema at once all succeed with the same version") {
    constexpr int processes = 10;
    const int latest = latest_version();
    REQUIRE(latest >= 1);

    ScratchSchema schema{"mig"};
    TempDir dir;
    Pipe barrier;
    std::vector<std::unique_ptr<ChildProcess>> helpers;
    for (int i = 0; i < processes; ++i) {
        helpers.push_back(std::make_unique<ChildProcess>(
            dir.path(), "helper-" + std::to_string(i),
            std::vector<std::string>{JOBQ_PG_MIGRATE_HELPER, schema.url(), schema.name()},
            SpawnOptions{.null_stdin = true, .fd3 = barrier.read_end}));
    }
    barrier.close_read();  // only the helpers hold it now

    // Every helper is connected and blocked on the barrier before any of them migrates.
    auto describe_all = [&] {
        std::string s;
        for (const auto& h : helpers) s += h->describe();
        return s;
    };
    wait_until(
        [&] {
            int ready = 0;
            for (const auto& h : helpers) {
                if (number_after(h->stdout_text(), "ready") == 0) {
                    ++ready;
                } else if (h->try_reap()) {
                    FAIL(h->name() << " exited before it was ready\n" << h->describe());
                }
            }
            return ready == processes;
        },
        "every helper to be connected and waiting", describe_all);
    barrier.close_write();  // EOF on every helper's fd 3 at once: they race from here

    std::set<int> versions;
    for (const auto& h : helpers) {
        const int status = h->wait_exit();
        INFO(h->describe());
        CHECK(WIFEXITED(status));
        CHECK(WEXITSTATUS(status) == 0);
        const int version = number_after(h->stdout_text(), "version");
        CHECK(version == latest);
        versions.insert(version);
    }
    CHECK(versions.size() == 1);

    // The schema they built is whole: at the latest version, migrate has nothing left to do,
    // and a store works on it.
    PostgresStore store{schema.url(), schema.options(false)};
    CHECK(store.schema_version() == latest);
    CHECK(store.migrate() == latest);
    check_round_trip(store, "after_migrate");
}

TEST_CASE(
    "a store that finds the schema already migrated by another migrates to the same version") {
    ScratchSchema schema{"mig2"};
    PostgresStore first{schema.url(), schema.options(false)};
    PostgresStore second{schema.url(), schema.options(false)};
    CHECK(first.schema_version() == 0);
    const int version = first.migrate();
    CHECK(second.schema_version() == version);
    CHECK(second.migrate() == version);
    check_round_trip(second, "second");
    check_round_trip(first, "first");
}

TEST_SUITE_END();  // migrate

}  // namespace jobq::pgtest
