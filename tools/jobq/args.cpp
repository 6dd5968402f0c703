#include "args.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <limits>

#include <fmt/format.h>

#include "jobq/error.hpp"

namespace jobq::cli {

namespace {

const OptionSpec* find_spec(std::span<const OptionSpec> specs, std::string_view name) {
    const auto it = std::find_if(specs.begin(), specs.end(),
                                 [&](const OptionSpec& s) { return s.name == name; });
    return it == specs.end() ? nullptr : &*it;
}

// An id of `noun`'s kind: a whole number from 1 up. "-3" and "abc" get the same message, which
// says what an id looks like rather than what went wrong with this one.
std::int64_t parse_id(std::string_view text, std::string_view what, std::string_view noun) {
    std::int64_t id = 0;
    const auto why = [&] {
        return fmt::format("expected {}, a positive integer (got '{}')", noun, text);
    };
    try {
        id = parse_integer(text, what);
    } catch (const Error&) {
        bad_value(what, why());
    }
    if (id < 1) bad_value(what, why());
    return id;
}

}  // namespace

bool ParsedArgs::has(std::string_view option) const {
    return options_.find(option) != options_.end();
}

std::optional<std::string> ParsedArgs::value(std::string_view option) const {
    const auto it = options_.find(option);
    if (it == options_.end() || it->second.empty()) return std::nullopt;
    return it->second.back();
}

std::vector<std::string> ParsedArgs::values(std::string_view option) const {
    const auto it = options_.find(option);
    return it == options_.end() ? std::vector<std::string>{} : it->second;
}

ParsedArgs parse_args(std::span<const std::string> args, std::span<const OptionSpec> specs) {
    ParsedArgs parsed;
    bool options_ended = false;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& arg = args[i];
        // A lone "-" is an ordinary argument by convention (stdin), and so is anything after
        // "--"; so is a negative number ("show -5"), which the argument's own check then
        // refuses for what it is rather than as an unknown option. Everything else that starts
        // with '-' must be an option we know.
        const bool negative_number =
            arg.size() > 1 && std::isdigit(static_cast<unsigned char>(arg[1])) != 0;
        if (options_ended || arg == "-" || !arg.starts_with("-") || negative_number) {
            parsed.positionals_.push_back(arg);
            continue;
        }
        if (arg == "--") {
            options_ended = true;
            continue;
        }
        const std::size_t eq = arg.find('=');
        const std::string name = arg.substr(0, eq);
        const OptionSpec* spec = find_spec(specs, name);
        if (spec == nullptr) throw UsageError(fmt::format("unknown option '{}'", name));
        std::vector<std::string>& slot = parsed.options_[std::string(spec->name)];
        // A flag said twice ("--json ... --json") means the same; a second value would be
        // ambiguous.
        if (!slot.empty() && !spec->repeatable && spec->takes_value()) {
            throw UsageError(fmt::format("option {} is given more than once", spec->name));
        }
        if (!spec->takes_value()) {
            if (eq != std::string::npos) {
                throw UsageError(fmt::format("option {} takes no value", spec->name));
            }
            slot.emplace_back();
            continue;
        }
        if (eq != std::string::npos) {
            slot.push_back(arg.substr(eq + 1));
        } else if (i + 1 < args.size()) {
            slot.push_back(args[++i]);
        } else {
            throw UsageError(
                fmt::format("option {} needs a value ({})", spec->name, spec->value_name));
        }
    }
    return parsed;
}

void bad_value(std::string_view what, std::string_view why) {
    throw Error(ErrorCode::invalid_argument, fmt::format("{}: {}", what, why), std::string(what));
}

std::int64_t parse_integer(std::string_view text, std::string_view what) {
    std::int64_t n = 0;
    // from_chars rejects a leading '+', which people do type; accept it.
    const std::string_view digits = text.starts_with('+') ? text.substr(1) : text;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
    if (digits.empty() || ec != std::errc{} || end != digits.data() + digits.size()) {
        bad_value(what, fmt::format("expected an integer (got '{}')", text));
    }
    return n;
}

int parse_int(std::string_view text, std::string_view what) {
    const std::int64_t n = parse_integer(text, what);
    if (n < std::numeric_limits<int>::min() || n > std::numeric_limits<int>::max()) {
        bad_value(what, fmt::format("{} is out of range", text));
    }
    return static_cast<int>(n);
}

int parse_positive_int(std::string_view text, std::string_view what) {
    const int n = parse_int(text, what);
    if (n < 1) bad_value(what, fmt::format("must be at least 1 (got {})", n));
    return n;
}

JobId parse_job_id(std::string_view text, std::string_view what) {
    return parse_id(text, what, "a job id");
}

WorkflowId parse_workflow_id(std::string_view text, std::string_view what) {
    return parse_id(text, what, "a workflow id");
}

}  // namespace jobq::cli
