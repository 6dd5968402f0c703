#include "common/flag_value.hpp"

#include <charconv>

#include <fmt/format.h>

namespace jobq::tools {

std::int64_t parse_integer_flag(std::string_view flag, std::string_view text, std::int64_t min,
                                std::int64_t max) {
    std::int64_t value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || end != text.data() + text.size()) {
        throw BadArgs(fmt::format("{}: expected an integer, got '{}'", flag, text));
    }
    if (value < min || value > max) {
        throw BadArgs(fmt::format("{}: must be between {} and {} (got {})", flag, min, max, value));
    }
    return value;
}

}  // namespace jobq::tools
