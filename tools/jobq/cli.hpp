#pragma once
// The jobq tool as a function of its arguments, so main() stays a one-liner.

#include <ostream>
#include <span>
#include <string>

namespace jobq::cli {

/// Exit codes: success, a runtime failure (not found, invalid state, storage, no schema),
/// bad usage or bad input (nothing was written), an enqueue refused because its tenant's quota
/// of queued jobs is full (nothing was written; it may succeed once jobs of the tenant finish).
inline constexpr int exit_ok = 0;
inline constexpr int exit_failure = 1;
inline constexpr int exit_usage = 2;
inline constexpr int exit_quota = 3;

/// Runs the tool on `args` (without the program name). Results go to `out`; errors go to
/// `err` as one line "jobq: error: ...". Returns the exit code.
int run(std::span<const std::string> args, std::ostream& out, std::ostream& err);

}  // namespace jobq::cli
