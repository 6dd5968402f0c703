#pragma once
// The checks and defaults of WorkerOptions: what the Worker's constructor rejects (naming the
// bad field), what it fills in (an id, an error hook that cannot throw), and the sizes derived
// from them. Pure functions; no part of the running worker.

#include <string>

#include "jobq/worker.hpp"

namespace jobq::worker_detail {

/// Throws Error(invalid_argument) naming the first bad field.
void validate(const WorkerOptions& options);

/// The options as the worker runs with them: an id when none was given
/// ("<host>:<pid>:<random>"), and an on_error that never throws (the default, or the
/// application's wrapped so that a throwing hook falls back to a line on stderr).
WorkerOptions with_defaults(WorkerOptions options);

/// Threads for plain-function handlers: blocking_threads, or when 0 the total concurrency
/// (bounded by max_running when set), at most 64.
int handler_threads(const WorkerOptions& options);

}  // namespace jobq::worker_detail
