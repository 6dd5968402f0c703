// WorkerOptions checked and completed (worker_options.hpp).

#include "worker_options.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <random>

#include <fmt/format.h>

#include "jobq/error.hpp"
#include "jobq/flow_limits.hpp"

namespace jobq::worker_detail {

namespace {

std::string default_worker_id() {
    char host[256] = {};
    if (gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
    std::random_device rd;
    return fmt::format("{}:{}:{:08x}", host[0] ? host : "host", getpid(), rd());
}

}  // namespace

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

WorkerOptions with_defaults(WorkerOptions options) {
    if (options.id.empty()) options.id = default_worker_id();
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
    return options;
}

int handler_threads(const WorkerOptions& options) {
    int n = options.blocking_threads;
    if (n == 0) {
        for (const QueueConfig& q : options.queues) n += q.concurrency;
        if (options.max_running > 0) n = std::min(n, options.max_running);
        n = std::min(n, 64);
    }
    return n;
}

}  // namespace jobq::worker_detail
