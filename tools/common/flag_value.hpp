#pragma once
// Reading command-line flag values for the small programs (demo_worker, jobq-bench).

#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string_view>

namespace jobq::tools {

/// A bad command-line argument; the message names the flag and what was wrong.
struct BadArgs : std::runtime_error {
    using std::runtime_error::runtime_error;
};

/// Reads the integer value of `flag`, which must lie in [min, max]. Throws BadArgs.
std::int64_t parse_integer_flag(std::string_view flag, std::string_view text, std::int64_t min,
                                std::int64_t max = std::numeric_limits<int>::max());

}  // namespace jobq::tools
