#pragma once
// The workflow release race across processes, for any store a URL names: two
// workflow_race_peer processes end the last two dependencies of a job in the same instant,
// round after round, and the job must be released exactly once each time. Used by
// workflow_race_tests.cpp (SQLite) and tests/postgres.

#include <unistd.h>

#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "process_harness.hpp"

namespace jobq::itest {

/// Runs the race for `rounds` workflows on the store `db` names; peer output goes to `dir`.
inline void run_workflow_race(const std::string& peer, const std::string& db,
                              const std::filesystem::path& dir, int rounds) {
    const std::string n = std::to_string(rounds);
    {
        ChildProcess setup(dir, "setup", {peer, "setup", db, n});
        const int status = setup.wait_exit();
        INFO(setup.describe());
        REQUIRE(WIFEXITED(status));
        REQUIRE(WEXITSTATUS(status) == 0);
    }
    int to_a[2];
    int to_b[2];
    REQUIRE(::pipe(to_a) == 0);
    REQUIRE(::pipe(to_b) == 0);
    SpawnOptions oa;
    oa.fd3 = to_a[0];
    SpawnOptions ob;
    ob.fd3 = to_b[0];
    ChildProcess a(dir, "side-a", {peer, "finish", db, n, "a"}, oa);
    ChildProcess b(dir, "side-b", {peer, "finish", db, n, "b"}, ob);
    ::close(to_a[0]);
    ::close(to_b[0]);
    auto both_said = [&](const std::string& line) {
        return a.stdout_text().find(line) != std::string::npos &&
               b.stdout_text().find(line) != std::string::npos;
    };
    auto context = [&] { return a.describe() + b.describe(); };
    for (int r = 0; r < rounds; ++r) {
        const std::string round = std::to_string(r) + "\n";
        wait_until([&] { return both_said("claimed " + round); }, "both sides to claim", context);
        // Both go in the same instant: each side blocks on its pipe until these two writes.
        REQUIRE(::write(to_a[1], "g", 1) == 1);
        REQUIRE(::write(to_b[1], "g", 1) == 1);
        wait_until([&] { return both_said("done " + round); }, "both sides to complete", context);
    }
    ::close(to_a[1]);
    ::close(to_b[1]);
    for (ChildProcess* side : {&a, &b}) {
        const int status = side->wait_exit();
        INFO(side->describe());
        REQUIRE(WIFEXITED(status));
        REQUIRE(WEXITSTATUS(status) == 0);
    }
    ChildProcess check(dir, "check", {peer, "check", db, n});
    const int status = check.wait_exit();
    INFO(check.describe());
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
    CHECK(check.stdout_text() == "ok\n");
}

}  // namespace jobq::itest
