#pragma once
// What the stop() tests of Worker and Scheduler share: an executor run by a thread of its own,
// and a bounded wait that turns a hang into a failure.

#include <chrono>
#include <cstdlib>
#include <functional>
#include <future>
#include <iostream>
#include <string>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <doctest/doctest.h>

namespace jobq::test {

/// An io_context run by a thread of its own until `halt()` (or the end of the scope).
struct IoThread {
    boost::asio::io_context io;
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard{
        io.get_executor()};
    std::thread thread{[this] {
        io.run();
    }};
    ~IoThread() { halt(); }
    void halt() {
        guard.reset();
        io.stop();
        if (thread.joinable()) thread.join();
    }
};

/// Calls `f` on a thread of its own and waits for it at most `deadline`. One that does not
/// return by then fails the test and ends the process: a hang must fail the suite, not stall
/// it, and the objects `f` uses are about to be destroyed under it.
inline void require_returns_within(std::function<void()> f, const char* what,
                                   std::chrono::seconds deadline = std::chrono::seconds{30}) {
    std::packaged_task<void()> task(std::move(f));
    auto done = task.get_future();
    std::thread t(std::move(task));
    if (done.wait_for(deadline) != std::future_status::ready) {
        FAIL_CHECK(std::string(what) << " did not return within " << deadline.count() << " s");
        std::cout.flush();
        std::_Exit(EXIT_FAILURE);
    }
    t.join();
    done.get();  // rethrows what `f` threw
}

}  // namespace jobq::test
