// Worker: the producer (claims up to free capacity), the handler runs, the completer (batches
// outcomes) and the heartbeat (batches lease renewals), all on one strand of the caller's
// executor. Store calls run on a small pool of their own; plain-function handlers on another.

#include "jobq/worker.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <random>
#include <unordered_map>

#include <fmt/format.h>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
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
#include "detail/run_control.hpp"
#include "detail/stop_waiter.hpp"
#include "detail/stopped_context.hpp"
#include "detail/weighted_split.hpp"
#include "jobq/backend/notifier.hpp"
#include "jobq/backend/store.hpp"
#include "jobq/error.hpp"
#include "jobq/flow_limits.hpp"
#include "jobq/json_input.hpp"
#include "jobq/registry.hpp"
#include "jobq/signals.hpp"
#include "jobq/time_format.hpp"
#include "jobq/worker_record.hpp"

namespace asio = boost::asio;

namespace jobq {

namespace {

std::string default_worker_id() {
    char host[256] = {};
    if (gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
    std::random_device rd;
    return fmt::format("{}:{}:{:08x}", host[0] ? host : "host", getpid(), rd());
}

void validate(const WorkerOptions& o) {
    auto bad = [](const char* field, const std::string& why) {
        throw Error(ErrorCode::invalid_argument, fmt::format("{}: {}", field, why), field);
    };
    if (o.queues.empty()) bad("queues", "a worker needs at least one queue");
    for (std::size_t i = 0; i < o.queues.size(); ++i) {
        const QueueConfig& q = o.queues[i];
        if (q.name.empty()) bad("queues", "a queue name must not be empty");
        if (q.concurrency < 1) {
            bad("queues", fmt::format("concurrency of queue '{}' must be at least 1 (got {})",
                                      q.name, q.concurrency));
        }
        if (q.weight < 1 || q.weight > max_weight) {
            bad("queues", fmt::format("weight of queue '{}' must be between 1 and {} (got {})",
                                      q.name, max_weight, q.weight));
        }
        for (std::size_t j = 0; j < i; ++j) {
            if (o.queues[j].name == q.name)
                bad("queues", fmt::format("queue '{}' is listed twice", q.name));
        }
    }
    if (o.max_running < 0) {
        bad("max_running", fmt::format("must not be negative (got {})", o.max_running));
    }
    if (o.lease <= Duration::zero()) bad("lease", "must be positive");
    if (o.poll_interval <= Duration::zero()) bad("poll_interval", "must be positive");
    if (o.shutdown_grace < Duration::zero()) bad("shutdown_grace", "must not be negative");
    if (o.complete_batch < 1) bad("complete_batch", "must be at least 1");
    if (o.blocking_threads < 0) bad("blocking_threads", "must not be negative");
}

// Backoff between failed store calls: the store may be busy, restarting, or out of disk; the
// worker keeps everything in memory and tries again.
class StoreBackoff {
  public:
    Duration next() {
        delay_ = std::min(
            delay_ == Duration::zero() ? Duration{std::chrono::milliseconds{50}} : delay_ * 2,
            Duration{std::chrono::seconds{2}});
        return delay_;
    }
    void reset() { delay_ = Duration::zero(); }

  private:
    Duration delay_{};
};

std::string_view outcome_name(OutcomeKind k) {
    switch (k) {
        case OutcomeKind::complete:
            return "completed";
        case OutcomeKind::retry:
            return "retry";
        case OutcomeKind::snooze:
            return "snooze";
        case OutcomeKind::discard:
            return "discard";
        case OutcomeKind::cancel:
            return "cancel";
    }
    return "unknown";
}

// Claims in a row that found nothing in a queue the store said holds more (its tenants beyond
// one claim's reach, every one of them blocked, say): past this many, the queue waits for a
// wake-up or the poll instead of rotating on. 16 claims visit 256 tenants.
constexpr int max_empty_rotations = 16;

}  // namespace

struct Worker::Impl : std::enable_shared_from_this<Impl> {
    enum class Phase { idle, running, stopping, stopped };

