// Claim planning: what a queue may start (gate_claim) and which candidates start, in what
// order, and what that does to the limit rows (plan_claim).

#include <algorithm>
#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "jobq/backend/claim_plan.hpp"
#include "support.hpp"

using namespace std::chrono_literals;
using jobq::ClaimCandidate;
using jobq::ClaimGate;
using jobq::ClaimPlan;
using jobq::ClaimPlanInput;
using jobq::Duration;
using jobq::JobId;
using jobq::LimitRecord;
using jobq::LimitScope;
using jobq::RateLimit;
using jobq::Timestamp;
using jobq::TokenBucket;
using jobq::test::reference_time;

namespace {

const Timestamp now = reference_time();

LimitRecord row(LimitScope scope) {
    LimitRecord r;
    r.scope = std::move(scope);
    return r;
}

LimitRecord capped(LimitScope scope, int max_running, std::int64_t running) {
    LimitRecord r = row(std::move(scope));
    r.limits.max_running = max_running;
    r.running = running;
    return r;
}

// A row with a rate of `rate_text` whose bucket holds `tokens` as of `now`.
LimitRecord rated(LimitScope scope, const char* rate_text, double tokens) {
    LimitRecord r = row(std::move(scope));
    r.limits.rate = RateLimit::parse(rate_text);
    r.bucket = TokenBucket{tokens, now};
    return r;
}

LimitRecord weighted(const std::string& tenant, int weight) {
    LimitRecord r = row(LimitScope::tenant(tenant));
    r.limits.weight = weight;
    return r;
}

// Candidates of one tenant in claim order: ids first_id, first_id+1, ..., run_at rising.
std::vector<ClaimCandidate> jobs_of(const std::string& tenant, int n, JobId first_id,
                                    int priority = 0, const std::string& kind = "k") {
    std::vector<ClaimCandidate> out;
    for (int i = 0; i < n; ++i) {
        out.push_back(ClaimCandidate{first_id + i, kind, tenant, priority,
                                     now - 1h + Duration{first_id + i}});
    }
    return out;
}

std::vector<ClaimCandidate> concat(std::initializer_list<std::vector<ClaimCandidate>> parts) {
    std::vector<ClaimCandidate> out;
    for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
    return out;
}

ClaimPlan plan(int budget, std::vector<ClaimCandidate> candidates,
               std::vector<LimitRecord> records = {}) {
    ClaimPlanInput in;
    in.queue = "q";
    in.budget = budget;
    in.now = now;
    in.candidates = std::move(candidates);
    in.records = std::move(records);
    return jobq::plan_claim(in);
}

// Tenant of each picked job, in start order, from ids: tenant "a" owns 1000.., "b" 2000..,
// "c" 3000.., "" 9000..
std::string tenants_of(const ClaimPlan& p) {
    std::string s;
    for (JobId id : p.picked) {
        const char t = id >= 9000 ? '-' : static_cast<char>('a' + id / 1000 - 1);
        s += t;
    }
    return s;
}

const jobq::ScopeUpdate* update_of(const ClaimPlan& p, const LimitScope& scope) {
    for (const auto& u : p.updates) {
        if (u.scope == scope) return &u;
    }
    return nullptr;
}

}  // namespace

TEST_SUITE_BEGIN("gate_claim");

TEST_CASE("without rows the budget is the demand and nothing is blocked") {
    const ClaimGate g = jobq::gate_claim("q", 10, now, {});
    CHECK(g.budget == 10);
    CHECK(g.blocked_kinds.empty());
    CHECK(g.blocked_tenants.empty());
    CHECK_FALSE(g.throttled_until);
}

TEST_CASE("a zero or negative demand gives a zero budget") {
    CHECK(jobq::gate_claim("q", 0, now, {}).budget == 0);
    CHECK(jobq::gate_claim("q", -3, now, {}).budget == 0);
}

TEST_CASE("a paused queue gives budget 0 and no wake-up time") {
    LimitRecord r = rated(LimitScope::queue("q"), "1/h", 0);
    r.paused = true;
    const ClaimGate g = jobq::gate_claim("q", 10, now, {r});
    CHECK(g.budget == 0);
    CHECK_FALSE(g.throttled_until);
}

