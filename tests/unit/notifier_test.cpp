// LocalNotifier: in-process wake-ups, delivered to live subscriptions only.

#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "jobq/backend/notifier.hpp"

using jobq::LocalNotifier;
using jobq::Subscription;

TEST_SUITE_BEGIN("LocalNotifier");

TEST_CASE("a subscriber is called with the queue name") {
    LocalNotifier n;
    std::vector<std::string> seen;
    Subscription s = n.subscribe([&](std::string_view q) { seen.emplace_back(q); });
    n.notify("mail");
    n.notify("default");
    CHECK(seen == std::vector<std::string>{"mail", "default"});
}

TEST_CASE("every subscriber is called for each notification") {
    LocalNotifier n;
    int a = 0, b = 0;
    Subscription sa = n.subscribe([&](std::string_view) { ++a; });
    Subscription sb = n.subscribe([&](std::string_view) { ++b; });
    n.notify("q");
    CHECK(a == 1);
    CHECK(b == 1);
}

TEST_CASE("a reset subscription is not called any more") {
    LocalNotifier n;
    int kept = 0, dropped = 0;
    Subscription keep = n.subscribe([&](std::string_view) { ++kept; });
    Subscription drop = n.subscribe([&](std::string_view) { ++dropped; });
    drop.reset();
    n.notify("q");
    CHECK(kept == 1);
    CHECK(dropped == 0);
}

TEST_CASE("a destroyed subscription is not called any more") {
    LocalNotifier n;
    int calls = 0;
    {
        Subscription s = n.subscribe([&](std::string_view) { ++calls; });
    }
    n.notify("q");
    CHECK(calls == 0);
}

TEST_CASE("a moved subscription stays subscribed until its new owner lets go") {
    LocalNotifier n;
    int calls = 0;
    Subscription first = n.subscribe([&](std::string_view) { ++calls; });
    Subscription second = std::move(first);
    first.reset();  // the moved-from handle owns nothing; resetting it must not unsubscribe
    n.notify("q");
    CHECK(calls == 1);
    second.reset();
    n.notify("q");
    CHECK(calls == 1);
}

TEST_CASE("assigning over a subscription unsubscribes what it held") {
    LocalNotifier n;
    int old_calls = 0, new_calls = 0;
    Subscription s = n.subscribe([&](std::string_view) { ++old_calls; });
    s = n.subscribe([&](std::string_view) { ++new_calls; });
    n.notify("q");
    CHECK(old_calls == 0);
    CHECK(new_calls == 1);
}

TEST_CASE("a callback may unsubscribe itself while it is being notified") {
    LocalNotifier n;
    int calls = 0;
    Subscription s;
    s = n.subscribe([&](std::string_view) {
        ++calls;
        s.reset();
    });
    n.notify("q");
    n.notify("q");
    CHECK(calls == 1);
}

TEST_CASE("notifying without subscribers does nothing") {
    LocalNotifier n;
    CHECK_NOTHROW(n.notify("q"));
}

TEST_SUITE_END();

TEST_CASE("a subscription that outlives its notifier can still be reset") {
    jobq::Subscription sub;
    {
        jobq::LocalNotifier notifier;
        sub = notifier.subscribe([](std::string_view) {});
    }
    sub.reset();  // would touch the destroyed notifier if it held a raw pointer
    CHECK(true);
}
