// Scheduler: four small maintenance services on one strand — rescuer, promoter, pruner, cron
// enqueuer — each a loop of "run one blocking pass on the scheduler's own thread, then wait".

#include "jobq/scheduler.hpp"

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <vector>

#include <fmt/format.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "detail/attempt_outcome.hpp"
#include "detail/blocking.hpp"
#include "detail/stop_waiter.hpp"
#include "detail/stopped_context.hpp"
#include "jobq/backend/notifier.hpp"
#include "jobq/backend/store.hpp"
#include "jobq/cron_expression.hpp"
#include "jobq/cron_windows.hpp"
#include "jobq/crontab.hpp"
#include "jobq/error.hpp"
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

// A stored schedule, parsed once and reused while its definition stays the same.
struct ParsedSchedule {
    ScheduleRecord definition;  // only the definition fields are compared
    CronExpression expression;
    TimeZone zone;
    MisfirePolicy misfire;
    JobSpec job;
};

bool same_definition(const ScheduleRecord& a, const ScheduleRecord& b) {
    return a.expression == b.expression && a.zone == b.zone && a.job == b.job &&
           a.misfire == b.misfire;
}

}  // namespace

struct Scheduler::Impl : std::enable_shared_from_this<Impl> {
    Impl(asio::any_io_executor ex, Store& s, SchedulerOptions o)
        : strand(asio::make_strand(std::move(ex))),
          store(s),
          options(std::move(o)),
          clock(options.clock ? *options.clock : system_clock()) {
        if (!options.on_error) {
            options.on_error = [](const std::string& m) {
                fmt::print(stderr, "jobq scheduler: {}\n", m);
            };
        }
    }
    ~Impl() { pool.join(); }

    asio::strand<asio::any_io_executor> strand;
    Store& store;
    SchedulerOptions options;
    const Clock& clock;
    static constexpr int pool_threads = 1;
    asio::thread_pool pool{pool_threads};
    std::vector<std::unique_ptr<asio::steady_timer>> timers;
    std::atomic<bool> started{false};
    std::atomic<bool> stopping{false};
    std::atomic<bool> stopped{false};  // every loop has ended
    int active_loops = 0;
    std::vector<std::function<void()>> stop_waiters;