TEST_CASE("a paused row of another queue is ignored") {
    LimitRecord r = row(LimitScope::queue("other"));
    r.paused = true;
    CHECK(jobq::gate_claim("q", 10, now, {r}).budget == 10);
}

TEST_CASE("the queue's cap cuts the budget to the free room") {
    CHECK(jobq::gate_claim("q", 10, now, {capped(LimitScope::queue("q"), 5, 2)}).budget == 3);
    CHECK(jobq::gate_claim("q", 2, now, {capped(LimitScope::queue("q"), 5, 2)}).budget == 2);
    CHECK(jobq::gate_claim("q", 10, now, {capped(LimitScope::queue("q"), 5, 5)}).budget == 0);
    // More running than the cap (the cap was lowered): still 0, never negative.
    CHECK(jobq::gate_claim("q", 10, now, {capped(LimitScope::queue("q"), 5, 9)}).budget == 0);
}

TEST_CASE("the queue's bucket cuts the budget to its whole tokens") {
    CHECK(jobq::gate_claim("q", 10, now, {rated(LimitScope::queue("q"), "10/s", 2.5)}).budget == 2);
    // Once the two tokens are spent, 0.5 is left: the next whole one is 50 ms away.
    CHECK(jobq::gate_claim("q", 10, now, {rated(LimitScope::queue("q"), "10/s", 2.5)})
              .throttled_until == now + std::chrono::milliseconds{50});
    // A demand the bucket covers is not throttled.
    CHECK_FALSE(jobq::gate_claim("q", 2, now, {rated(LimitScope::queue("q"), "10/s", 2.5)})
                    .throttled_until);
}

TEST_CASE("the queue's bucket is refilled to now before it is read") {
    LimitRecord r = rated(LimitScope::queue("q"), "10/s", 0);
    r.bucket.at = now - 350ms;
    CHECK(jobq::gate_claim("q", 10, now, {r}).budget == 3);
}

TEST_CASE("a dry queue bucket gives budget 0 and the time of its next token") {
    const ClaimGate g =
        jobq::gate_claim("q", 10, now, {rated(LimitScope::queue("q"), "10/s", 0.5)});
    CHECK(g.budget == 0);
    REQUIRE(g.throttled_until);
    CHECK(*g.throttled_until == now + 50ms);
}

TEST_CASE("a queue at its cap reports no wake-up time even when its bucket is dry too") {
    LimitRecord r = rated(LimitScope::queue("q"), "10/s", 0);
    r.limits.max_running = 1;
    r.running = 1;
    const ClaimGate g = jobq::gate_claim("q", 10, now, {r});
    CHECK(g.budget == 0);
    CHECK_FALSE(g.throttled_until);
}

TEST_CASE("kinds and tenants at their cap or out of tokens are blocked, sorted by name") {
    const ClaimGate g = jobq::gate_claim(
        "q", 10, now,
        {capped(LimitScope::kind("z.full"), 2, 2), capped(LimitScope::kind("free"), 2, 1),
         rated(LimitScope::kind("a.dry"), "1/s", 0.25), rated(LimitScope::kind("wet"), "1/s", 1),
         capped(LimitScope::tenant("t2"), 1, 1), rated(LimitScope::tenant("t1"), "2/s", 0),
         weighted("t3", 5)});
    CHECK(g.budget == 10);
    CHECK(g.blocked_kinds == std::vector<std::string>{"a.dry", "z.full"});
    CHECK(g.blocked_tenants == std::vector<std::string>{"t1", "t2"});
    // The earliest dry bucket: t1 (0 tokens at 2/s: 500ms) vs a.dry (0.75 at 1/s: 750ms).
    REQUIRE(g.throttled_until);
    CHECK(*g.throttled_until == now + 500ms);
}

TEST_CASE("a kind that refills by now is not blocked") {
    LimitRecord r = rated(LimitScope::kind("k"), "1/s", 0);
    r.bucket.at = now - 1s;
    const ClaimGate g = jobq::gate_claim("q", 10, now, {r});
    CHECK(g.blocked_kinds.empty());
    CHECK_FALSE(g.throttled_until);
}

