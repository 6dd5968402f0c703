// JobSpec::validate: every rule of the API boundary, each rejected with the field at fault.

#include <chrono>
#include <cmath>
#include <string>

#include <doctest/doctest.h>

#include "jobq/job_spec.hpp"
#include "support.hpp"

using namespace std::chrono_literals;
using jobq::JobSpec;
using jobq::JobState;
using jobq::RetryPolicy;
using jobq::test::check_invalid_argument;
using jobq::test::rejection_of;

namespace {
JobSpec valid() {
    return JobSpec{"email.send", {{"to", "a@example.com"}}};
}
}  // namespace

TEST_SUITE_BEGIN("JobSpec::validate");

TEST_CASE("a spec with a kind, an object payload and the defaults is valid") {
    const JobSpec spec{"email.send"};
    CHECK(spec.payload() == nlohmann::json::object());
    CHECK(spec.queue() == "default");
    CHECK(spec.priority() == 0);
    CHECK(spec.max_attempts() == jobq::default_max_attempts);
    CHECK(spec.unique_per_tenant());
    CHECK_NOTHROW(spec.validate());
}

TEST_CASE("a spec that sets every option to a valid value is valid") {
    JobSpec spec = valid();
    spec.queue("mail")
        .priority(9)
        .delay(5s)
        .max_attempts(1)
        .retry_policy(RetryPolicy::linear(1s))
        .timeout(30s)
        .unique_key("welcome:42")
        .unique_states({JobState::available})
        .unique_window(1h)
        .unique_per_tenant(false)
        .tags({"a", "b"})
        .tag("c")
        .tenant("acme");
    CHECK_NOTHROW(spec.validate());
    CHECK(spec.tags() == std::vector<std::string>{"a", "b", "c"});
}

TEST_CASE("run_at and delay each replace the other") {
    JobSpec spec = valid();
    spec.delay(5s).run_at(jobq::test::reference_time());
    CHECK_FALSE(spec.delay().has_value());
    REQUIRE(spec.run_at().has_value());
    spec.delay(7s);
    CHECK_FALSE(spec.run_at().has_value());
    CHECK(spec.delay() == jobq::Duration{7s});
}

TEST_CASE("an empty kind is rejected") {
    check_invalid_argument([] { JobSpec{""}.validate(); }, "kind", {"kind", "empty"});
}

TEST_CASE("a kind containing a space is rejected, quoting the kind") {
    check_invalid_argument([] { JobSpec{"email send"}.validate(); }, "kind",
                           {"kind", "'email send'"});
}

TEST_CASE("a kind containing a control character is rejected") {
    check_invalid_argument([] { JobSpec{"email\tsend"}.validate(); }, "kind", {"kind"});
    check_invalid_argument([] { JobSpec{std::string("a\x7f", 2)}.validate(); }, "kind", {"kind"});
}

TEST_CASE("a kind of 255 characters is valid and one of 256 is rejected with its length") {
    CHECK_NOTHROW(JobSpec{std::string(255, 'k')}.validate());
    check_invalid_argument([] { JobSpec{std::string(256, 'k')}.validate(); }, "kind",
                           {"kind", "255", "256"});
}

TEST_CASE("a payload that is not a JSON object is rejected, naming its type") {
    check_invalid_argument(
        [] {
            JobSpec("k", nlohmann::json::array({1, 2})).validate();
        },
        "payload", {"payload", "array"});
    check_invalid_argument([] { JobSpec("k", "text").validate(); }, "payload",
                           {"payload", "string"});
    check_invalid_argument([] { JobSpec("k", nullptr).validate(); }, "payload",
                           {"payload", "null"});
    check_invalid_argument([] { JobSpec("k", 42).validate(); }, "payload", {"payload", "number"});
}

TEST_CASE("an empty queue name or one with a space is rejected") {
    check_invalid_argument([] { valid().queue("").validate(); }, "queue", {"queue", "empty"});
    check_invalid_argument([] { valid().queue("my queue").validate(); }, "queue",
                           {"queue", "'my queue'"});
}

TEST_CASE("priorities 0 and 9 are valid") {
    CHECK_NOTHROW(valid().priority(0).validate());
    CHECK_NOTHROW(valid().priority(9).validate());
}

TEST_CASE("a priority outside 0..9 is rejected with the value") {
    check_invalid_argument([] { valid().priority(-1).validate(); }, "priority", {"priority", "-1"});
    check_invalid_argument([] { valid().priority(10).validate(); }, "priority", {"priority", "10"});
}

TEST_CASE("a zero delay is valid") {
    CHECK_NOTHROW(valid().delay(0s).validate());
}