    // Cron state: one pass at a time (the loop, or a test calling cron_once()).
    std::mutex cron_mutex;
    bool cron_synced = false;
    std::map<std::string, ParsedSchedule, std::less<>> parsed;

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
                end.message = fmt::format(
                    "lease expired at {}: worker {} stopped renewing it",
                    job.lease_expires_at ? format_timestamp(*job.lease_expires_at) : "?",
                    job.worker_id);
                const RetryPolicy& policy = detail::effective_policy(job, nullptr, options.retry);
                Outcome o = detail::decide_outcome(job, job.worker_id, end, policy, now,
                                                   detail::random_unit());
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
        request.schedule_runs_before = cutoff(options.retention.schedule_runs);
        if (!request.completed_before && !request.cancelled_before && !request.discarded_before &&
            !request.schedule_runs_before) {
            return report;
        }
        for (int batch = 0; batch < max_batches_per_pass; ++batch) {
            const std::int64_t n = store.prune(request);
            report.pruned += n;
            if (n < request.limit) break;
        }
        return report;
    }

    const ParsedSchedule& parse(const ScheduleRecord& r) {
        auto it = parsed.find(r.name);
        if (it != parsed.end() && same_definition(it->second.definition, r)) return it->second;
        const ScheduleInfo info = Crontab::to_info(r);
        ParsedSchedule p{r, CronExpression::parse(r.expression), TimeZone::locate(r.zone),
                         info.schedule.misfire, info.schedule.job};
        return parsed.insert_or_assign(r.name, std::move(p)).first->second;
    }

    // Handles the due windows of every schedule. Returns the report and, through `next_due`,
    // the earliest window still to come.
    MaintenanceReport cron_pass(std::optional<Timestamp>& next_due) {
        std::lock_guard lock(cron_mutex);
        MaintenanceReport report;
        if (!cron_synced) {
            const bool sync =
                options.cron_sync == CronSync::always ||
                (options.cron_sync == CronSync::when_declared && !options.cron.empty());
            if (sync) {
                const Timestamp now = clock.now();
                std::vector<ScheduleRecord> declared;
                for (const CronSchedule& c : options.cron)
                    declared.push_back(Crontab::to_record(c, true, now));
                store.sync_declared_schedules(declared, now);
            }
            cron_synced = true;
        }
        const Timestamp now = clock.now();
        std::set<std::string, std::less<>> present;
        for (const ScheduleRecord& r : store.schedules()) {
            present.insert(r.name);
            if (r.paused) continue;
            try {
                fire_due(r, now, report, next_due);
            } catch (const Error& e) {
                if (e.code() != ErrorCode::invalid_argument) throw;
                // One unreadable schedule (edited by hand, written by a newer version) must not
                // stop the others.
                options.on_error(fmt::format("cron: schedule '{}' skipped: {}", r.name, e.what()));
            }
        }
        std::erase_if(parsed, [&](const auto& entry) { return !present.contains(entry.first); });
        return report;
    }

    void fire_due(const ScheduleRecord& r, Timestamp now, MaintenanceReport& report,
                  std::optional<Timestamp>& next_due) {
        const ParsedSchedule& p = parse(r);
        const WindowPlan plan = plan_windows(p.expression, p.zone, p.misfire, r.cursor, now);
        if (plan.due()) {
            FireRequest request;
            request.name = r.name;
            request.expected_cursor = r.cursor;
            request.new_cursor = plan.cursor;
            request.now = now;
            for (Timestamp fire_at : plan.enqueue) {
                JobSpec spec = p.job;
                spec.run_at(fire_at).tag("cron:" + r.name);
                request.windows.push_back(WindowJob{fire_at, to_new_job(spec, now)});
            }
            std::int64_t skipped = 0;
            for (const SkippedWindows& s : plan.skipped) {
                request.skipped.push_back(ScheduleRun{r.name, s.first, WindowOutcome::skipped,
                                                      std::nullopt, s.last, s.count, s.reason,
                                                      now});
                skipped += s.count;
            }
            // Not applied: another scheduler handled these windows first. Either way they are
            // handled, and the next window follows the newest of them.
            if (store.fire_schedule(request).applied) {
                report.cron_enqueued += static_cast<std::int64_t>(plan.enqueue.size());
                report.cron_skipped += skipped;
            }
        }
        const Timestamp next = p.expression.next_after(plan.cursor, p.zone);
        if (!next_due || next < *next_due) next_due = next;
    }

    MaintenanceReport cron_once() {
        std::optional<Timestamp> next_due;
        return cron_pass(next_due);
    }

    // ---- the loops (on the strand) -----------------------------------------------------------

    // A service's pass: runs once, returns how long to wait before the next.
    using Pass = Duration (Impl::*)();

    Duration rescue_pass() {
        rescue_once();
        return options.rescue_interval;
    }
    Duration promote_pass() {
        promote_once();
        return options.promote_interval;
    }
    Duration prune_pass() {
        prune_once();
        return options.prune_interval;
    }
    // Wakes for the next window, and at least every cron_interval to see run-time changes.
    Duration cron_wait_pass() {
        std::optional<Timestamp> next_due;
        cron_pass(next_due);
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
            self->spawn(&Impl::rescue_pass, self->options.rescue_interval, "rescue");
            self->spawn(&Impl::promote_pass, self->options.promote_interval, "promote");
            self->spawn(&Impl::prune_pass, self->options.prune_interval, "prune");
            self->spawn(&Impl::cron_wait_pass, self->options.cron_interval, "cron");
            // A stop requested before this ran spawned no loop, so none will say it ended.
            if (self->active_loops == 0) self->stopped = true;
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
            auto run_pass = [impl = self.get(), pass] {
                return (impl->*pass)();
            };
            Duration wait = interval;
            try {
                wait =
                    co_await detail::run_blocking(self->pool.get_executor(), std::move(run_pass));
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

asio::awaitable<void> Scheduler::async_stop() {
    impl_->stopping = true;
    return detail::stop_and_wait(impl_);
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
        detail::drain(impl_->pool, Impl::pool_threads);
        return;
    }
    impl_->stopping = true;
    detail::stop_blocking(impl_, [this] { detail::drain(impl_->pool, Impl::pool_threads); });
}

MaintenanceReport Scheduler::run_once() {
    MaintenanceReport r = impl_->rescue_once();
    const MaintenanceReport p = impl_->promote_once();
    const MaintenanceReport q = impl_->prune_once();
    const MaintenanceReport c = impl_->cron_once();
    r.promoted = p.promoted;
    r.pruned = q.pruned;
    r.cron_enqueued = c.cron_enqueued;
    r.cron_skipped = c.cron_skipped;
    return r;
}

MaintenanceReport Scheduler::cron_once() {
    return impl_->cron_once();
}

MaintenanceReport Scheduler::rescue_once() {
    return impl_->rescue_once();
}

}  // namespace jobq
