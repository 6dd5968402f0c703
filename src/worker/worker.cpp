// Worker (jobq/worker.hpp): the public class over WorkerCore (worker_core.hpp), whose parts do
// the work — producer, runner, completer, heartbeat, lifecycle — on one strand of the caller's
// executor.

#include "jobq/worker.hpp"

#include <boost/asio/strand.hpp>

#include "detail/stop_waiter.hpp"
#include "detail/stopped_context.hpp"
#include "worker_core.hpp"
#include "worker_options.hpp"

namespace asio = boost::asio;

namespace jobq {

namespace worker_detail {

WorkerCore::WorkerCore(asio::any_io_executor executor, Store& store, Registry& registry,
                       WorkerOptions options)
    : strand(asio::make_strand(std::move(executor))),
      state(store, registry, std::move(options)),
      runtime(strand, handler_threads(state.options), state.options.store_executor),
      producer(*this),
      runner(*this),
      completer(*this),
      heartbeat(*this),
      lifecycle(*this) {}

WorkerCore::~WorkerCore() {
    lifecycle.unsubscribe();
    runtime.join();
}

}  // namespace worker_detail

// The stop plumbing (detail::stop_then, stop_blocking) finds strand, begin_stop() and
// when_stopped() on it.
struct Worker::Impl : worker_detail::WorkerCore {
    using WorkerCore::WorkerCore;
};

using worker_detail::Phase;

Worker::Worker(asio::any_io_executor executor, Store& store, Registry& registry,
               WorkerOptions options) {
    worker_detail::validate(options);
    impl_ = std::make_shared<Impl>(std::move(executor), store, registry,
                                   worker_detail::with_defaults(std::move(options)));
}

Worker::~Worker() {
    if (impl_ && impl_->state.phase.load() == Phase::running) request_stop();
}

void Worker::start() {
    impl_->lifecycle.start();
}

void Worker::request_stop() {
    impl_->runtime.post([self = impl_] { self->begin_stop(); });
}

void Worker::start_stop(asio::any_completion_handler<void()> handler) {
    detail::stop_then(impl_, std::move(handler));
}

void Worker::stop() {
    // Nothing to wait for, and the strand may no longer be run by anyone (a second stop after
    // io_context::run returned would block for ever).
    const auto p = impl_->state.phase.load();
    if (p == Phase::idle || p == Phase::stopped) return;
    if (detail::context_stopped(impl_->strand.get_inner_executor())) {
        request_stop();  // carried out if the context runs again
        impl_->runtime.drain_store_calls();
        return;
    }
    detail::stop_blocking(impl_, [this] { impl_->runtime.drain_store_calls(); });
}

bool Worker::running() const noexcept {
    const auto p = impl_->state.phase.load();
    return p == Phase::running || p == Phase::stopping;
}

void Worker::wake() {
    impl_->runtime.post([self = impl_] { self->producer.wake_all(); });
}

const std::string& Worker::id() const noexcept {
    return impl_->state.options.id;
}

WorkerCounters Worker::counters() const {
    const worker_detail::WorkerCounts& n = impl_->state.counts;
    WorkerCounters c;
    c.claimed = n.claimed.load();
    c.completed = n.completed.load();
    c.retried = n.retried.load();
    c.snoozed = n.snoozed.load();
    c.discarded = n.discarded.load();
    c.cancelled = n.cancelled.load();
    c.fenced_out = n.fenced_out.load();
    c.throttled = n.throttled.load();
    c.running = n.running.load();
    return c;
}

}  // namespace jobq