TEST_CASE("a negative delay is rejected with the value") {
    check_invalid_argument([] { valid().delay(-5s).validate(); }, "delay", {"delay", "-5s"});
}

TEST_CASE("max_attempts below 1 is rejected with the value") {
    check_invalid_argument([] { valid().max_attempts(0).validate(); }, "max_attempts",
                           {"max_attempts", "0"});
    check_invalid_argument([] { valid().max_attempts(-3).validate(); }, "max_attempts",
                           {"max_attempts", "-3"});
}

TEST_CASE("a built-in retry policy on a job is valid") {
    CHECK_NOTHROW(valid().retry_policy(RetryPolicy::exponential(2s)).validate());
    CHECK_NOTHROW(valid().retry_policy(RetryPolicy::constant(2s)).validate());
}

TEST_CASE("a custom retry policy on a job is rejected, since it cannot be stored") {
    check_invalid_argument(
        [] { valid().retry_policy(RetryPolicy::custom([](int) { return 1s; })).validate(); },
        "retry_policy", {"retry_policy", "custom"});
}

TEST_CASE("a zero or negative timeout is rejected with the value") {
    check_invalid_argument([] { valid().timeout(0s).validate(); }, "timeout", {"timeout", "0s"});
    check_invalid_argument([] { valid().timeout(-2s).validate(); }, "timeout", {"timeout", "-2s"});
}

TEST_CASE("unique states without a unique key are rejected") {
    check_invalid_argument([] { valid().unique_states({JobState::available}).validate(); },
                           "unique_key", {"unique_key", "unique_states"});
}

TEST_CASE("a unique window without a unique key is rejected") {
    check_invalid_argument([] { valid().unique_window(1h).validate(); }, "unique_key",
                           {"unique_key", "unique_window"});
}

TEST_CASE("a zero or negative unique window is rejected") {
    check_invalid_argument([] { valid().unique_key("k").unique_window(0s).validate(); },
                           "unique_window", {"unique_window"});
    check_invalid_argument([] { valid().unique_key("k").unique_window(-1s).validate(); },
                           "unique_window", {"unique_window"});
}

TEST_CASE("a non-positive unique window is rejected with the value") {
    check_invalid_argument([] { valid().unique_key("k").unique_window(-1s).validate(); },
                           "unique_window", {"-1s"});
}

TEST_CASE("a unique key longer than 1024 characters is rejected") {
    CHECK_NOTHROW(valid().unique_key(std::string(1024, 'u')).validate());
    check_invalid_argument([] { valid().unique_key(std::string(1025, 'u')).validate(); },
                           "unique_key", {"unique_key", "1024"});
}

TEST_CASE("an empty tag or one with a space is rejected, quoting the tag") {
    check_invalid_argument([] { valid().tag("").validate(); }, "tags", {"tags", "empty"});
    check_invalid_argument(
        [] {
            valid().tags({"ok", "not ok"}).validate();
        },
        "tags", {"tags", "'not ok'"});
}

TEST_CASE("an empty tenant means no tenant and is valid") {
    CHECK_NOTHROW(valid().tenant("").validate());
}

TEST_CASE("a tenant with a space is rejected, quoting the tenant") {
    check_invalid_argument([] { valid().tenant("big co").validate(); }, "tenant",
                           {"tenant", "'big co'"});
}

TEST_CASE("the first bad field in declaration order is the one reported") {
    const auto r = rejection_of([] { JobSpec("", nullptr).priority(99).validate(); });
    REQUIRE(r.has_value());
    CHECK(r->field == "kind");
}

TEST_SUITE_END();

TEST_SUITE_BEGIN("JobSpec::validate: hostile input");

TEST_CASE("names must be valid UTF-8 without control characters, counted in characters") {
    check_invalid_argument([] { JobSpec{"mail\xff"}.validate(); }, "kind", {"UTF-8", "byte 4"});
    check_invalid_argument([] { JobSpec{"mail\xc2\x85"}.validate(); }, "kind",
                           {"control characters", "U+0085"});  // C1 NEXT LINE
    check_invalid_argument([] { valid().tag("a\x1b[31m").validate(); }, "tags",
                           {"U+001B", "\\u001b[31m"});
    check_invalid_argument([] { valid().tenant("t\xe2\x82").validate(); }, "tenant", {"UTF-8"});
    // 255 two-byte characters are 510 bytes and a valid name; 256 are not.
    std::string e_acute;
    for (int i = 0; i < 255; ++i) e_acute += "\xc3\xa9";
    CHECK_NOTHROW(JobSpec{e_acute}.validate());
    check_invalid_argument([&] { JobSpec{e_acute + "\xc3\xa9"}.validate(); }, "kind",
                           {"at most 255 characters (got 256)"});
}