    struct QueueState {
        std::string name;
        int concurrency = 0;
        int weight = 1;
        int running = 0;          // handlers running now
        bool work_maybe = true;   // a claim may find something: woken, polled, or last claim full
        int empty_rotations = 0;  // see max_empty_rotations
    };

    // A claimed job until its outcome is written (control->handler_done once it is decided).
    struct RunningJob {
        int attempt = 0;
        std::shared_ptr<detail::RunControl> control;
        bool cancelled = false;  // the job was cancelled in the store while this attempt ran
    };

    struct Claimed {
        std::vector<Job> jobs;
        std::vector<std::string> more;
        std::optional<Timestamp> throttled_until;
        std::optional<Timestamp> next_due;
        bool refreshed_due = false;
    };

    // What one heartbeat tick learnt.
    struct Beat {
        std::vector<LostLease> lost;  // leases not renewed, and why
        std::string record_error;     // the worker record could not be written
    };

    Impl(asio::any_io_executor ex, Store& s, Registry& r, WorkerOptions o)
        : strand(asio::make_strand(std::move(ex))),
          store(s),
          registry(r),
          options(std::move(o)),
          clock(options.clock ? *options.clock : system_clock()),
          wake_timer(strand),
          heartbeat_timer(strand),
          grace_timer(strand) {
        if (options.id.empty()) options.id = default_worker_id();
        for (const QueueConfig& q : options.queues) {
            queues.push_back({q.name, q.concurrency, q.weight});
            queue_names.push_back(q.name);
        }
        auto report = [id = options.id](const std::string& m) {
            fmt::print(stderr, "jobq worker {}: {}\n", id, m);
        };
        if (!options.on_error) {
            options.on_error = report;
        } else {
            // A throwing error hook must not break the loop that reports through it.
            options.on_error = [hook = std::move(options.on_error), report](const std::string& m) {
                try {
                    hook(m);
                } catch (...) {
                    report(m);
                }
            };
        }
    }

    ~Impl() {
        subscription.reset();
        cancel_subscription.reset();
        if (handler_pool) handler_pool->join();
        store_pool.join();
    }

    asio::strand<asio::any_io_executor> strand;
    Store& store;
    Registry& registry;
    WorkerOptions options;
    const Clock& clock;
    static constexpr int store_threads = 2;
    asio::thread_pool store_pool{store_threads};
    std::unique_ptr<asio::thread_pool> handler_pool;

    std::vector<QueueState> queues;
    std::vector<std::string> queue_names;
    std::unordered_map<JobId, RunningJob> running;
    std::vector<Outcome> pending;
    bool flushing = false;
    bool producer_done = false;
    int active_handlers = 0;
    std::optional<Timestamp> next_due;         // earliest scheduled/retryable run_at we know of
    std::optional<Timestamp> throttled_until;  // a rate limit's next token, from a claim
    Timestamp last_claim_at{};                 // a claim at t already saw everything due by t
    Timestamp started_at{};
    asio::steady_timer wake_timer;
    asio::steady_timer heartbeat_timer;
    asio::steady_timer grace_timer;
    bool heartbeat_rearm = false;  // the timer was cancelled to change its cadence, not to beat
    bool wound_down = false;       // stopping, and nothing is left to run or write
    Subscription subscription;
    Subscription cancel_subscription;
    std::vector<std::function<void()>> stop_waiters;

    std::atomic<Phase> phase{Phase::idle};
    std::atomic<std::int64_t> n_claimed{0}, n_completed{0}, n_retried{0}, n_snoozed{0},
        n_discarded{0}, n_cancelled{0}, n_fenced_out{0}, n_throttled{0}, n_running{0};

    // Lease renewals run every lease/3. Where cancellations from other processes are not
    // announced (SQLite), running jobs are also checked every poll interval, which is how a
    // cancellation is noticed.
    Duration idle_heartbeat_every() const {
        return std::max(options.lease / 3, Duration{std::chrono::milliseconds{1}});
    }
    Duration busy_heartbeat_every() {
        const Duration every = idle_heartbeat_every();
        if (store.notifier().reaches_other_processes()) return every;
        return std::max(std::min(every, options.poll_interval),
                        Duration{std::chrono::milliseconds{1}});
    }

    // ---- lifecycle ---------------------------------------------------------------------------

