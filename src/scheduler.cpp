// Scheduler: three small maintenance services on one strand — rescuer, promoter, pruner —
// each a loop of "wait an interval, run one blocking pass on the scheduler's own thread".

#include "jobq/scheduler.hpp"

#include <atomic>
#include <set>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/format.h>

#include "detail/attempt_outcome.hpp"
#include "detail/blocking.hpp"
#include "detail/stop_waiter.hpp"
#include "jobq/error.hpp"
#include "jobq/notifier.hpp"
#include "jobq/store.hpp"
#include "jobq/time_format.hpp"

namespace asio = boost::asio;

namespace jobq {

namespace {

// Bounds one pass so a huge backlog is worked off over several passes, not one long one.
constexpr int rescue_batch = 500;
constexpr int max_batches_per_pass = 20;

void validate(const SchedulerOptions& o) {
    auto positive = [](const char* field, Duration d) {
        if (d <= Duration::zero()) {
            throw Error(ErrorCode::invalid_argument, fmt::format("{}: must be positive", field), field);
        }
    };
    positive("rescue_interval", o.rescue_interval);
    positive("promote_interval", o.promote_interval);
    positive("prune_interval", o.prune_interval);
    for (const auto& [field, d] : {std::pair{"retention.completed", o.retention.completed},
                                   std::pair{"retention.cancelled", o.retention.cancelled},
                                   std::pair{"retention.discarded", o.retention.discarded}}) {
        if (d && *d < Duration::zero()) {
            throw Error(ErrorCode::invalid_argument, fmt::format("{}: must not be negative", field), field);
        }
    }
}

}  // namespace

struct Scheduler::Impl : std::enable_shared_from_this<Impl> {
    Impl(asio::any_io_executor ex, Store& s, SchedulerOptions o)
        : strand(asio::make_strand(std::move(ex))),
          store(s),
          options(std::move(o)),
          clock(options.clock ? *options.clock : system_clock()) {
        if (!options.on_error) {
            options.on_error = [](const std::string& m) { fmt::print(stderr, "jobq scheduler: {}\n", m); };
        }
    }
    ~Impl() { pool.join(); }

    asio::strand<asio::any_io_executor> strand;
    Store& store;
    SchedulerOptions options;
    const Clock& clock;
    asio::thread_pool pool{1};
    std::vector<std::unique_ptr<asio::steady_timer>> timers;
    std::atomic<bool> started{false};
    std::atomic<bool> stopping{false};
    int active_loops = 0;
    std::vector<std::function<void()>> stop_waiters;

    // ---- the passes (blocking; any thread) ---------------------------------------------------

    MaintenanceReport rescue_once() {
        MaintenanceReport report;
        const Timestamp now = clock.now();
        std::set<std::string> woken;
        for (int batch = 0; batch < max_batches_per_pass; ++batch) {
            const std::vector<Job> expired = store.expired_leases(now, rescue_batch);
            if (expired.empty()) break;
            std::vector<Outcome> outcomes;
            outcomes.reserve(expired.size());
            for (const Job& job : expired) {
                detail::AttemptEnd end;
                end.how = detail::AttemptEnd::How::failure;
                end.error_kind = "lease_expired";
                end.message = fmt::format("lease expired at {}: worker {} stopped renewing it",
                                          job.lease_expires_at ? format_timestamp(*job.lease_expires_at) : "?",
                                          job.worker_id);
                const RetryPolicy& policy = detail::effective_policy(job, nullptr, options.retry);
                Outcome o = detail::decide_outcome(job, job.worker_id, end, policy, now, detail::random_unit());
                // Fence on the lease too: a worker that renewed since we looked keeps its job.
                o.only_if_lease_expired_by = now;
                outcomes.push_back(std::move(o));
            }
            const std::vector<bool> applied = store.complete(outcomes);
            for (std::size_t i = 0; i < outcomes.size(); ++i) {
                if (i >= applied.size() || !applied[i]) continue;
                if (outcomes[i].kind == OutcomeKind::discard) {
                    ++report.discarded;
                } else {
                    ++report.rescued;
                    woken.insert(expired[i].queue);
                }
            }
            if (static_cast<int>(expired.size()) < rescue_batch) break;
        }
        for (const std::string& q : woken) store.notifier().notify(q);
        return report;
    }

