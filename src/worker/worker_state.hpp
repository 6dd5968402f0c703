#pragma once
// WorkerState: the data the parts of a Worker share (worker_core.hpp lists the parts): its
// options, the queues it serves with their running counts, the jobs it runs, its phase and its
// counters. Plain data on the worker's strand: every part reads and writes it there, and only
// `phase` and the counters are read from other threads (Worker::running(), counters()).

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "detail/run_control.hpp"
#include "jobq/clock.hpp"
#include "jobq/job.hpp"
#include "jobq/worker.hpp"

namespace jobq {
class Registry;
class Store;
}  // namespace jobq

namespace jobq::worker_detail {

/// Where a worker is: idle until start(), running, stopping (no new claims, handlers and
/// outcomes finishing), stopped.
enum class Phase { idle, running, stopping, stopped };

/// One queue the worker serves.
struct QueueState {
    std::string name;
    int concurrency = 0;
    int weight = 1;
    int running = 0;          // handlers running now
    bool work_maybe = true;   // a claim may find something: woken, polled, or last claim full
    int empty_rotations = 0;  // claims in a row that found nothing though told of more (producer)
};

/// A claimed job until its outcome is written (control->handler_done once it is decided).
struct RunningJob {
    int attempt = 0;
    std::shared_ptr<detail::RunControl> control;
    bool cancelled = false;  // the job was cancelled in the store while this attempt ran
};

/// What the worker counts (WorkerCounters), readable from any thread.
struct WorkerCounts {
    std::atomic<std::int64_t> claimed{0}, completed{0}, retried{0}, snoozed{0}, discarded{0},
        cancelled{0}, fenced_out{0}, throttled{0}, running{0};
};

struct WorkerState {
    /// `options` as with_defaults() left them.
    WorkerState(Store& s, Registry& r, WorkerOptions o)
        : store(s),
          registry(r),
          options(std::move(o)),
          clock(options.clock ? *options.clock : system_clock()) {
        for (const QueueConfig& q : options.queues) {
            queues.push_back({q.name, q.concurrency, q.weight});
            queue_names.push_back(q.name);
        }
    }

    Store& store;
    Registry& registry;
    const WorkerOptions options;
    const Clock& clock;

    std::vector<QueueState> queues;        // in the order of options.queues
    std::vector<std::string> queue_names;  // the same names, for store calls
    std::unordered_map<JobId, RunningJob> running;
    int active_handlers = 0;  // handlers whose attempt has not ended

    std::atomic<Phase> phase{Phase::idle};
    WorkerCounts counts;

    /// Handlers running now over all queues.
    int total_running() const {
        int n = 0;
        for (const QueueState& q : queues) n += q.running;
        return n;
    }
    /// Whether max_running (when set) leaves a slot over all queues.
    bool global_free() const {
        return options.max_running == 0 || total_running() < options.max_running;
    }
    /// The index in `queues` of a queue's name (0 for a name not served: a store returns only
    /// jobs of the queues asked for).
    std::size_t queue_index(const std::string& name) const {
        for (std::size_t i = 0; i < queues.size(); ++i) {
            if (queues[i].name == name) return i;
        }
        return 0;
    }
};

}  // namespace jobq::worker_detail