    void start() {
        Phase expected = Phase::idle;
        if (!phase.compare_exchange_strong(expected, Phase::running)) {
            throw Error(ErrorCode::invalid_state, "worker: start() may be called once", "worker");
        }
        started_at = clock.now();
        std::weak_ptr<Impl> weak = weak_from_this();
        subscription = store.notifier().subscribe([weak](std::string_view queue) {
            if (auto self = weak.lock()) {
                asio::post(self->strand, [self, q = std::string(queue)] { self->on_notify(q); });
            }
        });
        cancel_subscription = store.notifier().subscribe_cancelled([weak](JobId id) {
            if (auto self = weak.lock()) {
                asio::post(self->strand, [self, id] { self->on_cancelled(id); });
            }
        });
        auto self = shared_from_this();
        asio::co_spawn(strand, produce(self), asio::detached);
        asio::co_spawn(strand, heartbeat_loop(self), asio::detached);
    }

    void begin_stop() {
        if (phase.load() != Phase::running) return;
        phase = Phase::stopping;
        subscription.reset();
        wake_timer.cancel();
        grace_timer.expires_after(options.shutdown_grace);
        grace_timer.async_wait([self = shared_from_this()](boost::system::error_code ec) {
            if (!ec) self->cancel_handlers(CancelReason::shutdown);
        });
        maybe_finish_stop();
    }

    // Once nothing is left to run or write, the heartbeat loop ends, removes the worker's
    // record (after its own last write, so the record cannot reappear) and completes the stop.
    void maybe_finish_stop() {
        if (phase.load() != Phase::stopping || wound_down || !producer_done ||
            active_handlers > 0 || !pending.empty() || flushing) {
            return;
        }
        wound_down = true;
        grace_timer.cancel();
        heartbeat_timer.cancel();
    }

    void finish_stop() {
        cancel_subscription.reset();
        phase = Phase::stopped;
        for (auto& w : std::exchange(stop_waiters, {})) w();
    }

    // Runs `fn` on the strand once the worker has stopped (at once if it already has).
    void when_stopped(std::function<void()> fn) {
        if (phase.load() == Phase::stopped || phase.load() == Phase::idle) {
            fn();
        } else {
            stop_waiters.push_back(std::move(fn));
        }
    }

    void cancel_handlers(CancelReason reason) {
        for (auto& [id, rj] : running) rj.control->cancel(reason);
    }

    // ---- producer ----------------------------------------------------------------------------

    int total_running() const {
        int n = 0;
        for (const QueueState& q : queues) n += q.running;
        return n;
    }
    // Whether max_running (when set) leaves a slot over all queues.
    bool global_free() const {
        return options.max_running == 0 || total_running() < options.max_running;
    }

    void on_notify(const std::string& queue) {
        bool poke = false;
        for (QueueState& q : queues) {
            if (queue.empty() || q.name == queue) {
                q.work_maybe = true;
                q.empty_rotations = 0;
                poke = poke || q.running < q.concurrency;
            }
        }
        if (poke && global_free()) wake_timer.cancel();
    }

    void wake_all() {
        for (QueueState& q : queues) {
            q.work_maybe = true;
            q.empty_rotations = 0;
        }
        wake_timer.cancel();
    }

    // The store cancelled a job: if this worker runs it, its handler is told to stop.
    void on_cancelled(JobId id) {
        auto it = running.find(id);
        if (it == running.end() || it->second.control->handler_done) return;
        it->second.cancelled = true;
        it->second.control->cancel(CancelReason::cancelled);
    }

    static asio::awaitable<void> produce(std::shared_ptr<Impl> self) {
        co_await self->produce_loop();
    }

