// Scheduler: four maintenance services on one strand of the caller's executor — the rescuer
// (rescuer.hpp), the promoter (promoter.hpp), the pruner (pruner.hpp) and the cron firer
// (cron_firer.hpp). Each service is a blocking pass with no Asio in it; this file runs each as
// a loop of "run one pass on the scheduler's own thread, then wait", and stops them. The
// Asio-heavy code (coroutines, timers) stays in this one translation unit.

#include "jobq/scheduler.hpp"

#include <algorithm>
#include <atomic>
#include <functional>
#include <set>
#include <vector>

#include <fmt/format.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "cron_firer.hpp"
#include "detail/stop_waiter.hpp"
#include "detail/stopped_context.hpp"
#include "detail/store_calls.hpp"
#include "jobq/error.hpp"
#include "promoter.hpp"
#include "pruner.hpp"
#include "rescuer.hpp"

namespace asio = boost::asio;

namespace jobq {

namespace {

void validate(const SchedulerOptions& o) {
    auto positive = [](const char* field, Duration d) {
        if (d <= Duration::zero()) {
            throw Error(ErrorCode::invalid_argument, fmt::format("{}: must be positive", field),
                        field);
        }
    };
    positive("rescue_interval", o.rescue_interval);
    positive("promote_interval", o.promote_interval);
    positive("prune_interval", o.prune_interval);
    positive("cron_interval", o.cron_interval);
    for (const auto& [field, d] :
         {std::pair{"retention.completed", o.retention.completed},
          std::pair{"retention.cancelled", o.retention.cancelled},
          std::pair{"retention.discarded", o.retention.discarded},
          std::pair{"retention.schedule_runs", o.retention.schedule_runs}}) {
        if (d && *d < Duration::zero()) {
            throw Error(ErrorCode::invalid_argument, fmt::format("{}: must not be negative", field),
                        field);
        }
    }
    std::set<std::string> names;
    for (const CronSchedule& c : o.cron) {
        c.validate();
        if (!names.insert(c.name).second) {
            throw Error(ErrorCode::invalid_argument,
                        fmt::format("cron: schedule '{}' is declared twice", c.name), "cron");
        }
    }
}

SchedulerOptions with_defaults(SchedulerOptions o) {
    if (!o.on_error) {
        o.on_error = [](const std::string& m) {
            fmt::print(stderr, "jobq scheduler: {}\n", m);
        };
    }
    return o;
}

}  // namespace

struct Scheduler::Impl : std::enable_shared_from_this<Impl> {
    Impl(asio::any_io_executor ex, Store& s, SchedulerOptions o)
        : strand(asio::make_strand(std::move(ex))),
          options(with_defaults(std::move(o))),
          clock(options.clock ? *options.clock : system_clock()),
          rescuer(s, clock, options.retry),
          promoter(s, clock),
          pruner(s, clock, options.retention),
          cron(s, clock, options) {}
    ~Impl() { store_calls.wait_idle(); }

    asio::strand<asio::any_io_executor> strand;
    const SchedulerOptions options;
    const Clock& clock;
    static constexpr int pool_threads = 1;  // of the private pool, without store_executor
    detail::StoreCalls store_calls{options.store_executor, pool_threads};

    scheduler_detail::Rescuer rescuer;
    scheduler_detail::Promoter promoter;
    scheduler_detail::Pruner pruner;
    scheduler_detail::CronFirer cron;

    std::vector<std::unique_ptr<asio::steady_timer>> timers;
    std::atomic<bool> started{false};
    std::atomic<bool> stopping{false};
    std::atomic<bool> stopped{false};  // every loop has ended
    int active_loops = 0;
    std::vector<std::function<void()>> stop_waiters;

    // A service's pass: runs once (blocking, on store_calls), returns how long to wait before
    // the next.
    using Pass = std::function<Duration()>;

    // Wakes for the next window, and at least every cron_interval to see run-time changes.
    Duration cron_pass() {
        std::optional<Timestamp> next_due;
        cron.run_once(next_due);
        Duration wait = options.cron_interval;
        if (next_due)
            wait =
                std::clamp<Duration>(*next_due - clock.now(), std::chrono::milliseconds{1}, wait);
        return wait;
    }