TEST_CASE("with budget 0 nothing else is worked out") {
    const ClaimGate g = jobq::gate_claim(
        "q", 10, now, {capped(LimitScope::queue("q"), 1, 1), capped(LimitScope::kind("k"), 1, 1)});
    CHECK(g.budget == 0);
    CHECK(g.blocked_kinds.empty());
}

TEST_CASE("a clock behind the buckets adds no tokens") {
    LimitRecord r = rated(LimitScope::queue("q"), "10/s", 0.5);
    const ClaimGate g = jobq::gate_claim("q", 10, now - 10s, {r});
    CHECK(g.budget == 0);
    REQUIRE(g.throttled_until);
    CHECK(*g.throttled_until == now + 50ms);  // counted from the bucket's own time
}

TEST_SUITE_END();

TEST_SUITE_BEGIN("plan_claim");

TEST_CASE("without rows candidates start in (priority, run_at, id) order up to the budget") {
    std::vector<ClaimCandidate> c{{5, "k", "", 1, now - 5s},
                                  {4, "k", "", 0, now - 1s},
                                  {3, "k", "", 0, now - 2s},
                                  {2, "k", "", 0, now - 2s}};
    // Tenant "" is one tenant: its candidates come in its claim order.
    std::sort(c.begin(), c.end(), [](const auto& a, const auto& b) {
        return std::tie(a.priority, a.run_at, a.id) < std::tie(b.priority, b.run_at, b.id);
    });
    const ClaimPlan p = plan(3, c);
    CHECK(p.picked == std::vector<JobId>{2, 3, 4});
    CHECK(p.updates.empty());
    CHECK_FALSE(p.throttled_until);
}

TEST_CASE("a budget of 0 or no candidates picks nothing") {
    CHECK(plan(0, jobs_of("a", 3, 1000)).picked.empty());
    CHECK(plan(5, {}).picked.empty());
}

TEST_CASE("tenants of equal weight take turns") {
    const ClaimPlan p = plan(6, concat({jobs_of("a", 5, 1000), jobs_of("b", 5, 2000)}));
    CHECK(tenants_of(p) == "ababab");
}

TEST_CASE("the order in which tenants are given does not matter, only claim order within each") {
    const ClaimPlan p1 = plan(6, concat({jobs_of("a", 5, 1000), jobs_of("b", 5, 2000)}));
    const ClaimPlan p2 = plan(6, concat({jobs_of("b", 5, 2000), jobs_of("a", 5, 1000)}));
    CHECK(p1.picked == p2.picked);
}

TEST_CASE("a tenant of weight 3 takes 3 per round") {
    const ClaimPlan p =
        plan(12, concat({jobs_of("a", 20, 1000), jobs_of("b", 20, 2000)}), {weighted("a", 3)});
    CHECK(tenants_of(p) == "aaabaaabaaab");
    // Weights only order: every tenant row without a limit gets no update.
    CHECK(p.updates.size() == 1);
    CHECK(p.updates[0].scope == LimitScope::tenant("a"));
    CHECK(p.updates[0].started == 9);
    CHECK_FALSE(p.updates[0].bucket);
}

TEST_CASE("weights share a long claim in proportion") {
    const ClaimPlan p = plan(
        60, concat({jobs_of("a", 100, 1000), jobs_of("b", 100, 2000), jobs_of("c", 100, 3000)}),
        {weighted("a", 3), weighted("b", 2)});
    std::map<char, int> n;
    for (char t : tenants_of(p)) ++n[t];
    CHECK(n['a'] == 30);
    CHECK(n['b'] == 20);
    CHECK(n['c'] == 10);
}

TEST_CASE("jobs without a tenant take turns like a tenant of weight 1") {
    const ClaimPlan p = plan(4, concat({jobs_of("", 5, 9000), jobs_of("a", 5, 1000)}));
    CHECK(tenants_of(p) == "a-a-");
}

TEST_CASE("priorities beat rotation") {
    // b's priority-0 jobs all start before any of a's priority-1 jobs, however many turns.
    const ClaimPlan p =
        plan(6, concat({jobs_of("a", 5, 1000, /*priority=*/1), jobs_of("b", 4, 2000, 0)}));
    CHECK(tenants_of(p) == "bbbbaa");
}