    asio::awaitable<void> produce_loop() {
        StoreBackoff backoff;
        while (phase.load() == Phase::running) {
            if (throttled_until && clock.now() >= *throttled_until) {
                // A held-back queue may start jobs again; it may not be one woken since.
                throttled_until.reset();
                for (QueueState& q : queues) q.work_maybe = true;
            }
            ClaimRequest request;
            std::vector<std::size_t> asked;
            for (const auto& [i, limit] : claim_shares()) {
                QueueState& q = queues[i];
                request.queues.push_back({q.name, limit});
                asked.push_back(i);
                q.work_maybe = false;  // a wake-up during the claim sets it again
            }
            if (request.queues.empty()) {
                co_await idle_wait();
                continue;
            }
            request.worker_id = options.id;
            request.now = clock.now();
            request.lease_expires_at = request.now + options.lease;
            request.clock = &clock;  // the store re-reads it under its lock (see ClaimRequest)
            Claimed result;
            bool failed = false;
            auto claim = [&store = store, &request, &names = queue_names] {
                Claimed r;
                ClaimResult claimed = store.claim(request);
                r.jobs = std::move(claimed.jobs);
                r.more = std::move(claimed.more);
                r.throttled_until = claimed.throttled_until;
                std::size_t wanted = 0;
                for (const QueueDemand& d : request.queues)
                    wanted += static_cast<std::size_t>(d.limit);
                // Only when some queue ran dry is it worth learning when the next scheduled
                // job is due.
                if (r.jobs.size() < wanted) {
                    r.next_due = store.next_run_at(names);
                    r.refreshed_due = true;
                }
                return r;
            };
            try {
                result = co_await detail::run_blocking(store_pool.get_executor(), std::move(claim));
                backoff.reset();
            } catch (const std::exception& e) {
                options.on_error(fmt::format("claim failed (will retry): {}", e.what()));
                for (std::size_t i : asked) queues[i].work_maybe = true;
                failed = true;
            }
            if (failed) {
                co_await sleep(backoff.next());
                continue;
            }
            last_claim_at = request.now;
            if (result.refreshed_due) next_due = result.next_due;
            if (result.throttled_until) {
                ++n_throttled;
                if (!throttled_until || *result.throttled_until < *throttled_until) {
                    throttled_until = result.throttled_until;
                }
            }
            std::vector<int> got(queues.size(), 0);
            for (Job& job : result.jobs) {
                const std::size_t qi = queue_index(job.queue);
                ++got[qi];
                start_job(std::move(job), qi);
            }
            for (std::size_t k = 0; k < asked.size(); ++k) {
                QueueState& q = queues[asked[k]];
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
                // Otherwise a short claim (no work, or limits in the way) waits for a wake-up:
                // a new job, a finished limited job, a raised limit, the poll.
            }
        }
        producer_done = true;
        maybe_finish_stop();
    }

    // How many jobs to ask of each queue that may have work: its free slots, and when
    // max_running is set, the free slots over all queues shared out by weight.
    std::vector<std::pair<std::size_t, int>> claim_shares() const {
        std::vector<std::pair<std::size_t, int>> shares;
        std::vector<SlotDemand> demands;
        for (std::size_t i = 0; i < queues.size(); ++i) {
            const QueueState& q = queues[i];
            const int free = q.concurrency - q.running;
            if (free > 0 && q.work_maybe) {
                shares.emplace_back(i, free);
                demands.push_back({free, q.weight});
            }
        }
        if (options.max_running == 0 || shares.empty()) return shares;
        const int total_free = options.max_running - total_running();
        if (total_free <= 0) return {};
        const std::vector<int> split = split_by_weight(total_free, demands);
        std::vector<std::pair<std::size_t, int>> out;
        for (std::size_t k = 0; k < shares.size() && k < split.size(); ++k) {
            if (split[k] > 0) out.emplace_back(shares[k].first, split[k]);
        }
        return out;
    }

    // Sleeps until a wake-up, the next due job, or the poll interval; never busy-waits.
    asio::awaitable<void> idle_wait() {
        const bool any_free =
            global_free() && std::any_of(queues.begin(), queues.end(), [](const QueueState& q) {
                return q.running < q.concurrency;
            });
        Duration wait = options.poll_interval;
        if (!any_free) {
            wait = std::chrono::hours{24};  // only a finishing handler (or stop) can help
        } else {
            const Timestamp now = clock.now();
            if (next_due && *next_due > last_claim_at) {
                wait = std::clamp(*next_due - now, Duration::zero(), wait);
            }
            if (throttled_until) wait = std::clamp(*throttled_until - now, Duration::zero(), wait);
        }
        wake_timer.expires_after(wait);
        boost::system::error_code ec;
        co_await wake_timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        if (!ec && any_free) {
            // Poll tick or due time: look everywhere, other processes may have added work.
            for (QueueState& q : queues) {
                q.work_maybe = true;
                q.empty_rotations = 0;
            }
        }
    }

