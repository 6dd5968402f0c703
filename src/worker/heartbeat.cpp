// Heartbeat (heartbeat.hpp): lease renewals and the worker's record, and what lost leases mean.

#include "heartbeat.hpp"

#include <algorithm>
#include <chrono>
#include <exception>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "jobq/backend/notifier.hpp"
#include "jobq/backend/store.hpp"
#include "jobq/worker_record.hpp"
#include "worker_core.hpp"

namespace asio = boost::asio;

namespace jobq::worker_detail {

namespace {

// What one heartbeat learnt.
struct Beat {
    std::vector<LostLease> lost;  // leases not renewed, and why
    std::string record_error;     // the worker record could not be written
};

}  // namespace

Heartbeat::Heartbeat(WorkerCore& core) : core_(core), state_(core.state), alarm_(core.strand) {}

void Heartbeat::start() {
    core_.runtime.spawn(run(core_.shared_from_this()));
}

void Heartbeat::before_job_starts() {
    if (state_.running.empty() && busy_every() < idle_every()) {
        rearm_ = true;
        alarm_.cancel();
    }
}

Duration Heartbeat::idle_every() const {
    return std::max(state_.options.lease / 3, Duration{std::chrono::milliseconds{1}});
}

Duration Heartbeat::busy_every() const {
    const Duration idle = idle_every();
    if (state_.store.notifier().reaches_other_processes()) return idle;
    return std::max(std::min(idle, state_.options.poll_interval),
                    Duration{std::chrono::milliseconds{1}});
}

Duration Heartbeat::every() const {
    return state_.running.empty() ? idle_every() : busy_every();
}

// Ticks every lease/3 (busy_every while jobs run): renews the leases of running jobs, notices
// jobs lost (cancelled or rescued), and keeps the worker's record alive. Once the worker has
// wound down, hands over to the lifecycle, which removes the record and completes the stop.
asio::awaitable<void> Heartbeat::run([[maybe_unused]] std::shared_ptr<WorkerCore> keep_alive) {
    using steady = std::chrono::steady_clock;
    std::optional<steady::time_point> recorded_at;
    steady::time_point last_tick = steady::now();
    steady::time_point next_tick = last_tick;  // at once: the record appears at start
    while (!core_.lifecycle.wound_down()) {
        if (steady::now() < next_tick) {
            const bool time_came = co_await alarm_.sleep_until(next_tick);
            if (core_.lifecycle.wound_down()) break;
            if (!time_came && std::exchange(rearm_, false)) {
                next_tick = std::min(next_tick, steady::now() + every());
                continue;
            }
            // Otherwise the time came, or a handler asked for a heartbeat now.
        }
        last_tick = steady::now();
        // Refreshed at least every lease/2, so the record never expires while we live.
        const bool record = !recorded_at || last_tick - *recorded_at >= idle_every() / 2;
        if (record || !state_.running.empty()) {
            if (co_await tick(record) && record) recorded_at = last_tick;
        }
        rearm_ = false;
        next_tick = last_tick + every();
    }
    co_await core_.lifecycle.finish();
}

asio::awaitable<bool> Heartbeat::tick(bool record) {
    HeartbeatRequest request;
    request.worker_id = state_.options.id;
    request.jobs.reserve(state_.running.size());
    for (const auto& [id, rj] : state_.running) request.jobs.push_back({id, rj.attempt});
    const Timestamp now = state_.clock.now();
    request.lease_expires_at = now + state_.options.lease;
    WorkerRecord self_record;
    if (record) self_record = core_.lifecycle.record(now);
    Beat b;
    std::function<void()> beat = [&store = state_.store, &request, &self_record, record, &b] {
        Beat r;
        if (record) {
            // A failed record must not cost the leases: report it, renew anyway.
            try {
                store.record_worker(self_record);
            } catch (const std::exception& e) {
                r.record_error = e.what();
                if (r.record_error.empty()) r.record_error = "unknown error";
            } catch (...) {
                r.record_error = "unknown error";
            }
        }
        if (!request.jobs.empty()) r.lost = store.heartbeat(request);
        b = std::move(r);
    };
    try {
        co_await core_.runtime.call_store(std::move(beat));
    } catch (const std::exception& e) {
        state_.options.on_error(fmt::format("heartbeat failed (will retry): {}", e.what()));
        co_return false;
    }
    if (!b.record_error.empty()) {
        state_.options.on_error(
            fmt::format("recording the worker failed (will retry): {}", b.record_error));
    }
    for (const LostLease& l : b.lost) {
        if (l.why == LeaseLoss::cancelled) {
            core_.runner.on_cancelled(l.id);  // as if the store's notifier had said so
        } else {
            core_.runner.on_lease_lost(l.id);
        }
    }
    co_return record&& b.record_error.empty();
}

}  // namespace jobq::worker_detail