TEST_CASE("names refuse Unicode spaces and invisible characters that disguise them") {
    check_invalid_argument([] { JobSpec{"k\xc2\xa0x"}.validate(); }, "kind",
                           {"spaces or invisible formatting characters", "U+00A0", "k\\u00a0x"});
    check_invalid_argument([] { valid().queue("q\xe3\x80\x80").validate(); }, "queue", {"U+3000"});
    check_invalid_argument([] { valid().tag("t\xe2\x80\xa8").validate(); }, "tags", {"U+2028"});
    // A right-to-left override would show "mail.send" reversed around it; quoted escaped.
    check_invalid_argument([] { valid().tenant("acme\xe2\x80\xaegnp.exe").validate(); }, "tenant",
                           {"U+202E", "acme\\u202egnp.exe"});
    check_invalid_argument([] { JobSpec{"\xef\xbb\xbfk"}.validate(); }, "kind", {"U+FEFF"});
    check_invalid_argument(
        [] {
            JobSpec{
                "a\xe2\x80\x8b"
                "b"}
                .validate();
        },
        "kind", {"U+200B"});
    // Letters of every script, emoji and the zero-width joiner some scripts need stay valid.
    CHECK_NOTHROW(
        JobSpec{"\xe9\x82\xae\xe4\xbb\xb6.\xd0\xbf\xd0\xb8\xd1\x81\xd1\x8c\xd0\xbc\xd0\xbe"}
            .validate());
    CHECK_NOTHROW(JobSpec{"\xe0\xa4\x95\xe0\xa5\x8d\xe2\x80\x8d\xe0\xa4\xb7"}.validate());
}

TEST_CASE("a unique key may hold spaces but not control characters or broken UTF-8") {
    CHECK_NOTHROW(valid().unique_key("welcome mail:42").validate());
    check_invalid_argument([] { valid().unique_key("a\nb").validate(); }, "unique_key",
                           {"control characters", "U+000A"});
    check_invalid_argument([] { valid().unique_key("\xed\xa0\x80").validate(); }, "unique_key",
                           {"UTF-8"});  // an encoded surrogate
    std::string key;
    for (int i = 0; i < 1024; ++i) key += "\xe2\x82\xac";  // 1024 euro signs, 3072 bytes
    CHECK_NOTHROW(valid().unique_key(key).validate());
    check_invalid_argument([&] { valid().unique_key(key + "x").validate(); }, "unique_key",
                           {"at most 1024 characters (got 1025)"});
}

TEST_CASE("a delay, timeout or window beyond a century is refused, never wrapped around") {
    check_invalid_argument([] { valid().delay(std::chrono::days{100'000'000}).validate(); },
                           "delay", {"at most 36525d", "100000000d"});
    check_invalid_argument([] { valid().delay(jobq::Duration::max()).validate(); }, "delay",
                           {"at most"});
    check_invalid_argument([] { valid().delay(jobq::Duration::min()).validate(); }, "delay",
                           {"must not be negative"});
    check_invalid_argument([] { valid().timeout(jobq::Duration::max()).validate(); }, "timeout",
                           {"at most"});
    check_invalid_argument(
        [] { valid().unique_key("k").unique_window(jobq::Duration::max()).validate(); },
        "unique_window", {"at most"});
    CHECK_NOTHROW(valid().delay(std::chrono::days{36525}).validate());
}

TEST_CASE("a run_at outside 1970..9999 is refused") {
    check_invalid_argument([] { valid().run_at(jobq::Timestamp::max()).validate(); }, "run_at",
                           {"9999-12-31T23:59:59"});
    check_invalid_argument([] { valid().run_at(jobq::Timestamp::min()).validate(); }, "run_at",
                           {"1970-01-01T00:00:00"});
    CHECK_NOTHROW(valid().run_at(jobq::Timestamp{}).validate());
}

TEST_CASE("the payload's JSON is checked: NUL, depth, NaN, broken UTF-8") {
    check_invalid_argument(
        [] {
            JobSpec{"k", {{"note", std::string("a\0b", 3)}}}.validate();
        },
        "payload", {"payload: the string at /note", "NUL"});
    check_invalid_argument(
        [] {
            JobSpec{"k", {{"x", std::nan("")}}}.validate();
        },
        "payload", {"/x"});
    nlohmann::json deep = nlohmann::json::object();
    nlohmann::json* leaf = &deep;
    for (int i = 0; i < 128; ++i) leaf = &((*leaf)["d"] = nlohmann::json::object());
    check_invalid_argument([&] { JobSpec{"k", deep}.validate(); }, "payload", {"deeper than 128"});
    jobq::InputLimits roomy;
    roomy.max_json_depth = 200;
    CHECK_NOTHROW(JobSpec{"k", deep}.validate(roomy));
}

