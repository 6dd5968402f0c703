#pragma once
// Small checks the kinds' tests make on finished jobs.

#include <string>

#include <doctest/doctest.h>

#include "jobq/job.hpp"

namespace jobq::test {

/// The message of the job's latest error (fails the test when it has none).
inline std::string last_error(const Job& j) {
    REQUIRE_FALSE(j.errors.empty());
    return j.errors.back().message;
}

inline bool contains(const std::string& s, const std::string& part) {
    return s.find(part) != std::string::npos;
}

}  // namespace jobq::test