TEST_CASE(
    "a tenant's higher priority job later in its list keeps its k: rounds use the order given") {
    // Candidates as the backend fetches them: already in claim order per tenant.
    std::vector<ClaimCandidate> c =
        concat({jobs_of("a", 1, 1000, 0), jobs_of("a", 2, 1001, 2), jobs_of("b", 2, 2000, 2)});
    const ClaimPlan p = plan(5, c);
    // a's priority-0 first; then priority 2: a's 2nd (round 2), a's 3rd (round 3), b's (1, 2).
    CHECK(p.picked == std::vector<JobId>{1000, 2000, 1001, 2001, 1002});
}

TEST_CASE("within a round earlier run_at goes first, then lower id") {
    std::vector<ClaimCandidate> c{{1001, "k", "a", 0, now - 1s},
                                  {2001, "k", "b", 0, now - 3s},
                                  {1002, "k", "a", 0, now},
                                  {2002, "k", "b", 0, now}};
    const ClaimPlan p = plan(4, c);
    CHECK(p.picked == std::vector<JobId>{2001, 1001, 1002, 2002});
}

TEST_CASE("a tenant cap that binds mid-batch hands the rest of the budget to the others") {
    const ClaimPlan p = plan(6, concat({jobs_of("a", 5, 1000), jobs_of("b", 5, 2000)}),
                             {capped(LimitScope::tenant("a"), 3, 1)});
    CHECK(tenants_of(p) == "ababbb");
    const auto* u = update_of(p, LimitScope::tenant("a"));
    REQUIRE(u);
    CHECK(u->started == 2);
    CHECK_FALSE(p.throttled_until);  // a cap waits for a completion, not for the clock
}

TEST_CASE("a kind cap binds across tenants") {
    const ClaimPlan p =
        plan(10,
             concat({jobs_of("a", 3, 1000, 0, "slow"), jobs_of("b", 3, 2000, 0, "slow"),
                     jobs_of("c", 3, 3000, 0, "fast")}),
             {capped(LimitScope::kind("slow"), 4, 0)});
    CHECK(tenants_of(p) == "abcabcc");  // c has only 3 jobs
    CHECK(update_of(p, LimitScope::kind("slow"))->started == 4);
    CHECK(update_of(p, LimitScope::kind("fast")) == nullptr);
}

TEST_CASE("the queue cap stops the claim") {
    const ClaimPlan p = plan(10, jobs_of("a", 5, 1000), {capped(LimitScope::queue("q"), 3, 1)});
    CHECK(p.picked.size() == 2);
    CHECK(update_of(p, LimitScope::queue("q"))->started == 2);
}

TEST_CASE("a paused queue starts nothing even with a budget") {
    LimitRecord r = row(LimitScope::queue("q"));
    r.paused = true;
    CHECK(plan(10, jobs_of("a", 5, 1000), {r}).picked.empty());
}

TEST_CASE("a bucket with 2.5 tokens allows 2 starts and then waits for its next token") {
    const ClaimPlan p =
        plan(10, jobs_of("a", 5, 1000), {rated(LimitScope::tenant("a"), "10/s", 2.5)});
    CHECK(p.picked == std::vector<JobId>{1000, 1001});
    const auto* u = update_of(p, LimitScope::tenant("a"));
    REQUIRE(u);
    CHECK(u->started == 2);
    REQUIRE(u->bucket);
    CHECK(u->bucket->tokens == doctest::Approx(0.5));
    CHECK(u->bucket->at == now);
    REQUIRE(p.throttled_until);
    CHECK(*p.throttled_until == now + 50ms);
}

TEST_CASE("a bucket is refilled to now before it is spent") {
    LimitRecord r = rated(LimitScope::kind("k"), "10/s", 0);
    r.bucket.at = now - 300ms;
    const ClaimPlan p = plan(10, jobs_of("a", 5, 1000), {r});
    CHECK(p.picked.size() == 3);
    const auto* u = update_of(p, LimitScope::kind("k"));
    REQUIRE(u);
    CHECK(u->bucket->tokens == doctest::Approx(0.0).epsilon(1e-9));
    CHECK(u->bucket->at == now);
}

