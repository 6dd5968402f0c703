// Completer (completer.hpp): outcomes written in batches, then counted.

#include "completer.hpp"

#include <algorithm>
#include <functional>
#include <iterator>

#include <fmt/format.h>

#include "store_backoff.hpp"
#include "worker_core.hpp"

namespace asio = boost::asio;

namespace jobq::worker_detail {

Completer::Completer(WorkerCore& core) : core_(core), state_(core.state) {}

void Completer::add(Outcome outcome) {
    pending_.push_back(std::move(outcome));
    if (core_.producer.carries_outcomes()) {
        core_.producer.outcomes_ready();
    } else {
        flush_pending();
    }
}

std::vector<Outcome> Completer::take_batch() {
    const std::size_t n =
        std::min(pending_.size(), static_cast<std::size_t>(state_.options.complete_batch));
    std::vector<Outcome> batch(
        std::make_move_iterator(pending_.begin()),
        std::make_move_iterator(pending_.begin() + static_cast<std::ptrdiff_t>(n)));
    pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(n));
    return batch;
}

void Completer::write_alone(std::vector<Outcome> outcomes) {
    pending_.insert(pending_.begin(), std::make_move_iterator(outcomes.begin()),
                    std::make_move_iterator(outcomes.end()));
    flush_pending();
}

void Completer::flush_pending() {
    if (!pending_.empty() && !flushing_) {
        flushing_ = true;
        core_.runtime.spawn(flush(core_.shared_from_this()));
    }
}

asio::awaitable<void> Completer::flush([[maybe_unused]] std::shared_ptr<WorkerCore> keep_alive) {
    StoreBackoff backoff;
    while (!pending_.empty()) {
        std::vector<Outcome> batch = take_batch();
        std::vector<bool> applied;
        for (bool written = false; !written;) {
            std::function<void()> write = [&store = state_.store, &batch, &applied] {
                applied = store.complete(batch);
            };
            try {
                co_await core_.runtime.call_store(std::move(write));
                backoff.reset();
                written = true;
            } catch (const std::exception& e) {
                // The batch is one transaction: nothing of it was applied; keep it and retry.
                // Meanwhile the heartbeat keeps renewing these jobs' leases.
                state_.options.on_error(fmt::format("recording {} outcomes failed (will retry): {}",
                                                    batch.size(), e.what()));
            }
            if (!written) co_await core_.runtime.sleep_for(backoff.next());
        }
        settle(batch, applied);
    }
    flushing_ = false;
    core_.lifecycle.maybe_finish_stop();
}

void Completer::settle(const std::vector<Outcome>& batch, const std::vector<bool>& applied) {
    WorkerCounts& counts = state_.counts;
    for (std::size_t i = 0; i < batch.size(); ++i) {
        const Outcome& o = batch[i];
        bool cancelled_in_store = false;
        if (auto it = state_.running.find(o.id); it != state_.running.end()) {
            cancelled_in_store = it->second.cancelled && it->second.attempt == o.attempt;
            state_.running.erase(it);
        }
        if (cancelled_in_store) {
            // Not a lost lease: the job ended cancelled, whether the store had already
            // cancelled it (fenced out) or this outcome did.
            ++counts.cancelled;
            continue;
        }
        if (i >= applied.size() || !applied[i]) {
            ++counts.fenced_out;
            continue;
        }
        switch (o.kind) {
            case OutcomeKind::complete:
                ++counts.completed;
                break;
            case OutcomeKind::retry:
                ++counts.retried;
                break;
            case OutcomeKind::snooze:
                ++counts.snoozed;
                break;
            case OutcomeKind::discard:
                ++counts.discarded;
                break;
            case OutcomeKind::cancel:
                ++counts.cancelled;
                break;
        }
    }
}

}  // namespace jobq::worker_detail
