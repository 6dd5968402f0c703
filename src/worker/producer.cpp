// Producer (producer.hpp): the claim loop, the weighted share of free slots, the idle wait.

#include "producer.hpp"

#include <algorithm>
#include <functional>

#include <fmt/format.h>

#include "detail/weighted_split.hpp"
#include "jobq/backend/store.hpp"
#include "store_backoff.hpp"
#include "worker_core.hpp"

namespace asio = boost::asio;

namespace jobq::worker_detail {

namespace {

// Claims in a row that found nothing in a queue the store said holds more (its tenants beyond
// one claim's reach, every one of them blocked, say): past this many, the queue waits for a
// wake-up or the poll instead of rotating on. 16 claims visit 256 tenants.
constexpr int max_empty_rotations = 16;

}  // namespace

Producer::Producer(WorkerCore& core)
    : core_(core),
      state_(core.state),
      wake_(core.strand),
      merges_(core.state.store.completes_with_claims()) {}

bool Producer::carries_outcomes() const {
    return merges_ && !done_ && !backing_off_ && state_.phase.load() == Phase::running;
}

void Producer::start() {
    core_.runtime.spawn(run(core_.shared_from_this()));
}

void Producer::on_notify(const std::string& queue) {
    bool poke = false;
    for (QueueState& q : state_.queues) {
        if (queue.empty() || q.name == queue) {
            q.work_maybe = true;
            q.empty_rotations = 0;
            poke = poke || q.running < q.concurrency;
        }
    }
    if (poke && state_.global_free()) wake_.cancel();
}

void Producer::wake_all() {
    for (QueueState& q : state_.queues) {
        q.work_maybe = true;
        q.empty_rotations = 0;
    }
    wake_.cancel();
}

void Producer::slot_freed(std::size_t qi) {
    // A freed slot of this queue (or, under max_running, of any queue) may start a job.
    const bool wanted = state_.options.max_running > 0
                            ? std::any_of(state_.queues.begin(), state_.queues.end(),
                                          [](const QueueState& q) { return q.work_maybe; })
                            : state_.queues[qi].work_maybe;
    if (wanted && state_.phase.load() == Phase::running) wake_.cancel();
}

void Producer::note_due(Timestamp at) {
    if (!next_due_ || at < *next_due_) next_due_ = at;
}

asio::awaitable<void> Producer::run([[maybe_unused]] std::shared_ptr<WorkerCore> keep_alive) {
    StoreBackoff backoff;
    const Clock& clock = state_.clock;
    while (state_.phase.load() == Phase::running) {
        if (throttled_until_ && clock.now() >= *throttled_until_) {
            // A held-back queue may start jobs again; it may not be one woken since.
            throttled_until_.reset();
            for (QueueState& q : state_.queues) q.work_maybe = true;
        }
        ClaimRequest request;
        std::vector<std::size_t> asked;
        for (const auto& [i, limit] : claim_shares()) {
            QueueState& q = state_.queues[i];
            request.queues.push_back({q.name, limit});
            asked.push_back(i);
            q.work_maybe = false;  // a wake-up during the claim sets it again
        }
        std::vector<Outcome> carried;
        if (merges_) {
            if (request.queues.empty()) {
                core_.completer.flush_pending();  // nothing to claim: they go alone
            } else {
                carried = core_.completer.take_batch();
            }
        }
        if (request.queues.empty()) {
            co_await idle_wait();
            continue;
        }
        request.worker_id = state_.options.id;
        request.now = clock.now();
        request.lease_expires_at = request.now + state_.options.lease;
        request.clock = &clock;  // the store re-reads it under its lock (see ClaimRequest)
        ClaimResult result;
        std::vector<bool> applied;
        std::function<void()> claim = [&store = state_.store, &request, &result, &carried,
                                       &applied] {
            if (carried.empty()) {
                result = store.claim(request);
            } else {
                CompletedAndClaimed both = store.complete_and_claim(carried, request);
                applied = std::move(both.applied);
                result = std::move(both.claimed);
            }
        };
        bool failed = false;
        try {
            co_await core_.runtime.call_store(std::move(claim));
            backoff.reset();
        } catch (const std::exception& e) {
            state_.options.on_error(fmt::format("claim failed (will retry): {}", e.what()));
            for (std::size_t i : asked) state_.queues[i].work_maybe = true;
            failed = true;
        }
        if (!carried.empty()) {
            if (failed) {
                // Neither part took effect: the completer writes them alone, with its own
                // retries, so that a claim that keeps failing cannot hold outcomes back.
                core_.completer.write_alone(std::move(carried));
            } else {
                core_.completer.settle(carried, applied);
            }
        }
        if (failed) {
            // Meanwhile outcomes do not wait for the next claim, which may fail as well.
            backing_off_ = true;
            co_await core_.runtime.sleep_for(backoff.next());
            backing_off_ = false;
            continue;
        }
        last_claim_at_ = request.now;
        if (result.throttled_until) {
            ++state_.counts.throttled;
            if (!throttled_until_ || *result.throttled_until < *throttled_until_) {
                throttled_until_ = result.throttled_until;
            }
        }
        std::size_t wanted = 0;
        for (const QueueDemand& d : request.queues) wanted += static_cast<std::size_t>(d.limit);
        const bool short_of_ask = result.jobs.size() < wanted;  // some queue ran dry
        std::vector<int> got(state_.queues.size(), 0);
        for (Job& job : result.jobs) {
            const std::size_t qi = state_.queue_index(job.queue);
            ++got[qi];
            core_.runner.start(std::move(job), qi);
        }
        for (std::size_t k = 0; k < asked.size(); ++k) {
            QueueState& q = state_.queues[asked[k]];
            if (got[asked[k]] > 0) q.empty_rotations = 0;
            if (got[asked[k]] >= request.queues[k].limit) {
                q.work_maybe = true;
            } else if (std::find(result.more.begin(), result.more.end(), q.name) !=
                       result.more.end()) {
                // Tenants the claim did not reach may have jobs that can start.
                if (got[asked[k]] > 0 || ++q.empty_rotations <= max_empty_rotations) {
                    q.work_maybe = true;
                }
            }
            // Otherwise a short claim (no work, or limits in the way) waits for a wake-up: a
            // new job, a finished limited job, a raised limit, the poll.
        }
        // Only when some queue ran dry is it worth learning when the next scheduled job is due;
        // asked after the claimed jobs have started, so that it is not on their way (a round
        // trip on PostgreSQL), and so that its failure cannot strand jobs already claimed.
        if (short_of_ask) co_await refresh_next_due();
    }
    done_ = true;
    core_.completer.flush_pending();  // outcomes no longer ride on claims
    core_.lifecycle.maybe_finish_stop();
}

asio::awaitable<void> Producer::refresh_next_due() {
    std::optional<Timestamp> due;
    std::function<void()> look = [&store = state_.store, &names = state_.queue_names, &due] {
        due = store.next_run_at(names);
    };
    try {
        co_await core_.runtime.call_store(std::move(look));
        next_due_ = due;
    } catch (const std::exception& e) {
        // The poll interval still bounds the wait; the next short claim asks again.
        state_.options.on_error(fmt::format("reading the next due time failed: {}", e.what()));
    }
}

std::vector<std::pair<std::size_t, int>> Producer::claim_shares() const {
    std::vector<std::pair<std::size_t, int>> shares;
    std::vector<SlotDemand> demands;
    for (std::size_t i = 0; i < state_.queues.size(); ++i) {
        const QueueState& q = state_.queues[i];
        const int free = q.concurrency - q.running;
        if (free > 0 && q.work_maybe) {
            shares.emplace_back(i, free);
            demands.push_back({free, q.weight});
        }
    }
    if (state_.options.max_running == 0 || shares.empty()) return shares;
    const int total_free = state_.options.max_running - state_.total_running();
    if (total_free <= 0) return {};
    const std::vector<int> split = split_by_weight(total_free, demands);
    std::vector<std::pair<std::size_t, int>> out;
    for (std::size_t k = 0; k < shares.size() && k < split.size(); ++k) {
        if (split[k] > 0) out.emplace_back(shares[k].first, split[k]);
    }
    return out;
}

asio::awaitable<void> Producer::idle_wait() {
    const bool any_free =
        state_.global_free() &&
        std::any_of(state_.queues.begin(), state_.queues.end(),
                    [](const QueueState& q) { return q.running < q.concurrency; });
    Duration wait = state_.options.poll_interval;
    if (!any_free) {
        wait = std::chrono::hours{24};  // only a finishing handler (or stop) can help
    } else {
        const Timestamp now = state_.clock.now();
        if (next_due_ && *next_due_ > last_claim_at_) {
            wait = std::clamp(*next_due_ - now, Duration::zero(), wait);
        }
        if (throttled_until_) wait = std::clamp(*throttled_until_ - now, Duration::zero(), wait);
    }
    const bool timed_out = co_await wake_.sleep_for(wait);
    if (timed_out && any_free) {
        // Poll tick or due time: look everywhere, other processes may have added work.
        for (QueueState& q : state_.queues) {
            q.work_maybe = true;
            q.empty_rotations = 0;
        }
    }
}

}  // namespace jobq::worker_detail
