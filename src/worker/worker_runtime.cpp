// WorkerRuntime and Alarm (worker_runtime.hpp, alarm.hpp): the worker's Asio plumbing. This is
// the one translation unit of the worker that instantiates Asio's co_spawn, timer and
// thread-pool templates; the parts call it through plain functions.

#include "worker_runtime.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "alarm.hpp"
#include "detail/blocking.hpp"
#include "detail/store_calls.hpp"

namespace asio = boost::asio;

namespace jobq::worker_detail {

// ---- WorkerRuntime ----------------------------------------------------------------------------

WorkerRuntime::WorkerRuntime(asio::strand<asio::any_io_executor> strand, int handler_threads,
                             asio::any_io_executor store_executor)
    : strand_(std::move(strand)),
      strand_any_(strand_),
      handler_threads_(handler_threads),
      store_calls_(std::make_unique<detail::StoreCalls>(std::move(store_executor), store_threads)) {
}

WorkerRuntime::~WorkerRuntime() {
    join();
}

void WorkerRuntime::post(std::function<void()> fn) {
    asio::post(strand_, std::move(fn));
}

void WorkerRuntime::spawn(asio::awaitable<void> work) {
    asio::co_spawn(strand_any_, std::move(work), asio::detached);
}

void WorkerRuntime::spawn(asio::awaitable<void> work, asio::cancellation_slot slot) {
    asio::co_spawn(strand_any_, std::move(work),
                   asio::bind_cancellation_slot(slot, asio::detached));
}

asio::awaitable<void> WorkerRuntime::sleep_for(Duration d) {
    asio::steady_timer t(strand_, d);
    boost::system::error_code ec;
    co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
}

asio::awaitable<void> WorkerRuntime::call_store(std::function<void()>&& call) {
    return store_calls_->run(std::move(call));
}

asio::awaitable<void> WorkerRuntime::call_handler(std::function<void()>&& call) {
    if (!handler_pool_) {
        handler_pool_ =
            std::make_unique<asio::thread_pool>(static_cast<std::size_t>(handler_threads_));
    }
    return detail::run_blocking(handler_pool_->get_executor(), std::move(call));
}

void WorkerRuntime::drain_store_calls() {
    store_calls_->wait_idle();
}

void WorkerRuntime::join() {
    if (handler_pool_) handler_pool_->join();
    store_calls_->wait_idle();
}

// ---- Alarm ------------------------------------------------------------------------------------

struct Alarm::Timer {
    explicit Timer(const asio::any_io_executor& strand) : timer(strand) {}
    asio::steady_timer timer;
};

Alarm::Alarm(const asio::any_io_executor& strand) : timer_(std::make_unique<Timer>(strand)) {}

Alarm::~Alarm() = default;

asio::awaitable<bool> Alarm::sleep_until(std::chrono::steady_clock::time_point at) {
    timer_->timer.expires_at(at);
    boost::system::error_code ec;
    co_await timer_->timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    co_return !ec;
}

asio::awaitable<bool> Alarm::sleep_for(Duration d) {
    timer_->timer.expires_after(d);
    boost::system::error_code ec;
    co_await timer_->timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    co_return !ec;
}

void Alarm::call_after(Duration d, std::function<void()> fn) {
    timer_->timer.expires_after(d);
    timer_->timer.async_wait([fn = std::move(fn)](boost::system::error_code ec) {
        if (!ec) fn();
    });
}

void Alarm::cancel() {
    timer_->timer.cancel();
}

}  // namespace jobq::worker_detail