    void start() {
        bool expected = false;
        if (!started.compare_exchange_strong(expected, true)) {
            throw Error(ErrorCode::invalid_state, "scheduler: start() may be called once",
                        "scheduler");
        }
        asio::post(strand, [self = shared_from_this()] {
            Impl* impl = self.get();
            self->spawn("rescue", impl->options.rescue_interval, [impl] {
                impl->rescuer.run_once();
                return impl->options.rescue_interval;
            });
            self->spawn("promote", impl->options.promote_interval, [impl] {
                impl->promoter.run_once();
                return impl->options.promote_interval;
            });
            self->spawn("prune", impl->options.prune_interval, [impl] {
                impl->pruner.run_once();
                return impl->options.prune_interval;
            });
            self->spawn("cron", impl->options.cron_interval, [impl] { return impl->cron_pass(); });
            // A stop requested before this ran spawned no loop, so none will say it ended.
            if (self->active_loops == 0) self->stopped = true;
        });
    }

    void spawn(const char* name, Duration interval, Pass pass) {
        if (stopping) return;
        timers.push_back(std::make_unique<asio::steady_timer>(strand));
        ++active_loops;
        asio::co_spawn(
            strand, loop(shared_from_this(), std::move(pass), interval, name, timers.back().get()),
            asio::detached);
    }

    static asio::awaitable<void> loop(std::shared_ptr<Impl> self, Pass pass, Duration interval,
                                      const char* name, asio::steady_timer* timer) {
        // The first pass runs at once: a restarted process rescues what its predecessor left.
        while (!self->stopping) {
            // A copy: the pass must not depend on this frame, which the executor's shutdown
            // may destroy while the pool still runs it.
            auto run_pass = [pass] {
                return pass();
            };
            Duration wait = interval;
            try {
                wait = co_await self->store_calls.run(std::move(run_pass));
            } catch (const std::exception& e) {
                self->options.on_error(
                    fmt::format("{} pass failed (will retry): {}", name, e.what()));
            }
            if (self->stopping) break;
            timer->expires_after(wait);
            boost::system::error_code ec;
            co_await timer->async_wait(asio::redirect_error(asio::use_awaitable, ec));
        }
        if (--self->active_loops == 0) {
            self->stopped = true;
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

void Scheduler::start() {
    impl_->start();
}

void Scheduler::request_stop() {
    impl_->stopping = true;
    asio::post(impl_->strand, [self = impl_] { self->begin_stop(); });
}

void Scheduler::start_stop(asio::any_completion_handler<void()> handler) {
    impl_->stopping = true;
    detail::stop_then(impl_, std::move(handler));
}

void Scheduler::stop() {
    // Nothing to wait for, and the strand may no longer be run by anyone (a second stop after
    // io_context::run returned would block for ever).
    if (!impl_->started || impl_->stopped) {
        impl_->stopping = true;
        return;
    }
    if (detail::context_stopped(impl_->strand.get_inner_executor())) {
        request_stop();  // carried out if the context runs again
        impl_->store_calls.wait_idle();
        return;
    }
    impl_->stopping = true;
    detail::stop_blocking(impl_, [this] { impl_->store_calls.wait_idle(); });
}

MaintenanceReport Scheduler::run_once() {
    MaintenanceReport r = impl_->rescuer.run_once();
    const MaintenanceReport p = impl_->promoter.run_once();
    const MaintenanceReport q = impl_->pruner.run_once();
    const MaintenanceReport c = impl_->cron.run_once();
    r.promoted = p.promoted;
    r.workflows_settled = p.workflows_settled;
    r.pruned = q.pruned;
    r.cron_enqueued = c.cron_enqueued;
    r.cron_skipped = c.cron_skipped;
    return r;
}

MaintenanceReport Scheduler::cron_once() {
    return impl_->cron.run_once();
}

MaintenanceReport Scheduler::rescue_once() {
    return impl_->rescuer.run_once();
}

}  // namespace jobq
