// What a dependency's end does to a job waiting for it: met, or the job cancelled with an
// error naming the upstream job, per the job's two policies.

#include <doctest/doctest.h>

#include "jobq/backend/dependency_end.hpp"

using jobq::DependencyEnd;
using jobq::DependencyPolicy;
using jobq::DependencyVerdict;
using jobq::judge_dependency_end;

namespace {

constexpr auto cancel = DependencyPolicy::cancel;
constexpr auto ignore = DependencyPolicy::ignore;

DependencyVerdict met() {
    return DependencyVerdict{true, std::nullopt};
}

DependencyVerdict cancels(const char* error) {
    return DependencyVerdict{false, std::string(error)};
}

}  // namespace

TEST_SUITE_BEGIN("dependency_end");

TEST_CASE("a completed dependency is met whatever the policies") {
    for (auto d : {cancel, ignore}) {
        for (auto c : {cancel, ignore}) {
            CHECK(judge_dependency_end(DependencyEnd::completed, d, c, "a", 1) == met());
        }
    }
}

TEST_CASE("by default a failed dependency cancels its dependent, naming it and how it ended") {
    CHECK(judge_dependency_end(DependencyEnd::discarded, cancel, cancel, "extract", 12) ==
          cancels("dependency 'extract' (job 12) was discarded"));
    CHECK(judge_dependency_end(DependencyEnd::cancelled, cancel, cancel, "extract", 12) ==
          cancels("dependency 'extract' (job 12) was cancelled"));
    CHECK(judge_dependency_end(DependencyEnd::removed, cancel, cancel, "extract", 12) ==
          cancels("dependency 'extract' (job 12) was removed"));
}

TEST_CASE("ignore is set apart for discarded and for cancelled (and removed) dependencies") {
    CHECK(judge_dependency_end(DependencyEnd::discarded, ignore, cancel, "a", 1) == met());
    CHECK(judge_dependency_end(DependencyEnd::cancelled, ignore, cancel, "a", 1).cancel_error);
    CHECK(judge_dependency_end(DependencyEnd::cancelled, cancel, ignore, "a", 1) == met());
    CHECK(judge_dependency_end(DependencyEnd::removed, cancel, ignore, "a", 1) == met());
    CHECK(judge_dependency_end(DependencyEnd::discarded, cancel, ignore, "a", 1).cancel_error);
}

TEST_CASE("a name that could disturb a terminal is quoted safely in the error") {
    const DependencyVerdict v =
        judge_dependency_end(DependencyEnd::discarded, cancel, cancel, "a\x1b[2Jb", 3);
    REQUIRE(v.cancel_error);
    CHECK(v.cancel_error->find('\x1b') == std::string::npos);
}

TEST_SUITE_END();