TEST_CASE("a dry tenant does not hold back the others") {
    const ClaimPlan p = plan(4, concat({jobs_of("a", 5, 1000), jobs_of("b", 5, 2000)}),
                             {rated(LimitScope::tenant("a"), "1/m", 1)});
    CHECK(tenants_of(p) == "abbb");
    REQUIRE(p.throttled_until);
    CHECK(*p.throttled_until == now + 1min);
}

TEST_CASE("the throttle time is the earliest over the candidates held back by buckets") {
    const ClaimPlan p =
        plan(10, concat({jobs_of("a", 2, 1000), jobs_of("b", 2, 2000)}),
             {rated(LimitScope::tenant("a"), "1/m", 0), rated(LimitScope::tenant("b"), "1/s", 0)});
    CHECK(p.picked.empty());
    REQUIRE(p.throttled_until);
    CHECK(*p.throttled_until == now + 1s);
}

TEST_CASE("a candidate held back by two dry buckets waits for the later one") {
    const ClaimPlan p =
        plan(10, jobs_of("a", 1, 1000),
             {rated(LimitScope::tenant("a"), "1/m", 0), rated(LimitScope::kind("k"), "1/s", 0)});
    REQUIRE(p.throttled_until);
    CHECK(*p.throttled_until == now + 1min);
}

TEST_CASE("a candidate held back by a cap and a dry bucket sets no throttle time") {
    LimitRecord r = rated(LimitScope::tenant("a"), "1/s", 0);
    r.limits.max_running = 1;
    r.running = 1;
    const ClaimPlan p = plan(10, jobs_of("a", 1, 1000), {r});
    CHECK(p.picked.empty());
    CHECK_FALSE(p.throttled_until);
}

TEST_CASE("a claim that empties the queue's bucket with candidates left reports its next token") {
    const ClaimPlan p = plan(2, jobs_of("a", 5, 1000), {rated(LimitScope::queue("q"), "10/s", 2)});
    CHECK(p.picked.size() == 2);
    REQUIRE(p.throttled_until);
    CHECK(*p.throttled_until == now + 100ms);
}

TEST_CASE(
    "every existing row of a picked job gets an update, whatever it limits, sorted by scope") {
    const ClaimPlan p =
        plan(3, concat({jobs_of("a", 2, 1000, 0, "k1"), jobs_of("b", 2, 2000, 0, "k2")}),
             {weighted("b", 1), rated(LimitScope::kind("k2"), "5/s", 5),
              row(LimitScope::queue("q")), capped(LimitScope::kind("k1"), 100, 7),
              row(LimitScope::tenant("a")), row(LimitScope::tenant("unrelated")),
              row(LimitScope::kind("unused")), capped(LimitScope::queue("other"), 1, 0)});
    CHECK(tenants_of(p) == "aba");
    std::vector<LimitScope> scopes;
    for (const auto& u : p.updates) scopes.push_back(u.scope);
    CHECK(scopes == std::vector<LimitScope>{LimitScope::queue("q"), LimitScope::kind("k1"),
                                            LimitScope::kind("k2"), LimitScope::tenant("a"),
                                            LimitScope::tenant("b")});
    CHECK(update_of(p, LimitScope::queue("q"))->started == 3);
    CHECK(update_of(p, LimitScope::kind("k1"))->started == 2);
    CHECK(update_of(p, LimitScope::kind("k2"))->started == 1);
    CHECK(update_of(p, LimitScope::kind("k2"))->bucket->tokens == 4);
    CHECK_FALSE(update_of(p, LimitScope::kind("k1"))->bucket);
    CHECK(update_of(p, LimitScope::tenant("a"))->started == 2);
    CHECK(update_of(p, LimitScope::tenant("b"))->started == 1);
}

