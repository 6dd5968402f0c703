// demo_worker: a long-running worker process for a handful of demo job kinds. The integration
// tests start, kill and restart it; the benchmarks measure it idle.
//
//   demo_worker --db PATH_OR_URL [--concurrency N] [--queue Q]... [--lease-ms N] [--poll-ms N]
//               [--rescue-ms N] [--log PATH] [--grace-ms N] [--cron NAME=EXPR]...
//
// --db takes what `jobq --db` takes: a SQLite path or URL, or postgresql://... (see
// tools/common/open_store.hpp); the schema is migrated at start. --queue may be given more than
// once: the worker serves each queue with --concurrency slots of its own.
//
// Kinds:
//   demo.noop                    returns at once
//   demo.sleep  {"ms": N}        waits N ms on a timer (cancellable: stop, timeout, lost lease)
//   demo.flaky  {"fail_times": N} fails attempts 1..N, then succeeds
//   demo.fail                    always fails
//   demo.echo   {...}            completes with its payload as its result
//   demo.collect                 completes with its dependencies' results as its result, an
//                                object by their names in the workflow
//
// Built with the kinds module, it also runs the built-in kinds, configured from the environment
// (README, "Built-in job kinds"): jobq.http always (JOBQ_HTTP_ALLOW_HOSTS,
// JOBQ_WEBHOOK_SECRET_<NAME>, ...), jobq.email when JOBQ_SMTP_URL is set, and failure notices
// when a JOBQ_NOTIFY_* channel is set. Its ready line lists them.
//
// SIGINT or SIGTERM stops it gracefully: running handlers get --grace-ms to finish, then are
// cancelled and recorded so they run again; the exit status is 0 once every outcome is written.
// With --log PATH every handler start appends "start <job id> <attempt> <worker id>\n" to PATH.
// Each --cron NAME=EXPR declares a schedule on the scheduler that enqueues demo.noop on --queue
// at every window (UTC, default misfire policy); the cron tests race several of these.

#ifdef JOBQ_DEMO_WITH_KINDS
#include "jobq/kinds/email_kind.hpp"
#include "jobq/kinds/email_options.hpp"
#include "jobq/kinds/failure_notifier.hpp"
#include "jobq/kinds/http_kind.hpp"
#endif

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <nlohmann/json.hpp>

#include "common/flag_value.hpp"
#include "common/open_store.hpp"
#include "jobq/backend/store.hpp"
#include "jobq/error.hpp"
#include "jobq/job_context.hpp"
#include "jobq/registry.hpp"
#include "jobq/scheduler.hpp"
#include "jobq/worker.hpp"

namespace asio = boost::asio;
using std::chrono::milliseconds;

namespace {

using jobq::tools::BadArgs;
using jobq::tools::parse_integer_flag;

constexpr std::string_view usage =
    "usage: demo_worker --db PATH_OR_URL [--concurrency N] [--queue Q]... [--lease-ms N]\n"
    "                   [--poll-ms N] [--rescue-ms N] [--log PATH] [--grace-ms N]\n"
    "                   [--cron NAME=EXPR]...\n";

struct Args {
    std::string db;
    std::vector<std::string> queues;  // empty: "default"
    int concurrency = 10;
    int lease_ms = 30000;
    int poll_ms = 1000;
    int rescue_ms = 5000;
    int grace_ms = 15000;
    std::string log;
    std::vector<std::pair<std::string, std::string>> cron;  // name, expression
};

Args parse_args(int argc, char** argv) {
    Args args;
    bool have_db = false;
    for (int i = 1; i < argc; ++i) {
        const std::string_view flag = argv[i];
        if (flag == "--help" || flag == "-h") {
            fmt::print("{}", usage);
            std::exit(0);
        }
        if (i + 1 >= argc) throw BadArgs(fmt::format("{}: missing value", flag));
        const std::string_view value = argv[++i];
        if (flag == "--db") {
            args.db = value;
            have_db = true;
        } else if (flag == "--queue") {
            if (value.empty()) throw BadArgs("--queue: must not be empty");
            args.queues.emplace_back(value);
        } else if (flag == "--concurrency") {
            args.concurrency = static_cast<int>(parse_integer_flag(flag, value, 1));
        } else if (flag == "--lease-ms") {
            args.lease_ms = static_cast<int>(parse_integer_flag(flag, value, 1));
        } else if (flag == "--poll-ms") {
            args.poll_ms = static_cast<int>(parse_integer_flag(flag, value, 1));
        } else if (flag == "--rescue-ms") {
            args.rescue_ms = static_cast<int>(parse_integer_flag(flag, value, 1));
        } else if (flag == "--grace-ms") {
            args.grace_ms = static_cast<int>(parse_integer_flag(flag, value, 0));
        } else if (flag == "--cron") {
            const std::size_t eq = value.find('=');
            if (eq == std::string_view::npos || eq == 0)
                throw BadArgs("--cron: expected NAME=EXPR");
            args.cron.emplace_back(value.substr(0, eq), value.substr(eq + 1));
        } else if (flag == "--log") {
            if (value.empty()) throw BadArgs("--log: must not be empty");
            args.log = value;
        } else {
            throw BadArgs(fmt::format("unknown option '{}'", flag));
        }
    }
    if (!have_db) args.db = jobq::tools::default_database_url();
    return args;
}

// The start log. One write(2) per line on an O_APPEND descriptor: the kernel appends each such
// small write whole, so lines from several processes (and threads) never interleave.
class StartLog {
  public:
    explicit StartLog(const std::string& path) {
        if (path.empty()) return;
        fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (fd_ < 0)
            throw std::runtime_error(fmt::format("--log {}: {}", path, std::strerror(errno)));
    }
    ~StartLog() {
        if (fd_ >= 0) ::close(fd_);
    }
    StartLog(const StartLog&) = delete;
    StartLog& operator=(const StartLog&) = delete;

