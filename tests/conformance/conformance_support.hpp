#pragma once
// What every conformance file shares: the fixed times cases are written in, doctest printers
// for jobq types, and the per-case database fixture.

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include <doctest/doctest.h>

#include "jobq/backend/store.hpp"
#include "jobq/clock.hpp"
#include "jobq/job_state.hpp"
#include "store_factory.hpp"
#include "support/fixed_time.hpp"

namespace doctest {
template <>
struct StringMaker<jobq::Timestamp> {
    static String convert(const jobq::Timestamp& t) {
        return std::to_string(t.time_since_epoch().count()).c_str();
    }
};
template <>
struct StringMaker<std::optional<jobq::Timestamp>> {
    static String convert(const std::optional<jobq::Timestamp>& t) {
        return t ? std::to_string(t->time_since_epoch().count()).c_str() : "nullopt";
    }
};
template <>
struct StringMaker<jobq::JobState> {
    static String convert(jobq::JobState s) { return std::string(jobq::to_string(s)).c_str(); }
};
template <>
struct StringMaker<jobq::LostLease> {
    static String convert(const jobq::LostLease& l) {
        const char* why = l.why == jobq::LeaseLoss::cancelled ? "cancelled"
                          : l.why == jobq::LeaseLoss::missing ? "missing"
                                                              : "superseded";
        return (std::to_string(l.id) + ":" + why).c_str();
    }
};
}  // namespace doctest

namespace jobq::conformance {

// The time every case starts at and seconds after it; nothing in the suite reads a clock.
using test::at;
using test::t0;

/// A fresh migrated database per test case.
struct StoreTest {
    std::unique_ptr<TestDatabase> db = make_test_database();
    Store& store = db->store();
};

}  // namespace jobq::conformance
