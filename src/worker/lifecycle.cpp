// Lifecycle (lifecycle.hpp): start, graceful stop, and the worker's record.

#include "lifecycle.hpp"

#include <exception>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "jobq/backend/store.hpp"
#include "jobq/error.hpp"
#include "worker_core.hpp"

namespace asio = boost::asio;

namespace jobq::worker_detail {

Lifecycle::Lifecycle(WorkerCore& core) : core_(core), state_(core.state), grace_(core.strand) {}

void Lifecycle::start() {
    Phase expected = Phase::idle;
    if (!state_.phase.compare_exchange_strong(expected, Phase::running)) {
        throw Error(ErrorCode::invalid_state, "worker: start() may be called once", "worker");
    }
    started_at_ = state_.clock.now();
    // The notifier calls from its own threads: each notice goes to the strand, and only while
    // the worker exists.
    std::weak_ptr<WorkerCore> weak = core_.weak_from_this();
    work_subscription_ = state_.store.notifier().subscribe([weak](std::string_view queue) {
        if (auto core = weak.lock()) {
            core->runtime.post([core, q = std::string(queue)] { core->producer.on_notify(q); });
        }
    });
    cancel_subscription_ = state_.store.notifier().subscribe_cancelled([weak](JobId id) {
        if (auto core = weak.lock()) {
            core->runtime.post([core, id] { core->runner.on_cancelled(id); });
        }
    });
    core_.producer.start();
    core_.heartbeat.start();
}

void Lifecycle::begin_stop() {
    if (state_.phase.load() != Phase::running) return;
    state_.phase = Phase::stopping;
    work_subscription_.reset();
    core_.producer.wake_up();
    grace_.call_after(state_.options.shutdown_grace, [core = core_.shared_from_this()] {
        core->runner.cancel_all(CancelReason::shutdown);
    });
    maybe_finish_stop();
}

void Lifecycle::maybe_finish_stop() {
    if (state_.phase.load() != Phase::stopping || wound_down_ || !core_.producer.done() ||
        state_.active_handlers > 0 || !core_.completer.idle()) {
        return;
    }
    wound_down_ = true;
    grace_.cancel();
    core_.heartbeat.beat_now();
}

asio::awaitable<void> Lifecycle::finish() {
    std::function<void()> unregister = [&store = state_.store, &id = state_.options.id] {
        store.remove_worker(id);
    };
    try {
        co_await core_.runtime.call_store(std::move(unregister));
    } catch (const std::exception& e) {
        state_.options.on_error(fmt::format("removing the worker record failed: {}", e.what()));
    }
    cancel_subscription_.reset();
    state_.phase = Phase::stopped;
    for (auto& w : std::exchange(stop_waiters_, {})) w();
}

void Lifecycle::when_stopped(std::function<void()> fn) {
    const Phase p = state_.phase.load();
    if (p == Phase::stopped || p == Phase::idle) {
        fn();
    } else {
        stop_waiters_.push_back(std::move(fn));
    }
}

WorkerRecord Lifecycle::record(Timestamp now) const {
    return {state_.options.id, state_.queue_names, started_at_, now, now + state_.options.lease};
}

void Lifecycle::unsubscribe() {
    work_subscription_.reset();
    cancel_subscription_.reset();
}

}  // namespace jobq::worker_detail