    void started(const jobq::JobContext& ctx, const std::string& worker_id) const {
        if (fd_ < 0) return;
        const std::string line =
            fmt::format("start {} {} {}\n", ctx.id(), ctx.attempt(), worker_id);
        // A short write here would break the one-line-per-write promise; tests would see it.
        const ssize_t n = ::write(fd_, line.data(), line.size());
        if (n != static_cast<ssize_t>(line.size())) {
            fmt::print(stderr, "demo_worker: writing the start log failed: {}\n",
                       n < 0 ? std::strerror(errno) : "short write");
        }
    }

  private:
    int fd_ = -1;
};

void register_kinds(jobq::Registry& registry, const StartLog& log, const std::string& worker_id) {
    registry.add("demo.noop", [&log, &worker_id](jobq::JobContext& ctx) -> asio::awaitable<void> {
        log.started(ctx, worker_id);
        co_return;
    });
    registry.add("demo.sleep", [&log, &worker_id](jobq::JobContext& ctx) -> asio::awaitable<void> {
        log.started(ctx, worker_id);
        const int ms = ctx.payload().value("ms", 0);
        // An awaited timer is cancelled with the attempt (stop, timeout, lost lease), so a
        // stopping worker does not wait out the sleep.
        asio::steady_timer timer{co_await asio::this_coro::executor, milliseconds{ms}};
        co_await timer.async_wait(asio::use_awaitable);
    });
    registry.add("demo.flaky", [&log, &worker_id](jobq::JobContext& ctx) -> asio::awaitable<void> {
        log.started(ctx, worker_id);
        const int fail_times = ctx.payload().value("fail_times", 0);
        if (ctx.attempt() <= fail_times) {
            throw std::runtime_error(
                fmt::format("demo.flaky: failing attempt {} of {}", ctx.attempt(), fail_times));
        }
        co_return;
    });
    registry.add("demo.fail", [&log, &worker_id](jobq::JobContext& ctx) -> asio::awaitable<void> {
        log.started(ctx, worker_id);
        throw std::runtime_error("demo.fail: this job always fails");
        co_return;  // makes the lambda a coroutine
    });
    // The two ends of a workflow demo: echo jobs fan out and produce results, a collect job
    // fans in and shows what a dependent reads of them.
    registry.add("demo.echo",
                 [&log, &worker_id](jobq::JobContext& ctx) -> asio::awaitable<nlohmann::json> {
                     log.started(ctx, worker_id);
                     co_return ctx.payload();
                 });
    registry.add("demo.collect",
                 [&log, &worker_id](jobq::JobContext& ctx) -> asio::awaitable<nlohmann::json> {
                     log.started(ctx, worker_id);
                     co_return ctx.dependency_results();
                 });
}

// A worker may start before its database server is up (a fleet restarting together), so an
// unreachable database is waited for, up to a minute, rather than fatal at once. Only
// `unavailable` is retried: bad options or a schema newer than this build are reported at once
// (and a database that stays unreachable, say a mistyped libpq parameter, after the minute).
// Once running, the Worker and Scheduler ride out connection losses themselves: each failed
// store call is logged and retried.
void migrate_when_reachable(jobq::Store& store) {
    const auto give_up_at = std::chrono::steady_clock::now() + std::chrono::minutes{1};
    milliseconds delay{200};
    for (;;) {
        try {
            store.migrate();
            return;
        } catch (const jobq::Error& e) {
            if (e.code() != jobq::ErrorCode::unavailable ||
                std::chrono::steady_clock::now() + delay > give_up_at) {
                throw;
            }
            fmt::print(stderr, "demo_worker: database unavailable, retrying in {} ms: {}\n",
                       delay.count(), e.what());
            std::this_thread::sleep_for(delay);
            delay = std::min(delay * 2, milliseconds{5000});
        }
    }
}

// Graceful stop: the worker waits out its grace period and writes every outcome, the scheduler
// finishes its pass in progress; then nothing is left on the io_context and io.run() returns.
asio::awaitable<void> stop_all(jobq::Worker& worker, jobq::Scheduler& scheduler,
                               asio::signal_set& signals) {
    co_await worker.async_stop();
    co_await scheduler.async_stop();
    signals.cancel();
}

}  // namespace

