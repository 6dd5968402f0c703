#include "detail/store_calls.hpp"

#include <cstdio>
#include <cstdlib>

namespace jobq::detail {

namespace {

// The StoreCalls whose call this thread runs now, if any.
thread_local const StoreCalls* running_here = nullptr;

}  // namespace

StoreCalls::RunningHere::RunningHere(const StoreCalls& calls) : previous_(running_here) {
    running_here = &calls;
}

StoreCalls::RunningHere::~RunningHere() {
    running_here = previous_;
}

StoreCalls::StoreCalls(boost::asio::any_io_executor supplied, int private_threads)
    : supplied_(std::move(supplied)), private_threads_(private_threads) {}

StoreCalls::~StoreCalls() {
    wait_idle();
    if (pool_) pool_->join();
}

boost::asio::any_io_executor StoreCalls::executor() {
    if (supplied_) return supplied_;
    // Made on first use, so an owner used only synchronously has no threads; call_once because
    // async operations may start on several threads at once.
    std::call_once(pool_once_, [this] {
        pool_ =
            std::make_unique<boost::asio::thread_pool>(static_cast<std::size_t>(private_threads_));
    });
    return pool_->get_executor();
}

void StoreCalls::wait_idle() {
    if (running_here == this) {
        // A completion handler that runs on the store's thread (one without an executor of its
        // own) is destroying its Queue, Worker or Scheduler, or stopping it: the wait would be
        // for the very call this thread is in, forever. Say so rather than hang silently.
        std::fputs(
            "jobq: a Queue, Worker or Scheduler was destroyed (or waited for) from inside "
            "one of its own store calls or from a completion handler that ran there "
            "(a handler with no executor of its own); that wait can never end. Destroy "
            "it from another thread, or bind the handler to an executor "
            "(boost::asio::bind_executor).\n",
            stderr);
        std::abort();
    }
    std::unique_lock lock(mutex_);
    idle_.wait(lock, [this] { return in_flight_ == 0; });
}

void StoreCalls::begin_call() {
    const std::lock_guard lock(mutex_);
    ++in_flight_;
}

void StoreCalls::end_call() {
    // Notified under the lock: a waiter woken by it may destroy this object as soon as the lock
    // is released, so nothing of it is touched after that.
    const std::lock_guard lock(mutex_);
    if (--in_flight_ == 0) idle_.notify_all();
}

}  // namespace jobq::detail