TEST_CASE("a hot tenant's backlog does not starve cold tenants") {
    constexpr int budget = 100;
    // The hot tenant has 20,000 claimable jobs; the backend fetches tenant_fetch_limit(budget)
    // of them. 100 cold tenants have one job each, queued later than all of the hot ones.
    std::vector<ClaimCandidate> c = jobs_of("hot", jobq::tenant_fetch_limit(budget), 1);
    for (int i = 0; i < 100; ++i) {
        c.push_back(ClaimCandidate{100'000 + i, "k", "cold" + std::to_string(i), 0, now});
    }
    const ClaimPlan p = plan(budget, c);
    REQUIRE(p.picked.size() == budget);
    // Round 1 holds the hot tenant's first job and every cold tenant's: 101 candidates, of which
    // the 100 oldest (the hot one and 99 cold ones) start.
    const auto cold =
        std::count_if(p.picked.begin(), p.picked.end(), [](JobId id) { return id >= 100'000; });
    CHECK(cold == 99);
    CHECK(p.picked.front() == 1);
}

TEST_CASE("the whole hot backlog as candidates still interleaves and plans quickly") {
    std::vector<ClaimCandidate> c = jobs_of("hot", 20'000, 1);
    for (int i = 0; i < 100; ++i) {
        c.push_back(ClaimCandidate{100'000 + i, "k", "cold" + std::to_string(i), 0, now});
    }
    const ClaimPlan p = plan(20, c, {capped(LimitScope::tenant("hot"), 1'000'000, 0)});
    REQUIRE(p.picked.size() == 20);
    CHECK(p.picked[0] == 1);
    for (std::size_t i = 1; i < p.picked.size(); ++i) CHECK(p.picked[i] >= 100'000);
    CHECK(update_of(p, LimitScope::tenant("hot"))->started == 1);
}

TEST_CASE("cold tenants interleave with a hot one when they have fewer jobs than a round") {
    // Two cold tenants, 3 jobs each, a hot one with a full fetch: hot takes one per round.
    const ClaimPlan p =
        plan(9, concat({jobs_of("a", 9, 1000), jobs_of("b", 3, 2000), jobs_of("c", 3, 3000)}));
    CHECK(tenants_of(p) == "abcabcabc");
}

TEST_SUITE_END();

TEST_SUITE_BEGIN("plan_claim");

TEST_CASE("a clock behind a bucket spends what it holds and keeps the bucket's time") {
    LimitRecord r = rated(LimitScope::tenant("a"), "1/s", 2);
    r.bucket.at = now + 5s;  // written by a host whose clock is ahead
    const ClaimPlan p = plan(10, jobs_of("a", 5, 1000), {r});
    CHECK(p.picked.size() == 2);
    const auto* u = update_of(p, LimitScope::tenant("a"));
    REQUIRE(u);
    CHECK(*u->bucket == TokenBucket{0, now + 5s});
    REQUIRE(p.throttled_until);
    CHECK(*p.throttled_until == now + 6s);
}

TEST_CASE("a weight on a row of a tenant without candidates changes nothing") {
    const ClaimPlan p =
        plan(4, concat({jobs_of("a", 5, 1000), jobs_of("b", 5, 2000)}), {weighted("c", 50)});
    CHECK(tenants_of(p) == "abab");
    CHECK(p.updates.empty());
}

TEST_SUITE_END();

TEST_SUITE_BEGIN("unbound_claim");

namespace {

jobq::UnboundClaim unbound(int demand, std::vector<LimitRecord> records) {
    return jobq::unbound_claim({{"q", demand}}, now, records);
}

}  // namespace

TEST_CASE("rows with room for the whole demand fit, and rate-limited rows come refilled") {
    LimitRecord kind = rated(LimitScope::kind("k"), "100/s", 10);
    kind.bucket.at = now - 100ms;  // 10 more tokens earned since
    const jobq::UnboundClaim u = unbound(
        20, {capped(LimitScope::queue("q"), 100, 80), kind, capped(LimitScope::tenant("t"), 1, 1)});
    CHECK(u.fits);
    REQUIRE(u.buckets.size() == 1);
    CHECK(u.buckets[0].first == LimitScope::kind("k"));
    CHECK(u.buckets[0].second == TokenBucket{20, now});
}

TEST_CASE("one slot or one token short of the demand does not fit") {
    CHECK_FALSE(unbound(21, {capped(LimitScope::queue("q"), 100, 80)}).fits);
    CHECK_FALSE(unbound(11, {rated(LimitScope::queue("q"), "1/s", 10.5)}).fits);
    // A kind row must have room for every job: all could be of its kind.
    CHECK_FALSE(
        jobq::unbound_claim({{"q", 6}, {"r", 5}}, now, {capped(LimitScope::kind("k"), 10, 0)})
            .fits);
    CHECK(jobq::unbound_claim({{"q", 5}, {"r", 5}}, now, {capped(LimitScope::kind("k"), 10, 0)})
              .fits);
}

TEST_CASE("a paused queue does not fit; other queues' rows and tenant rows are ignored") {
    LimitRecord paused = row(LimitScope::queue("q"));
    paused.paused = true;
    CHECK_FALSE(unbound(1, {paused}).fits);
    LimitRecord other = paused;
    other.scope = LimitScope::queue("other");
    CHECK(unbound(1, {other, capped(LimitScope::tenant("t"), 0, 5)}).fits);
}

TEST_CASE("whenever it fits, gate_claim and plan_claim start every candidate as it says") {
    // Random rows and candidates (a fixed seed): each time unbound_claim says the claim fits,
    // the planner agrees job for job and row for row.
    std::uint64_t seed = 42;
    auto next = [&seed](int n) {
        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        return static_cast<int>((seed >> 33) % static_cast<std::uint64_t>(n));
    };
    int fitted = 0;
    for (int round = 0; round < 2000; ++round) {
        const int demand = 1 + next(20);
        std::vector<LimitRecord> records;
        auto add = [&](LimitScope scope) {
            LimitRecord r = row(std::move(scope));
            if (next(2) == 0) {
                r.limits.max_running = next(60);
                r.running = next(40);
            }
            if (next(2) == 0) {
                r.limits.rate = RateLimit::parse("10/s");
                r.bucket = TokenBucket{static_cast<double>(next(300)) / 10.0, now - 50ms};
            }
            records.push_back(std::move(r));
        };
        if (next(2) == 0) add(LimitScope::queue("q"));
        if (next(2) == 0) add(LimitScope::kind("a"));
        if (next(2) == 0) add(LimitScope::kind("b"));
        const jobq::UnboundClaim u = unbound(demand, records);
        if (!u.fits) continue;
        ++fitted;
        const ClaimGate g = jobq::gate_claim("q", demand, now, records);
        CHECK(g.budget == demand);
        CHECK(g.blocked_kinds.empty());
        CHECK_FALSE(g.throttled_until);
        std::vector<ClaimCandidate> c;
        for (int i = 0; i < demand; ++i) {
            c.push_back(ClaimCandidate{i + 1, next(2) == 0 ? "a" : "b", "", 0, now - 1h});
        }
        ClaimPlanInput in;
        in.queue = "q";
        in.budget = g.budget;
        in.now = now;
        in.candidates = c;
        in.records = records;
        const ClaimPlan p = jobq::plan_claim(in);
        REQUIRE(p.picked.size() == static_cast<std::size_t>(demand));
        for (const LimitRecord& r : records) {
            const auto under = std::count_if(c.begin(), c.end(), [&](const ClaimCandidate& x) {
                return r.scope.type == jobq::ScopeType::queue || x.kind == r.scope.name;
            });
            const jobq::ScopeUpdate* up = update_of(p, r.scope);
            if (under == 0) {
                CHECK(up == nullptr);
                continue;
            }
            REQUIRE(up);
            CHECK(up->started == under);
            const auto b = std::find_if(u.buckets.begin(), u.buckets.end(),
                                        [&](const auto& e) { return e.first == r.scope; });
            if (r.limits.rate) {
                REQUIRE(b != u.buckets.end());
                REQUIRE(up->bucket);
                CHECK(up->bucket->tokens ==
                      doctest::Approx(b->second.tokens - static_cast<double>(under)));
                CHECK(up->bucket->at == b->second.at);
            } else {
                CHECK(b == u.buckets.end());
            }
        }
    }
    CHECK(fitted > 200);  // the check above ran often enough to mean something
}

TEST_SUITE_END();