int main(int argc, char** argv) {
    Args args;
    try {
        args = parse_args(argc, argv);
    } catch (const BadArgs& e) {
        fmt::print(stderr, "demo_worker: {}\n{}", e.what(), usage);
        return 2;
    }

    try {
        std::unique_ptr<jobq::Store> store = jobq::tools::open_store(args.db);
        migrate_when_reachable(*store);
        StartLog log{args.log};

        asio::io_context io;
        jobq::WorkerOptions options;
        if (args.queues.empty()) args.queues.emplace_back("default");
        options.queues.clear();
        for (const std::string& q : args.queues) options.queues.push_back({q, args.concurrency});
        options.lease = milliseconds{args.lease_ms};
        options.poll_interval = milliseconds{args.poll_ms};
        options.shutdown_grace = milliseconds{args.grace_ms};
        // Quicker than the library's default (from 1 s) so demos and tests see retries soon.
        options.retry =
            jobq::RetryPolicy::exponential(milliseconds{200}, 2.0, std::chrono::seconds{30});

        jobq::SchedulerOptions scheduler_options;
        scheduler_options.rescue_interval = milliseconds{args.rescue_ms};
        scheduler_options.promote_interval = milliseconds{args.poll_ms};
        scheduler_options.retry = options.retry;
        for (const auto& [name, expression] : args.cron) {
            scheduler_options.cron.push_back(jobq::CronSchedule{
                name, expression, jobq::JobSpec{"demo.noop"}.queue(args.queues.front())});
        }

        // The worker picks its own id; handlers read it through this string once it exists.
        std::string worker_id;
        jobq::Registry registry;
        register_kinds(registry, log, worker_id);
        std::vector<std::string> builtin;
#ifdef JOBQ_DEMO_WITH_KINDS
        jobq::kinds::add_http_kind(registry, jobq::kinds::http_options_from_env());
        builtin.emplace_back("jobq.http");
        if (std::getenv("JOBQ_SMTP_URL")) {
            jobq::kinds::add_email_kind(registry, jobq::kinds::email_options_from_env());
            builtin.emplace_back("jobq.email");
        }
        jobq::Queue notice_queue{*store};
        std::unique_ptr<jobq::kinds::FailureNotifier> notifier;
        if (auto notify = jobq::kinds::notifier_options_from_env(); !notify.channels.empty()) {
            notifier = std::make_unique<jobq::kinds::FailureNotifier>(notice_queue, notify);
            notifier->add_to(registry);
            notifier->attach(options);
            builtin.emplace_back("jobq.notice");
        }
#endif
        jobq::Worker worker{io.get_executor(), *store, registry, options};
        worker_id = worker.id();
        jobq::Scheduler scheduler{io.get_executor(), *store, scheduler_options};

        asio::signal_set signals{io, SIGINT, SIGTERM};
        signals.async_wait([&](boost::system::error_code ec, int signo) {
            if (ec) return;
            fmt::print("demo_worker stopping on signal {}\n", signo);
            std::fflush(stdout);
            asio::co_spawn(io, stop_all(worker, scheduler, signals), asio::detached);
            // An operator who asks twice does not want to wait for the grace period.
            signals.async_wait([](boost::system::error_code ec2, int) {
                if (!ec2) std::_Exit(130);
            });
        });

        worker.start();
        scheduler.start();
        fmt::print("demo_worker ready id={} queue={} concurrency={}{}{}\n", worker.id(),
                   fmt::join(args.queues, ","), args.concurrency,
                   builtin.empty() ? "" : " builtin=", fmt::join(builtin, ","));
        std::fflush(stdout);  // tests wait for this line through a pipe or a file

        io.run();  // returns once the worker and the scheduler have stopped

        const jobq::WorkerCounters c = worker.counters();
        fmt::print(
            "demo_worker stopped: claimed {} completed {} retried {} discarded {} "
            "fenced_out {}\n",
            c.claimed, c.completed, c.retried, c.discarded, c.fenced_out);
        return 0;
    } catch (const jobq::Error& e) {
        fmt::print(stderr, "demo_worker: {}\n", e.what());
        return e.code() == jobq::ErrorCode::invalid_argument ? 2 : 1;
    } catch (const std::exception& e) {
        fmt::print(stderr, "demo_worker: {}\n", e.what());
        return 1;
    }
}