    asio::awaitable<void> sleep(Duration d) {
        asio::steady_timer t(strand, d);
        boost::system::error_code ec;
        co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }

    std::size_t queue_index(const std::string& name) const {
        for (std::size_t i = 0; i < queues.size(); ++i) {
            if (queues[i].name == name) return i;
        }
        return 0;  // a store never returns a queue that was not asked for
    }

    // ---- running a job -----------------------------------------------------------------------

    void start_job(Job job, std::size_t qi) {
        if (running.empty() && busy_heartbeat_every() < idle_heartbeat_every()) {
            // The heartbeat sleeps at the idle cadence; bring its next tick closer.
            heartbeat_rearm = true;
            heartbeat_timer.cancel();
        }
        ++queues[qi].running;
        ++active_handlers;
        ++n_claimed;
        ++n_running;
        auto control = std::make_shared<detail::RunControl>();
        std::weak_ptr<Impl> weak = weak_from_this();
        control->request_heartbeat = [weak] {
            if (auto self = weak.lock()) {
                asio::post(self->strand, [self] { self->heartbeat_timer.cancel(); });
            }
        };
        running[job.id] = RunningJob{job.attempt, control};
        // One coroutine per job, its cancellation slot bound to the job's signal: a timeout,
        // shutdown or lost lease cancels whatever the handler is awaiting.
        asio::co_spawn(strand, run_job(shared_from_this(), std::move(job), qi, control),
                       asio::bind_cancellation_slot(control->signal.slot(), asio::detached));
    }

    asio::thread_pool& blocking_pool() {
        if (!handler_pool) {
            int n = options.blocking_threads;
            if (n == 0) {
                for (const QueueState& q : queues) n += q.concurrency;
                if (options.max_running > 0) n = std::min(n, options.max_running);
                n = std::min(n, 64);
            }
            handler_pool = std::make_unique<asio::thread_pool>(static_cast<std::size_t>(n));
        }
        return *handler_pool;
    }

    static asio::awaitable<void> run_job(std::shared_ptr<Impl> self, Job job, std::size_t qi,
                                         std::shared_ptr<detail::RunControl> control) {
        using How = detail::AttemptEnd::How;
        const Registry::Entry* entry = self->registry.find(job.kind);
        detail::AttemptEnd end;
        JobContext ctx(std::move(job), control);
        if (!entry) {
            end.how = How::failure;
            end.error_kind = "no_handler";
            end.message = fmt::format("no handler registered for kind {}", ctx.kind());
        } else {
            const std::optional<Duration> timeout =
                ctx.job().timeout ? ctx.job().timeout : entry->options.timeout;
            std::optional<asio::steady_timer> timer;
            if (timeout) {
                timer.emplace(self->strand, *timeout);
                timer->async_wait([control](boost::system::error_code ec) {
                    if (!ec) control->cancel(CancelReason::timeout);
                });
            }
            try {
                nlohmann::json result;
                if (entry->async) {
                    asio::awaitable<nlohmann::json> handler = entry->async(ctx);
                    result = co_await std::move(handler);
                } else {
                    auto call = [entry, &ctx] {
                        return entry->blocking(ctx);
                    };
                    result = co_await detail::run_blocking(self->blocking_pool().get_executor(),
                                                           std::move(call));
                }
                // A result that cannot be stored the same way on every backend (NUL, NaN,
                // broken UTF-8, too deep) is the handler's bug: a failed attempt that says so.
                if (!result.is_null()) check_json_input(result, "result");
                end.how = How::success;
                end.result = std::move(result);
            } catch (const RetryAfter& s) {
                end = {How::retry_after, nullptr, "retry", s.what(), s.delay()};
            } catch (const Snooze& s) {
                end = {How::snooze, nullptr, "", "", s.delay()};
            } catch (const Discard& s) {
                end = {How::discard, nullptr, "discard", s.what(), {}};
            } catch (const Cancel& s) {
                end = {How::cancel, nullptr, "cancel", s.what(), {}};
            } catch (const std::exception& e) {
                end = self->classify_failure(ctx, e.what(), timeout);
            } catch (...) {
                end = self->classify_failure(ctx, "unknown exception", timeout);
            }
        }
        // Before the timer is cancelled: a timeout already queued must find the handler done.
        control->handler_done = true;
        self->finish_attempt(ctx.job(), qi, end, entry);
    }

