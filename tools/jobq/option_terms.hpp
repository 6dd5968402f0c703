#pragma once
// The library names a bad value by its C++ field ("delay", "rate.period", "misfire.grace"); a
// CLI user typed an option ("--in", "--rate", "--grace"). One rewrite for every command, of the
// message and the field alike, so the JSON error's field names the option the script passed.

#include <span>
#include <string>
#include <string_view>
#include <utility>

#include <fmt/format.h>

#include "jobq/error.hpp"

namespace jobq::cli {

/// A library field and the option that sets it.
using FieldOption = std::pair<std::string_view, std::string_view>;

/// Runs `check` and returns what it returns. An Error naming one of `fields` is thrown again
/// naming its option instead, as its field and at the start of its message.
template <class F>
auto in_option_terms(std::span<const FieldOption> fields, F&& check) {
    try {
        return check();
    } catch (const Error& e) {
        const std::string_view message = e.what();
        for (const auto& [field, option] : fields) {
            if (e.field() != field) continue;
            const std::string rest = message.starts_with(field)
                                         ? std::string(message.substr(field.size()))
                                         : fmt::format(": {}", message);
            throw Error(e.code(), fmt::format("{}{}", option, rest), std::string(option));
        }
        throw;
    }
}

}  // namespace jobq::cli
