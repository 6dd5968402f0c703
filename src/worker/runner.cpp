// Runner (runner.hpp): one coroutine per job — the handler, its timeout, how it ended, and the
// outcome that follows.

#include "runner.hpp"

#include <exception>
#include <functional>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "alarm.hpp"
#include "jobq/json_input.hpp"
#include "jobq/signals.hpp"
#include "jobq/time_format.hpp"
#include "worker_core.hpp"

namespace asio = boost::asio;

namespace jobq::worker_detail {

namespace {

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

}  // namespace

Runner::Runner(WorkerCore& core) : core_(core), state_(core.state) {}

void Runner::start(Job job, std::size_t qi) {
    core_.heartbeat.before_job_starts();
    ++state_.queues[qi].running;
    ++state_.active_handlers;
    ++state_.counts.claimed;
    ++state_.counts.running;
    auto control = std::make_shared<detail::RunControl>();
    std::weak_ptr<WorkerCore> weak = core_.weak_from_this();
    control->request_heartbeat = [weak] {
        if (auto core = weak.lock()) {
            core->runtime.post([core] { core->heartbeat.beat_now(); });
        }
    };
    state_.running[job.id] = RunningJob{job.attempt, control};
    // One coroutine per job, its cancellation slot bound to the job's signal: a timeout,
    // shutdown or lost lease cancels whatever the handler is awaiting.
    core_.runtime.spawn(run(core_.shared_from_this(), std::move(job), qi, control),
                        control->signal.slot());
}

void Runner::on_cancelled(JobId id) {
    auto it = state_.running.find(id);
    if (it == state_.running.end() || it->second.control->handler_done) return;
    it->second.cancelled = true;
    it->second.control->cancel(CancelReason::cancelled);
}

void Runner::on_lease_lost(JobId id) {
    if (auto it = state_.running.find(id); it != state_.running.end()) {
        it->second.control->cancel(CancelReason::lease_lost);
    }
}

void Runner::cancel_all(CancelReason reason) {
    for (auto& [id, rj] : state_.running) rj.control->cancel(reason);
}

asio::awaitable<void> Runner::run([[maybe_unused]] std::shared_ptr<WorkerCore> keep_alive, Job job,
                                  std::size_t qi, std::shared_ptr<detail::RunControl> control) {
    using How = detail::AttemptEnd::How;
    const Registry::Entry* entry = state_.registry.find(job.kind);
    detail::AttemptEnd end;
    JobContext ctx(std::move(job), control);
    if (!entry) {
        end.how = How::failure;
        end.error_kind = "no_handler";
        end.message = fmt::format("no handler registered for kind {}", ctx.kind());
    } else {
        const std::optional<Duration> timeout =
            ctx.job().timeout ? ctx.job().timeout : entry->options.timeout;
        std::optional<Alarm> timer;
        if (timeout) {
            timer.emplace(core_.strand);
            timer->call_after(*timeout, [control] { control->cancel(CancelReason::timeout); });
        }
        try {
            nlohmann::json result;
            if (entry->async) {
                asio::awaitable<nlohmann::json> handler = entry->async(ctx);
                result = co_await std::move(handler);
            } else {
                std::function<void()> call = [entry, &ctx, &result] {
                    result = entry->blocking(ctx);
                };
                co_await core_.runtime.call_handler(std::move(call));
            }
            // A result that cannot be stored the same way on every backend (NUL, NaN, broken
            // UTF-8, too deep) is the handler's bug: a failed attempt that says so.
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
            end = classify_failure(ctx, e.what(), timeout);
        } catch (...) {
            end = classify_failure(ctx, "unknown exception", timeout);
        }
    }
    // Before the timer is cancelled: a timeout already queued must find the handler done.
    control->handler_done = true;
    finish(ctx.job(), qi, end, entry);
}

detail::AttemptEnd Runner::classify_failure(const JobContext& ctx, std::string what,
                                            const std::optional<Duration>& timeout) const {
    using How = detail::AttemptEnd::How;
    switch (ctx.cancel_reason()) {
        case CancelReason::timeout:
            return {
                How::failure,
                nullptr,
                "timeout",
                fmt::format("timed out after {}", format_duration(timeout.value_or(Duration{}))),
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

void Runner::finish(const Job& job, std::size_t qi, detail::AttemptEnd end,
                    const Registry::Entry* entry) {
    if (auto it = state_.running.find(job.id);
        it != state_.running.end() && it->second.attempt == job.attempt && it->second.cancelled) {
        // The store cancelled the job already; whatever the handler did after being told, the
        // attempt ends as a cancellation (fenced out, as the job is no longer running under
        // this attempt; or, after a late notice, cancelling it for good).
        end = {detail::AttemptEnd::How::cancel, nullptr, "cancel", "cancelled while running", {}};
    }
    const WorkerOptions& options = state_.options;
    const RetryPolicy* kind_policy =
        entry && entry->options.retry ? &*entry->options.retry : nullptr;
    const RetryPolicy& policy = detail::effective_policy(job, kind_policy, options.retry);
    Outcome outcome = detail::decide_outcome(job, options.id, end, policy, state_.clock.now(),
                                             detail::random_unit());
    if (outcome.kind == OutcomeKind::retry || outcome.kind == OutcomeKind::snooze) {
        // Our own retries are known here: wake up for them without asking the store.
        core_.producer.note_due(outcome.run_at);
    }
    if (options.on_attempt) {
        // The application's callback must not be able to unwind the worker's bookkeeping.
        try {
            options.on_attempt({job.id, job.kind, job.attempt,
                                std::string(outcome_name(outcome.kind)),
                                outcome.error ? outcome.error->message : std::string{}, job.queue,
                                job.tenant, job.tags});
        } catch (const std::exception& e) {
            options.on_error(fmt::format("on_attempt threw for job {}: {}", job.id, e.what()));
        } catch (...) {
            options.on_error(fmt::format("on_attempt threw for job {}", job.id));
        }
    }
    --state_.queues[qi].running;
    --state_.active_handlers;
    --state_.counts.running;
    core_.completer.add(std::move(outcome));
    core_.producer.slot_freed(qi);
    core_.lifecycle.maybe_finish_stop();
}

}  // namespace jobq::worker_detail