    // An exception after a cancellation request is that request's doing; say which.
    detail::AttemptEnd classify_failure(const JobContext& ctx, std::string what,
                                        const std::optional<Duration>& timeout) const {
        using How = detail::AttemptEnd::How;
        switch (ctx.cancel_reason()) {
            case CancelReason::timeout:
                return {How::failure,
                        nullptr,
                        "timeout",
                        fmt::format("timed out after {}",
                                    format_duration(timeout.value_or(Duration{}))),
                        {}};
            case CancelReason::shutdown:
                return {How::shutdown,
                        nullptr,
                        "shutdown",
                        "worker stopped before the handler finished",
                        {}};
            case CancelReason::lease_lost:
                return {How::failure,
                        nullptr,
                        "lease_lost",
                        "the worker no longer held the job (cancelled or rescued)",
                        {}};
            case CancelReason::cancelled:
                return {How::cancel, nullptr, "cancel", "cancelled while running", {}};
            case CancelReason::none:
                break;
        }
        return {How::failure, nullptr, "exception", std::move(what), {}};
    }

    void finish_attempt(const Job& job, std::size_t qi, detail::AttemptEnd end,
                        const Registry::Entry* entry) {
        if (auto it = running.find(job.id);
            it != running.end() && it->second.attempt == job.attempt && it->second.cancelled) {
            // The store cancelled the job already; whatever the handler did after being told,
            // the attempt ends as a cancellation (fenced out, as the job is no longer running
            // under this attempt; or, after a late notice, cancelling it for good).
            end = {
                detail::AttemptEnd::How::cancel, nullptr, "cancel", "cancelled while running", {}};
        }
        const RetryPolicy* kind_policy =
            entry && entry->options.retry ? &*entry->options.retry : nullptr;
        const RetryPolicy& policy = detail::effective_policy(job, kind_policy, options.retry);
        Outcome outcome = detail::decide_outcome(job, options.id, end, policy, clock.now(),
                                                 detail::random_unit());
        if (outcome.kind == OutcomeKind::retry || outcome.kind == OutcomeKind::snooze) {
            // Our own retries are known here: wake up for them without asking the store.
            if (!next_due || outcome.run_at < *next_due) next_due = outcome.run_at;
        }
        if (options.on_attempt) {
            // The application's callback must not be able to unwind the worker's bookkeeping.
            try {
                options.on_attempt({job.id, job.kind, job.attempt,
                                    std::string(outcome_name(outcome.kind)),
                                    outcome.error ? outcome.error->message : std::string{}});
            } catch (const std::exception& e) {
                options.on_error(fmt::format("on_attempt threw for job {}: {}", job.id, e.what()));
            } catch (...) {
                options.on_error(fmt::format("on_attempt threw for job {}", job.id));
            }
        }
        --queues[qi].running;
        --active_handlers;
        --n_running;
        pending.push_back(std::move(outcome));
        if (!flushing) {
            flushing = true;
            asio::co_spawn(strand, flush(shared_from_this()), asio::detached);
        }
        // A freed slot of this queue (or, under max_running, of any queue) may start a job.
        const bool wanted = options.max_running > 0
                                ? std::any_of(queues.begin(), queues.end(),
                                              [](const QueueState& q) { return q.work_maybe; })
                                : queues[qi].work_maybe;
        if (wanted && phase.load() == Phase::running) wake_timer.cancel();
        maybe_finish_stop();
    }

    // ---- completer ---------------------------------------------------------------------------

    static asio::awaitable<void> flush(std::shared_ptr<Impl> self) { co_await self->flush_loop(); }

