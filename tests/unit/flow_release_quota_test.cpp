// The two other flow-control rules both backends apply: how ended jobs give limit slots back
// (LimitRelease) and how an insert uses up tenant quotas (TenantQuotas).

#include <set>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "jobq/backend/limit_release.hpp"
#include "jobq/backend/tenant_quota.hpp"
#include "jobq/quota_exceeded.hpp"

using jobq::LimitRelease;
using jobq::LimitScope;
using jobq::QuotaExceeded;
using jobq::TenantQuotas;

TEST_CASE("a job counts in its queue's and kind's rows, and its tenant's when it has one") {
    CHECK(jobq::held_scopes("q", "k", "") ==
          std::vector<LimitScope>{LimitScope::queue("q"), LimitScope::kind("k")});
    CHECK(jobq::held_scopes("q", "k", "acme") ==
          std::vector<LimitScope>{LimitScope::queue("q"), LimitScope::kind("k"),
                                  LimitScope::tenant("acme")});
}

TEST_CASE("a release tallies each row once with the number of its jobs that ended") {
    LimitRelease r;
    CHECK(r.empty());
    r.add("q", "k", "a");
    r.add("q", "k", "b");
    r.add("p", "k", "a");
    r.add("q", "m", "");
    CHECK_FALSE(r.empty());
    using Count = std::pair<LimitScope, std::int64_t>;
    CHECK(r.per_scope() == std::vector<Count>{{LimitScope::queue("p"), 1},
                                              {LimitScope::queue("q"), 3},
                                              {LimitScope::kind("k"), 3},
                                              {LimitScope::kind("m"), 1},
                                              {LimitScope::tenant("a"), 2},
                                              {LimitScope::tenant("b"), 1}});
}

TEST_CASE("only queues whose jobs counted in a changed row are woken, each once") {
    LimitRelease r;
    r.add("q", "k", "a");
    r.add("p", "m", "b");
    r.add("q", "k", "a");
    r.add("s", "n", "");
    CHECK(r.queues_to_wake({}).empty());
    // A tenant row shared by no other queue wakes only its job's queue.
    CHECK(r.queues_to_wake({LimitScope::tenant("b")}) == std::vector<std::string>{"p"});
    // A kind row wakes every queue with a job of that kind, in the order the jobs came.
    CHECK(r.queues_to_wake({LimitScope::kind("k"), LimitScope::queue("s")}) ==
          std::vector<std::string>{"q", "s"});
    // A row none of the jobs counted in wakes nobody.
    CHECK(r.queues_to_wake({LimitScope::tenant("zzz")}).empty());
}

TEST_CASE("a tenant quota admits up to max_queued and then refuses, naming the tenant") {
    TenantQuotas q;
    q.add("acme", 3, 1);
    CHECK(q.knows("acme"));
    CHECK(q.any());
    q.admit("acme");
    q.admit("acme");
    try {
        q.admit("acme");
        FAIL("the fourth queued job was admitted");
    } catch (const QuotaExceeded& e) {
        CHECK(std::string(e.what()).find("acme") != std::string::npos);
    }
}

TEST_CASE("no quota: unknown tenants, jobs without a tenant and tenants without max_queued") {
    TenantQuotas q;
    CHECK_FALSE(q.any());
    q.add("free", std::nullopt, 1'000'000);
    CHECK(q.knows("free"));
    CHECK_FALSE(q.knows("other"));
    CHECK_FALSE(q.any());
    for (int i = 0; i < 10; ++i) {
        q.admit("free");
        q.admit("other");
        q.admit("");
    }
}

TEST_CASE("a quota of zero refuses the first job; one already over refuses too") {
    TenantQuotas q;
    q.add("none", 0, 0);
    q.add("over", 2, 5);
    CHECK_THROWS_AS(q.admit("none"), QuotaExceeded);
    CHECK_THROWS_AS(q.admit("over"), QuotaExceeded);
}
