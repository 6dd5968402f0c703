// Registry: every handler shape lands in the right slot and, run, yields the expected JSON.

#include <exception>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>

#include <doctest/doctest.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "jobq/registry.hpp"
#include "support.hpp"

using boost::asio::awaitable;
using jobq::JobContext;
using jobq::Registry;
using nlohmann::json;

namespace {

struct Greeting {
    std::string to;
    int times = 1;
};

// Found by nlohmann through argument-dependent lookup, as a user's payload type would be.
void from_json(const json& j, Greeting& g) {
    j.at("to").get_to(g.to);
    g.times = j.value("times", 1);
}

jobq::Job job_of(std::string kind, json payload, int attempt = 1) {
    jobq::Job job;
    job.id = 17;
    job.kind = std::move(kind);
    job.queue = "default";
    job.payload = std::move(payload);
    job.attempt = attempt;
    job.max_attempts = 5;
    return job;
}

// Runs an async entry to completion on a private io_context, as a worker would on its own.
json run_async(const Registry::Entry& entry, JobContext& ctx) {
    REQUIRE(entry.async);
    boost::asio::io_context io;
    std::optional<json> result;
    std::exception_ptr error;
    boost::asio::co_spawn(io, entry.async(ctx), [&](std::exception_ptr e, json r) {
        error = e;
        result = std::move(r);
    });
    io.run();
    if (error) std::rethrow_exception(error);
    REQUIRE(result.has_value());
    return *result;
}

json run_blocking(const Registry::Entry& entry, JobContext& ctx) {
    REQUIRE(entry.blocking);
    return entry.blocking(ctx);
}

const Registry::Entry& entry_of(const Registry& r, std::string_view kind) {
    const Registry::Entry* e = r.find(kind);
    REQUIRE(e != nullptr);
    return *e;
}

// Suspends once on the executor, so the handler really runs as a coroutine and not inline.
awaitable<void> yield_once() {
    auto ex = co_await boost::asio::this_coro::executor;
    co_await boost::asio::post(ex, boost::asio::use_awaitable);
}

}  // namespace

TEST_SUITE_BEGIN("Registry");

TEST_CASE("an awaitable<void> handler is stored as async and yields a null result") {
    Registry r;
    bool ran = false;
    r.add("a.void", [&ran](JobContext&) -> awaitable<void> {
        co_await yield_once();
        ran = true;
    });
    const auto& e = entry_of(r, "a.void");
    CHECK_FALSE(e.blocking);
    JobContext ctx{job_of("a.void", json::object()), nullptr};
    CHECK(run_async(e, ctx).is_null());
    CHECK(ran);
}

TEST_CASE("an awaitable<json> handler is stored as async and yields its JSON") {
    Registry r;
    r.add("a.json", [](JobContext& ctx) -> awaitable<json> {
        co_await yield_once();
        co_return json{{"echo", ctx.payload().at("n")}};
    });
    const auto& e = entry_of(r, "a.json");
    CHECK_FALSE(e.blocking);
    JobContext ctx{job_of("a.json", {{"n", 7}}), nullptr};
    CHECK(run_async(e, ctx) == json{{"echo", 7}});
}

TEST_CASE("an awaitable of a JSON-convertible value yields that value as JSON") {
    Registry r;
    r.add("a.string", [](JobContext&) -> awaitable<std::string> { co_return "done"; });
    JobContext ctx{job_of("a.string", json::object()), nullptr};
    CHECK(run_async(entry_of(r, "a.string"), ctx) == json("done"));
}

TEST_CASE("a void function is stored as blocking and yields a null result") {
    Registry r;
    int calls = 0;
    r.add("b.void", [&calls](JobContext&) { ++calls; });
    const auto& e = entry_of(r, "b.void");
    CHECK_FALSE(e.async);
    JobContext ctx{job_of("b.void", json::object()), nullptr};
    CHECK(run_blocking(e, ctx).is_null());
    CHECK(calls == 1);
}

TEST_CASE("a function returning JSON is stored as blocking and yields its JSON") {
    Registry r;
    r.add("b.json", [](JobContext& ctx) { return json{{"attempt", ctx.attempt()}}; });
    const auto& e = entry_of(r, "b.json");
    CHECK_FALSE(e.async);
    JobContext ctx{job_of("b.json", json::object(), 3), nullptr};
    CHECK(run_blocking(e, ctx) == json{{"attempt", 3}});
}

TEST_CASE("a typed async handler receives its payload converted with from_json") {
    Registry r;
    r.add<Greeting>("t.async", [](Greeting g, JobContext& ctx) -> awaitable<json> {
        co_await yield_once();
        co_return json{{"to", g.to}, {"times", g.times}, {"job", ctx.id()}};
    });
    const auto& e = entry_of(r, "t.async");
    CHECK_FALSE(e.blocking);
    JobContext ctx{job_of("t.async", {{"to", "a@example.com"}, {"times", 2}}), nullptr};
    CHECK(run_async(e, ctx) == json{{"to", "a@example.com"}, {"times", 2}, {"job", 17}});
}

TEST_CASE("a typed async handler returning void yields a null result") {
    Registry r;
    std::string seen;
    r.add<Greeting>("t.async.void", [&seen](const Greeting& g, JobContext&) -> awaitable<void> {
        co_await yield_once();
        seen = g.to;
    });
    JobContext ctx{job_of("t.async.void", {{"to", "b@example.com"}}), nullptr};
    CHECK(run_async(entry_of(r, "t.async.void"), ctx).is_null());
    CHECK(seen == "b@example.com");
}

