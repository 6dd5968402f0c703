#pragma once
// WorkerCore: one Worker's parts and what they share, in one object on one strand. A Worker
// holds it by shared_ptr; every coroutine of a part holds it too, so it lives until the last
// of them has ended.
//
//   producer   (producer.hpp)   claims jobs up to free capacity, sleeps until there may be work
//   runner     (runner.hpp)     runs each claimed job's handler and decides its outcome
//   completer  (completer.hpp)  writes outcomes in batches and counts them
//   heartbeat  (heartbeat.hpp)  renews leases, notices lost ones, keeps the worker's record
//   lifecycle  (lifecycle.hpp)  start, graceful stop, the end of the worker's record
//
// They share `state` (worker_state.hpp: options, queues, running jobs, counters) and `runtime`
// (worker_runtime.hpp: the strand, the store's and the handlers' thread pools), and call one
// another through this object. Everything here runs on `strand` unless it says otherwise.

#include <functional>
#include <memory>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/strand.hpp>

#include "completer.hpp"
#include "heartbeat.hpp"
#include "lifecycle.hpp"
#include "producer.hpp"
#include "runner.hpp"
#include "worker_runtime.hpp"
#include "worker_state.hpp"

namespace jobq::worker_detail {

class WorkerCore : public std::enable_shared_from_this<WorkerCore> {
  public:
    /// `options` validated and completed (worker_options.hpp).
    WorkerCore(boost::asio::any_io_executor executor, Store& store, Registry& registry,
               WorkerOptions options);
    /// Unsubscribes from the store's notifier, then waits for the pools' threads.
    ~WorkerCore();
    WorkerCore(const WorkerCore&) = delete;
    WorkerCore& operator=(const WorkerCore&) = delete;

    // What detail::stop_then and stop_blocking (stop_waiter.hpp) ask of a worker.
    void begin_stop() { lifecycle.begin_stop(); }
    void when_stopped(std::function<void()> fn) { lifecycle.when_stopped(std::move(fn)); }

    boost::asio::strand<boost::asio::any_io_executor> strand;
    WorkerState state;
    WorkerRuntime runtime;
    Producer producer;
    Runner runner;
    Completer completer;
    Heartbeat heartbeat;
    Lifecycle lifecycle;
};

}  // namespace jobq::worker_detail