    MaintenanceReport promote_once() {
        MaintenanceReport report;
        report.promoted = store.promote_due(clock.now());
        if (report.promoted > 0) store.notifier().notify("");  // empty: every queue
        return report;
    }

    MaintenanceReport prune_once() {
        MaintenanceReport report;
        const Timestamp now = clock.now();
        PruneRequest request;
        auto cutoff = [&](const std::optional<Duration>& keep) -> std::optional<Timestamp> {
            if (!keep) return std::nullopt;
            return now - *keep;
        };
        request.completed_before = cutoff(options.retention.completed);
        request.cancelled_before = cutoff(options.retention.cancelled);
        request.discarded_before = cutoff(options.retention.discarded);
        if (!request.completed_before && !request.cancelled_before && !request.discarded_before) {
            return report;
        }
        for (int batch = 0; batch < max_batches_per_pass; ++batch) {
            const std::int64_t n = store.prune(request);
            report.pruned += n;
            if (n < request.limit) break;
        }
        return report;
    }

    // ---- the loops (on the strand) -----------------------------------------------------------

    using Pass = MaintenanceReport (Impl::*)();

    void start() {
        bool expected = false;
        if (!started.compare_exchange_strong(expected, true)) {
            throw Error(ErrorCode::invalid_state, "scheduler: start() may be called once", "scheduler");
        }
        asio::post(strand, [self = shared_from_this()] {
            self->spawn(&Impl::rescue_once, self->options.rescue_interval, "rescue");
            self->spawn(&Impl::promote_once, self->options.promote_interval, "promote");
            self->spawn(&Impl::prune_once, self->options.prune_interval, "prune");
        });
    }

    void spawn(Pass pass, Duration interval, const char* name) {
        if (stopping) return;
        timers.push_back(std::make_unique<asio::steady_timer>(strand));
        ++active_loops;
        asio::co_spawn(strand, loop(shared_from_this(), pass, interval, name, timers.back().get()),
                       asio::detached);
    }

    static asio::awaitable<void> loop(std::shared_ptr<Impl> self, Pass pass, Duration interval,
                                      const char* name, asio::steady_timer* timer) {
        // The first pass runs at once: a restarted process rescues what its predecessor left.
        while (!self->stopping) {
            auto run_pass = [impl = self.get(), pass] { (impl->*pass)(); };
            try {
                co_await detail::run_blocking(self->pool.get_executor(), std::move(run_pass));
            } catch (const std::exception& e) {
                self->options.on_error(fmt::format("{} pass failed (will retry): {}", name, e.what()));
            }
            if (self->stopping) break;
            timer->expires_after(interval);
            boost::system::error_code ec;
            co_await timer->async_wait(asio::redirect_error(asio::use_awaitable, ec));
        }
        if (--self->active_loops == 0) {
            for (auto& w : std::exchange(self->stop_waiters, {})) w();
        }
    }

    void begin_stop() {
        stopping = true;
        for (auto& t : timers) t->cancel();
    }

    void when_stopped(std::function<void()> fn) {
        if (active_loops == 0) {
            fn();
        } else {
            stop_waiters.push_back(std::move(fn));
        }
    }
};

Scheduler::Scheduler(asio::any_io_executor executor, Store& store, SchedulerOptions options) {
    validate(options);
    impl_ = std::make_shared<Impl>(std::move(executor), store, std::move(options));
}

Scheduler::~Scheduler() {
    if (impl_ && impl_->started && !impl_->stopping) request_stop();
}

void Scheduler::start() { impl_->start(); }

void Scheduler::request_stop() {
    impl_->stopping = true;
    asio::post(impl_->strand, [self = impl_] { self->begin_stop(); });
}

asio::awaitable<void> Scheduler::async_stop() {
    impl_->stopping = true;
    return detail::stop_and_wait(impl_);
}

void Scheduler::stop() {
    impl_->stopping = true;
    detail::stop_blocking(impl_);
}

MaintenanceReport Scheduler::run_once() {
    MaintenanceReport r = impl_->rescue_once();
    const MaintenanceReport p = impl_->promote_once();
    const MaintenanceReport q = impl_->prune_once();
    r.promoted = p.promoted;
    r.pruned = q.pruned;
    return r;
}

MaintenanceReport Scheduler::rescue_once() { return impl_->rescue_once(); }

}  // namespace jobq