TEST_CASE("a typed blocking handler receives its payload converted with from_json") {
    Registry r;
    r.add<Greeting>("t.blocking", [](const Greeting& g, JobContext&) {
        return json{{"to", g.to}, {"times", g.times}};
    });
    const auto& e = entry_of(r, "t.blocking");
    CHECK_FALSE(e.async);
    JobContext ctx{job_of("t.blocking", {{"to", "c@example.com"}}), nullptr};
    CHECK(run_blocking(e, ctx) == json{{"to", "c@example.com"}, {"times", 1}});
}

TEST_CASE("a typed blocking handler returning void yields a null result") {
    Registry r;
    int times = 0;
    r.add<Greeting>("t.blocking.void", [&times](Greeting g, JobContext&) { times = g.times; });
    JobContext ctx{job_of("t.blocking.void", {{"to", "x"}, {"times", 4}}), nullptr};
    CHECK(run_blocking(entry_of(r, "t.blocking.void"), ctx).is_null());
    CHECK(times == 4);
}

TEST_CASE("a payload that does not convert to the handler's type fails the run") {
    Registry r;
    bool ran = false;
    r.add<Greeting>("t.bad.blocking", [&ran](Greeting, JobContext&) { ran = true; });
    r.add<Greeting>("t.bad.async", [&ran](Greeting, JobContext&) -> awaitable<void> {
        ran = true;
        co_return;
    });
    JobContext blocking_ctx{job_of("t.bad.blocking", {{"from", "nobody"}}), nullptr};
    CHECK_THROWS(run_blocking(entry_of(r, "t.bad.blocking"), blocking_ctx));
    JobContext async_ctx{job_of("t.bad.async", {{"to", 12}}), nullptr};
    CHECK_THROWS(run_async(entry_of(r, "t.bad.async"), async_ctx));
    CHECK_FALSE(ran);
}

TEST_CASE("an exception thrown by an async handler reaches whoever runs it") {
    Registry r;
    r.add("a.throws", [](JobContext&) -> awaitable<void> {
        co_await yield_once();
        throw std::runtime_error("smtp down");
    });
    JobContext ctx{job_of("a.throws", json::object()), nullptr};
    CHECK_THROWS_WITH_AS(run_async(entry_of(r, "a.throws"), ctx), "smtp down", std::runtime_error);
}

TEST_CASE("a move-only handler can be registered") {
    Registry r;
    r.add("b.move_only", [p = std::make_unique<int>(41)](JobContext&) { return *p + 1; });
    JobContext ctx{job_of("b.move_only", json::object()), nullptr};
    CHECK(run_blocking(entry_of(r, "b.move_only"), ctx) == json(42));
}

TEST_CASE("handler options are kept with the entry") {
    using namespace std::chrono_literals;
    Registry r;
    r.add(
        "b.opts", [](JobContext&) {},
        jobq::HandlerOptions{jobq::RetryPolicy::constant(3s), jobq::Duration{10s}});
    const auto& e = entry_of(r, "b.opts");
    CHECK(e.kind == "b.opts");
    REQUIRE(e.options.retry.has_value());
    CHECK(*e.options.retry == jobq::RetryPolicy::constant(3s));
    CHECK(e.options.timeout == jobq::Duration{10s});
}

TEST_CASE("registering a kind twice is rejected and keeps the first handler") {
    Registry r;
    r.add("dup", [](JobContext&) { return json("first"); });
    jobq::test::check_invalid_argument(
        [&] { r.add("dup", [](JobContext&) { return json("second"); }); }, "kind",
        {"kind", "'dup'"});
    JobContext ctx{job_of("dup", json::object()), nullptr};
    CHECK(run_blocking(entry_of(r, "dup"), ctx) == json("first"));
}

TEST_CASE("registering a typed handler under a taken kind is rejected too") {
    Registry r;
    r.add("dup", [](JobContext&) {});
    jobq::test::check_invalid_argument(
        [&] { r.add<Greeting>("dup", [](Greeting, JobContext&) {}); }, "kind");
}

TEST_CASE("an empty kind is rejected") {
    Registry r;
    jobq::test::check_invalid_argument([&] { r.add("", [](JobContext&) {}); }, "kind",
                                       {"kind", "empty"});
    CHECK(r.kinds().empty());
}

TEST_CASE("find returns null for a kind that is not registered") {
    Registry r;
    r.add("known", [](JobContext&) {});
    CHECK(r.find("unknown") == nullptr);
    CHECK(r.find("known") != nullptr);
}

TEST_CASE("kinds lists the registered kinds sorted") {
    Registry r;
    r.add("zeta", [](JobContext&) {});
    r.add("alpha", [](JobContext&) {});
    r.add("mu", [](JobContext&) {});
    CHECK(r.kinds() == std::vector<std::string>{"alpha", "mu", "zeta"});
}

TEST_CASE("an entry found once stays valid while more kinds are added") {
    Registry r;
    r.add("first", [](JobContext&) { return json(1); });
    const Registry::Entry* e = r.find("first");
    for (int i = 0; i < 100; ++i) r.add("k" + std::to_string(i), [](JobContext&) {});
    CHECK(e == r.find("first"));
    JobContext ctx{job_of("first", json::object()), nullptr};
    CHECK(run_blocking(*e, ctx) == json(1));
}

TEST_SUITE_END();
