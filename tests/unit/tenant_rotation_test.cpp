// Tenants taking turns (plan_tenant_visit): the one rotation rule both backends apply.

#include <algorithm>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "jobq/backend/tenant_rotation.hpp"

using jobq::plan_tenant_visit;
using jobq::TenantFacts;
using jobq::TenantVisit;
using Names = std::vector<std::string>;

namespace {

TenantFacts named(Names names, bool plain = false) {
    return TenantFacts{plain, std::move(names)};
}

}  // namespace

TEST_CASE("no tenant with work and no plain jobs: nothing to visit, the cursor stays") {
    const TenantVisit v = plan_tenant_visit({}, "m", 3);
    CHECK(v.tenants.empty());
    CHECK_FALSE(v.more);
    CHECK(v.cursor == "m");
}

TEST_CASE("jobs without a tenant come first and on top of the named tenants") {
    const TenantVisit v = plan_tenant_visit(named({"b", "a", "c"}, true), "", 3);
    CHECK(v.tenants == Names{"", "a", "b", "c"});
    CHECK_FALSE(v.more);
    CHECK(v.cursor.empty());
}

TEST_CASE("every named tenant fits: all are visited after the cursor first, the cursor stays") {
    const TenantVisit v = plan_tenant_visit(named({"a", "b", "c", "d"}), "b", 4);
    CHECK(v.tenants == Names{"c", "d", "a", "b"});
    CHECK_FALSE(v.more);
    CHECK(v.cursor == "b");
}

TEST_CASE("more tenants than one claim visits: the cursor moves to the last one visited") {
    const Names all{"t1", "t2", "t3", "t4", "t5"};
    TenantVisit v = plan_tenant_visit(named(all), "", 2);
    CHECK(v.tenants == Names{"t1", "t2"});
    CHECK(v.more);
    CHECK(v.cursor == "t2");

    v = plan_tenant_visit(named(all), v.cursor, 2);
    CHECK(v.tenants == Names{"t3", "t4"});
    CHECK(v.cursor == "t4");

    // Wrapping round: after t5 the rotation starts again from the first name.
    v = plan_tenant_visit(named(all), v.cursor, 2);
    CHECK(v.tenants == Names{"t5", "t1"});
    CHECK(v.more);
    CHECK(v.cursor == "t1");
}

TEST_CASE("every tenant gets a turn within ceil(n / max) claims, whatever the cursor") {
    const Names all{"a", "b", "c", "d", "e", "f", "g"};
    for (const std::string& start : Names{"", "a", "c", "g", "zz"}) {
        std::string cursor = start;
        Names seen;
        for (int claim = 0; claim < 3; ++claim) {  // ceil(7 / 3)
            const TenantVisit v = plan_tenant_visit(named(all), cursor, 3);
            seen.insert(seen.end(), v.tenants.begin(), v.tenants.end());
            cursor = v.cursor;
        }
        for (const std::string& t : all) {
            CHECK_MESSAGE(std::count(seen.begin(), seen.end(), t) >= 1, "start ", start, " ", t);
        }
    }
}

TEST_CASE("a cursor naming a tenant that no longer has work still orders the rest") {
    const TenantVisit v = plan_tenant_visit(named({"a", "c", "e"}), "d", 2);
    CHECK(v.tenants == Names{"e", "a"});
    CHECK(v.more);
    CHECK(v.cursor == "a");
}

TEST_CASE("repeats and an empty name in the facts change nothing") {
    const TenantVisit v = plan_tenant_visit(named({"b", "a", "b", "", "a"}), "", 5);
    CHECK(v.tenants == Names{"a", "b"});
    CHECK_FALSE(v.more);
}

TEST_CASE("names are compared as bytes") {
    const TenantVisit v = plan_tenant_visit(named({"b", "B", "\xc3\xa9", "a"}), "", 10);
    CHECK(v.tenants == Names{"B", "a", "b", "\xc3\xa9"});
}
