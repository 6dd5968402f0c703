// env_integer and env_list (environment.hpp).

#include "environment.hpp"

#include <cctype>
#include <charconv>

#include <fmt/format.h>

#include "jobq/error.hpp"

namespace jobq::kinds {

std::int64_t env_integer(const char* name, std::string_view s, std::int64_t lo, std::int64_t hi) {
    std::int64_t v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc{} || end != s.data() + s.size() || v < lo || v > hi) {
        throw Error(
            ErrorCode::invalid_argument,
            fmt::format("{} must be an integer {}..{}, not '{}'", name, lo, hi, printable(s)),
            name);
    }
    return v;
}

std::vector<std::string> env_list(std::string_view rest) {
    std::vector<std::string> out;
    while (!rest.empty()) {
        const auto comma = rest.find(',');
        std::string_view one = rest.substr(0, comma);
        rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
        while (!one.empty() && std::isspace(static_cast<unsigned char>(one.front()))) {
            one.remove_prefix(1);
        }
        while (!one.empty() && std::isspace(static_cast<unsigned char>(one.back()))) {
            one.remove_suffix(1);
        }
        if (!one.empty()) out.emplace_back(one);
    }
    return out;
}

}  // namespace jobq::kinds
