// LimitScope: the text form of a limit's scope and the name rules it shares with jobs.

#include <string>

#include <doctest/doctest.h>

#include "jobq/job_spec.hpp"
#include "jobq/limit_scope.hpp"
#include "support.hpp"

using jobq::LimitScope;
using jobq::ScopeType;
using jobq::test::check_invalid_argument;

TEST_SUITE_BEGIN("LimitScope");

TEST_CASE("each scope type has its lower-case name") {
    CHECK(jobq::to_string(ScopeType::queue) == "queue");
    CHECK(jobq::to_string(ScopeType::kind) == "kind");
    CHECK(jobq::to_string(ScopeType::tenant) == "tenant");
}

TEST_CASE("a scope prints as type:name") {
    CHECK(LimitScope::queue("mail").to_string() == "queue:mail");
    CHECK(LimitScope::kind("email.send").to_string() == "kind:email.send");
    CHECK(LimitScope::tenant("acme").to_string() == "tenant:acme");
}

TEST_CASE("parse reads each type and round-trips through to_string") {
    for (const LimitScope& s :
         {LimitScope::queue("mail"), LimitScope::kind("email.send"), LimitScope::tenant("acme")}) {
        CHECK(LimitScope::parse(s.to_string()) == s);
    }
}

TEST_CASE("a kind or queue name may itself contain a colon: only the first one separates") {
    CHECK(LimitScope::parse("kind:email:send") == LimitScope::kind("email:send"));
    CHECK(LimitScope::parse("queue:a:b") == LimitScope::queue("a:b"));
}

TEST_CASE("text without a colon is rejected, showing the forms it expects") {
    check_invalid_argument([] { LimitScope::parse("mail"); }, "scope",
                           {"scope:", "queue:NAME", "'mail'"});
    check_invalid_argument([] { LimitScope::parse(""); }, "scope", {"queue:NAME"});
}

TEST_CASE("an unknown scope type is rejected, naming it and the known ones") {
    check_invalid_argument([] { LimitScope::parse("worker:w1"); }, "scope",
                           {"'worker'", "queue, kind or tenant"});
    // Types are exact: no upper case, no plural.
    check_invalid_argument([] { LimitScope::parse("Queue:mail"); }, "scope", {"'Queue'"});
    check_invalid_argument([] { LimitScope::parse("queues:mail"); }, "scope", {"'queues'"});
}

TEST_CASE("an empty name is rejected for every type") {
    check_invalid_argument([] { LimitScope::parse("queue:"); }, "scope", {"queue name", "empty"});
    check_invalid_argument([] { LimitScope::parse("kind:"); }, "scope", {"kind name", "empty"});
    check_invalid_argument([] { LimitScope::parse("tenant:"); }, "scope", {"tenant name", "empty"});
    check_invalid_argument([] { LimitScope::queue("").validate(); }, "scope", {"empty"});
}

TEST_CASE("names with spaces or control characters are rejected as JobSpec rejects them") {
    check_invalid_argument([] { LimitScope::parse("queue:my mail"); }, "scope",
                           {"must not contain spaces", "'my mail'"});
    check_invalid_argument([] { LimitScope::kind("a\tb").validate(); }, "scope",
                           {"control characters"});
    check_invalid_argument([] { LimitScope::tenant(std::string("a\x7f", 2)).validate(); }, "scope",
                           {"control characters"});
    check_invalid_argument([] { jobq::JobSpec{"a b"}.validate(); }, "kind",
                           {"must not contain spaces"});
}

TEST_CASE("a name of 255 characters is valid and one of 256 is rejected with its length") {
    CHECK_NOTHROW(LimitScope::queue(std::string(255, 'q')).validate());
    check_invalid_argument([] { LimitScope::queue(std::string(256, 'q')).validate(); }, "scope",
                           {"at most 255", "256"});
    check_invalid_argument([] { LimitScope::parse("kind:" + std::string(300, 'k')); }, "scope",
                           {"300"});
}

TEST_CASE("a tenant name with a colon is rejected: no job can carry such a tenant") {
    check_invalid_argument([] { LimitScope::parse("tenant:a:b"); }, "scope", {"':'", "'a:b'"});
}

TEST_CASE("scopes order by type (queue, kind, tenant) and then by name") {
    CHECK(LimitScope::queue("z") < LimitScope::kind("a"));
    CHECK(LimitScope::kind("z") < LimitScope::tenant("a"));
    CHECK(LimitScope::tenant("a") < LimitScope::tenant("b"));
}

TEST_SUITE_END();