    asio::awaitable<void> flush_loop() {
        StoreBackoff backoff;
        while (!pending.empty()) {
            const std::size_t n =
                std::min(pending.size(), static_cast<std::size_t>(options.complete_batch));
            std::vector<Outcome> batch(
                std::make_move_iterator(pending.begin()),
                std::make_move_iterator(pending.begin() + static_cast<std::ptrdiff_t>(n)));
            pending.erase(pending.begin(), pending.begin() + static_cast<std::ptrdiff_t>(n));
            std::vector<bool> applied;
            for (bool written = false; !written;) {
                auto write = [&store = store, &batch] {
                    return store.complete(batch);
                };
                try {
                    applied =
                        co_await detail::run_blocking(store_pool.get_executor(), std::move(write));
                    backoff.reset();
                    written = true;
                } catch (const std::exception& e) {
                    // The batch is one transaction: nothing of it was applied; keep it and retry.
                    // Meanwhile the heartbeat keeps renewing these jobs' leases.
                    options.on_error(fmt::format("recording {} outcomes failed (will retry): {}",
                                                 batch.size(), e.what()));
                }
                if (!written) co_await sleep(backoff.next());
            }
            for (std::size_t i = 0; i < batch.size(); ++i) {
                const Outcome& o = batch[i];
                bool cancelled_in_store = false;
                if (auto it = running.find(o.id); it != running.end()) {
                    cancelled_in_store = it->second.cancelled && it->second.attempt == o.attempt;
                    running.erase(it);
                }
                if (cancelled_in_store) {
                    // Not a lost lease: the job ended cancelled, whether the store had already
                    // cancelled it (fenced out) or this outcome did.
                    ++n_cancelled;
                    continue;
                }
                if (i >= applied.size() || !applied[i]) {
                    ++n_fenced_out;
                    continue;
                }
                switch (o.kind) {
                    case OutcomeKind::complete:
                        ++n_completed;
                        break;
                    case OutcomeKind::retry:
                        ++n_retried;
                        break;
                    case OutcomeKind::snooze:
                        ++n_snoozed;
                        break;
                    case OutcomeKind::discard:
                        ++n_discarded;
                        break;
                    case OutcomeKind::cancel:
                        ++n_cancelled;
                        break;
                }
            }
        }
        flushing = false;
        maybe_finish_stop();
    }

    // ---- heartbeat ---------------------------------------------------------------------------

    static asio::awaitable<void> heartbeat_loop(std::shared_ptr<Impl> self) {
        co_await self->heartbeat_loop_body();
    }

    // Ticks every lease/3 (busy_heartbeat_every while jobs run): renews the leases of running
    // jobs, notices jobs lost (cancelled or rescued), and keeps the worker's record alive. Once
    // the worker has wound down, removes its record and completes the stop.
    asio::awaitable<void> heartbeat_loop_body() {
        using steady = std::chrono::steady_clock;
        std::optional<steady::time_point> recorded_at;
        steady::time_point last_tick = steady::now();
        steady::time_point next_tick = last_tick;  // at once: the record appears at start
        while (!wound_down) {
            if (steady::now() < next_tick) {
                heartbeat_timer.expires_at(next_tick);
                boost::system::error_code ec;
                co_await heartbeat_timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
                if (wound_down) break;
                if (ec && std::exchange(heartbeat_rearm, false)) {
                    next_tick = std::min(next_tick, steady::now() + heartbeat_every());
                    continue;
                }
                // Otherwise the time came, or a handler asked for a heartbeat now.
            }
            last_tick = steady::now();
            // Refreshed at least every lease/2, so the record never expires while we live.
            const bool record =
                !recorded_at || last_tick - *recorded_at >= idle_heartbeat_every() / 2;
            if (record || !running.empty()) {
                if (co_await tick(record) && record) recorded_at = last_tick;
            }
            heartbeat_rearm = false;
            next_tick = last_tick + heartbeat_every();
        }
        auto unregister = [&store = store, &id = options.id] {
            store.remove_worker(id);
        };
        try {
            co_await detail::run_blocking(store_pool.get_executor(), std::move(unregister));
        } catch (const std::exception& e) {
            options.on_error(fmt::format("removing the worker record failed: {}", e.what()));
        }
        finish_stop();
    }