TEST_SUITE_END();

TEST_CASE("a spec whose payload nests deeper than any limit is copied without recursing") {
    // nlohmann copies a value one stack frame per level: a copy of this would overflow the
    // stack. A JobSpec's copy keeps only the fact, and validation reports it.
    nlohmann::json deep = nlohmann::json::object();
    nlohmann::json* leaf = &deep;
    for (int i = 0; i < 200'000; ++i) leaf = &((*leaf)["d"] = nlohmann::json::object());
    const JobSpec original{"k", std::move(deep)};
    const JobSpec copy = original;  // NOLINT(performance-unnecessary-copy-initialization)
    CHECK(copy.payload().is_null());
    check_invalid_argument([&] { copy.validate(); }, "payload",
                           {"deeper than 1000 levels", "InputLimits::max_json_depth"});
    JobSpec assigned{"other"};
    assigned = copy;  // the fact survives a copy of the copy
    check_invalid_argument([&] { assigned.validate(); }, "payload", {"deeper than 1000"});
    // The original still has its payload; it is refused as any too-deep payload is.
    check_invalid_argument([&] { original.validate(); }, "payload", {"deeper than 128"});
    // Its JSON form would copy the payload: refused before the copy.
    check_invalid_argument([&] { (void)original.to_json(); }, "payload", {"deeper than 1000"});
    // A spec at the deepest level any limit allows is copied whole.
    nlohmann::json roomy = nlohmann::json::object();
    leaf = &roomy;
    for (int i = 1; i < jobq::max_json_depth_setting; ++i) {
        leaf = &((*leaf)["d"] = nlohmann::json::object());
    }
    const JobSpec at_limit{"k", roomy};
    const JobSpec at_limit_copy = at_limit;  // NOLINT(performance-unnecessary-copy-initialization)
    CHECK(at_limit_copy.payload() == roomy);
}

TEST_CASE("from_json refuses a payload too deep to copy before copying it") {
    nlohmann::json deep = nlohmann::json::object();
    nlohmann::json* leaf = &deep;
    for (int i = 0; i < 200'000; ++i) leaf = &((*leaf)["d"] = nlohmann::json::object());
    nlohmann::json form{{"kind", "k"}};
    form["payload"] = std::move(deep);
    check_invalid_argument([&] { (void)JobSpec::from_json(form); }, "payload",
                           {"deeper than 1000"});
}

TEST_CASE("from_json refuses a microsecond count beyond 64 bits instead of wrapping it") {
    check_invalid_argument(
        [] {
            JobSpec::from_json({{"kind", "a"}, {"delay_us", 18446744073709551615ULL}});
        },
        "delay_us", {"18446744073709551615 is out of range"});
    check_invalid_argument(
        [] {
            JobSpec::from_json({{"kind", "a"}, {"timeout_us", 9223372036854775808ULL}});
        },
        "timeout_us", {"out of range"});
}

TEST_CASE("tags are a set of at most 100") {
    JobSpec spec = valid().tag("a").tag("b").tag("a");
    CHECK(spec.tags() == std::vector<std::string>{"a", "b"});
    CHECK(valid().tags({"x", "x", "y"}).tags() == std::vector<std::string>{"x", "y"});
    JobSpec many = valid();
    for (int i = 0; i < 100; ++i) many.tag("t" + std::to_string(i));
    CHECK_NOTHROW(many.validate());
    many.tag("one-more");
    check_invalid_argument([&] { many.validate(); }, "tags", {"at most 100 tags (got 101)"});
}

TEST_CASE("names refuse the invisible fillers and format characters beyond the common ones") {
    // A soft hyphen, a Hangul filler, a braille blank, a language tag: each shows as nothing.
    check_invalid_argument(
        [] {
            JobSpec{
                "a\xc2\xad"
                "b"}
                .validate();
        },
        "kind", {"U+00AD"});
    check_invalid_argument([] { JobSpec{"\xe3\x85\xa4"}.validate(); }, "kind", {"U+3164"});
    check_invalid_argument([] { JobSpec{"\xe2\xa0\x80"}.validate(); }, "kind", {"U+2800"});
    check_invalid_argument([] { JobSpec{"k\xf3\xa0\x80\x81"}.validate(); }, "kind", {"U+E0001"});
    check_invalid_argument([] { JobSpec{"\xe2\x80\x8d"}.validate(); }, "kind",
                           {"must not start with a zero-width joiner"});
}