    Duration heartbeat_every() {
        return running.empty() ? idle_heartbeat_every() : busy_heartbeat_every();
    }

    // One heartbeat: the worker record (when `record`), then the leases of running jobs, in
    // one blocking call. Returns whether the record was written.
    asio::awaitable<bool> tick(bool record) {
        HeartbeatRequest request;
        request.worker_id = options.id;
        request.jobs.reserve(running.size());
        for (const auto& [id, rj] : running) request.jobs.push_back({id, rj.attempt});
        const Timestamp now = clock.now();
        request.lease_expires_at = now + options.lease;
        WorkerRecord self_record;
        if (record) self_record = {options.id, queue_names, started_at, now, now + options.lease};
        auto beat = [&store = store, &request, &self_record, record] {
            Beat b;
            if (record) {
                // A failed record must not cost the leases: report it, renew anyway.
                try {
                    store.record_worker(self_record);
                } catch (const std::exception& e) {
                    b.record_error = e.what();
                    if (b.record_error.empty()) b.record_error = "unknown error";
                } catch (...) {
                    b.record_error = "unknown error";
                }
            }
            if (!request.jobs.empty()) b.lost = store.heartbeat(request);
            return b;
        };
        Beat b;
        try {
            b = co_await detail::run_blocking(store_pool.get_executor(), std::move(beat));
        } catch (const std::exception& e) {
            options.on_error(fmt::format("heartbeat failed (will retry): {}", e.what()));
            co_return false;
        }
        if (!b.record_error.empty()) {
            options.on_error(
                fmt::format("recording the worker failed (will retry): {}", b.record_error));
        }
        for (const LostLease& l : b.lost) {
            if (l.why == LeaseLoss::cancelled) {
                on_cancelled(l.id);  // as if the store's notifier had said so
            } else if (auto it = running.find(l.id); it != running.end()) {
                it->second.control->cancel(CancelReason::lease_lost);
            }
        }
        const bool recorded = record && b.record_error.empty();
        co_return recorded;
    }
};

Worker::Worker(asio::any_io_executor executor, Store& store, Registry& registry,
               WorkerOptions options) {
    validate(options);
    impl_ = std::make_shared<Impl>(std::move(executor), store, registry, std::move(options));
}

Worker::~Worker() {
    if (impl_ && impl_->phase.load() == Impl::Phase::running) request_stop();
}

void Worker::start() {
    impl_->start();
}

void Worker::request_stop() {
    asio::post(impl_->strand, [self = impl_] { self->begin_stop(); });
}

asio::awaitable<void> Worker::async_stop() {
    return detail::stop_and_wait(impl_);
}

void Worker::stop() {
    // Nothing to wait for, and the strand may no longer be run by anyone (a second stop after
    // io_context::run returned would block for ever).
    const auto p = impl_->phase.load();
    if (p == Impl::Phase::idle || p == Impl::Phase::stopped) return;
    if (detail::context_stopped(impl_->strand.get_inner_executor())) {
        request_stop();  // carried out if the context runs again
        detail::drain(impl_->store_pool, Impl::store_threads);
        return;
    }
    detail::stop_blocking(impl_, [this] { detail::drain(impl_->store_pool, Impl::store_threads); });
}

bool Worker::running() const noexcept {
    const auto p = impl_->phase.load();
    return p == Impl::Phase::running || p == Impl::Phase::stopping;
}

void Worker::wake() {
    asio::post(impl_->strand, [self = impl_] { self->wake_all(); });
}

const std::string& Worker::id() const noexcept {
    return impl_->options.id;
}

WorkerCounters Worker::counters() const {
    const Impl& i = *impl_;
    WorkerCounters c;
    c.claimed = i.n_claimed.load();
    c.completed = i.n_completed.load();
    c.retried = i.n_retried.load();
    c.snoozed = i.n_snoozed.load();
    c.discarded = i.n_discarded.load();
    c.cancelled = i.n_cancelled.load();
    c.fenced_out = i.n_fenced_out.load();
    c.throttled = i.n_throttled.load();
    c.running = i.n_running.load();
    return c;
}

}  // namespace jobq
