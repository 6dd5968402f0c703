#include "cli.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "args.hpp"
#include "commands.hpp"
#include "common/open_store.hpp"
#include "context.hpp"
#include "help.hpp"
#include "jobq/error.hpp"

#ifndef JOBQ_CLI_VERSION
#define JOBQ_CLI_VERSION "unknown"
#endif

namespace jobq::cli {

namespace {

// The error line must stay one line even when a database message spans several (libpq ends
// its lines with '\n' and indents hints with '\t'): each line is trimmed, and they are joined
// with single spaces.
void print_error(std::ostream& err, std::string_view message) {
    std::string line;
    while (!message.empty()) {
        const std::size_t end = message.find_first_of("\r\n");
        std::string_view part = message.substr(0, end);
        message = end == std::string_view::npos ? std::string_view{} : message.substr(end + 1);
        const std::size_t first = part.find_first_not_of(" \t");
        if (first == std::string_view::npos) continue;
        part = part.substr(first, part.find_last_not_of(" \t") - first + 1);
        if (!line.empty()) line += ' ';
        line += part;
    }
    // A command line's bytes are echoed in messages: a stray byte or an escape sequence in
    // them must not reach the terminal raw.
    err << "jobq: error: " << printable(line) << '\n';
}

bool asks_for_help(std::span<const std::string> args) {
    for (const std::string& a : args) {
        if (a == "--") return false;
        if (a == "--help" || a == "-h") return true;
    }
    return false;
}

const OptionSpec* find_global(std::string_view name) {
    const auto globals = global_options();
    const auto it = std::find_if(globals.begin(), globals.end(),
                                 [&](const OptionSpec& o) { return o.name == name; });
    return it == globals.end() ? nullptr : &*it;
}

// `jobq help [COMMAND...]`.
int run_help(std::span<const std::string> words, std::ostream& out) {
    if (words.empty()) {
        print_usage(out);
        return exit_ok;
    }
    std::size_t consumed = 0;
    const Command* command = find_command(words, consumed);
    if (command == nullptr || consumed != words.size()) {
        throw UsageError(fmt::format("no help for unknown command '{}'", fmt::join(words, " ")));
    }
    print_command_help(out, *command);
    return exit_ok;
}

void check_positionals(const Command& command, const ParsedArgs& parsed) {
    const auto& given = parsed.positionals();
    std::size_t required = 0;
    for (const Positional& p : command.positionals) required += p.required ? 1 : 0;
    if (given.size() < required) {
        throw UsageError(
            fmt::format("missing argument {}", command.positionals[given.size()].name));
    }
    if (given.size() > command.positionals.size()) {
        throw UsageError(
            fmt::format("unexpected argument '{}'", given[command.positionals.size()]));
    }
}

int dispatch(std::span<const std::string> args, std::ostream& out, const Command*& command) {
    // Global options may come before the command name; they are kept and parsed again with
    // the command's own options, so they are equally welcome after it.
    std::vector<std::string> leading;
    std::size_t i = 0;
    for (; i < args.size() && args[i].starts_with("-") && args[i] != "-"; ++i) {
        const std::string& arg = args[i];
        if (arg == "--version") {
            out << "jobq " << JOBQ_CLI_VERSION << '\n';
            return exit_ok;
        }
        if (arg == "--help" || arg == "-h") {
            print_usage(out);
            return exit_ok;
        }
        const std::string name = arg.substr(0, arg.find('='));
        const OptionSpec* spec = find_global(name);
        if (spec == nullptr) throw UsageError(fmt::format("unknown option '{}'", name));
        leading.push_back(arg);
        if (spec->takes_value() && name.size() == arg.size()) {
            if (i + 1 == args.size()) {
                throw UsageError(
                    fmt::format("option {} needs a value ({})", spec->name, spec->value_name));
            }
            leading.push_back(args[++i]);
        }
    }
    const std::span<const std::string> words = args.subspan(i);
    if (words.empty()) throw UsageError("no command given");
    if (words.front() == "help") return run_help(words.subspan(1), out);

    std::size_t consumed = 0;
    command = find_command(words, consumed);
    if (command == nullptr) {
        throw UsageError(fmt::format("unknown command '{}'", words.front()));
    }
    const std::span<const std::string> rest = words.subspan(consumed);
    if (asks_for_help(rest)) {
        print_command_help(out, *command);
        return exit_ok;
    }

    std::vector<std::string> all_args = leading;
    all_args.insert(all_args.end(), rest.begin(), rest.end());
    std::vector<OptionSpec> specs = command->options;
    const auto globals = global_options();
    specs.insert(specs.end(), globals.begin(), globals.end());
    const ParsedArgs parsed = parse_args(all_args, specs);
    check_positionals(*command, parsed);

    Context ctx(parsed.value("--db").value_or(tools::default_database_url()), parsed.has("--json"),
                out);
    return command->run(ctx, parsed);
}

}  // namespace

// Whether the user asked for machine-readable output; errors then come as JSON too.
bool wants_json(std::span<const std::string> args) {
    for (const std::string& a : args) {
        if (a == "--") return false;
        if (a == "--json") return true;
    }
    return false;
}

int run(std::span<const std::string> args, std::ostream& out, std::ostream& err) {
    const Command* command = nullptr;
    // One error, printed as a line for people or as {"error": {...}} for --json callers.
    auto fail = [&](int status, std::string_view code, const std::string& field,
                    const std::string& message) {
        if (wants_json(args)) {
            // Escaped as the text line is: JSON would pass C1 controls and DEL through raw.
            nlohmann::json error{{"code", code},
                                 {"field", field.empty() ? nlohmann::json(nullptr)
                                                         : nlohmann::json(printable(field))},
                                 {"message", printable(message)},
                                 {"exit_code", status}};
            err << nlohmann::json{{"error", std::move(error)}}.dump(
                       -1, ' ', false, nlohmann::json::error_handler_t::replace)
                << '\n';
        } else {
            print_error(err, message);
        }
        return status;
    };
    try {
        const int status = dispatch(args, out, command);
        // A full disk or a closed pipe on stdout must not pass for success: a script would take
        // the missing id or list for an empty one.
        out.flush();
        if (!out) {
            const int error = errno;
            return fail(exit_failure, "output", "",
                        fmt::format("cannot write the output: {}{}", std::strerror(error),
                                    status == exit_ok ? " (the command itself succeeded)" : ""));
        }
        return status;
    } catch (const UsageError& e) {
        const std::string help =
            command ? fmt::format("jobq {} --help", command->name) : "jobq --help";
        return fail(exit_usage, "usage", "", fmt::format("{} (see '{}')", e.what(), help));
    } catch (const Error& e) {
        const std::string_view code = to_string(e.code());
        switch (e.code()) {
            case ErrorCode::invalid_argument:
                return fail(exit_usage, code, e.field(), e.what());
            case ErrorCode::quota_exceeded:
                // Not bad input (the same enqueue succeeds once the tenant's jobs drain) and not
                // a failure to retry at once: a caller that throttles on it needs its own code.
                return fail(exit_quota, code, e.field(), e.what());
            case ErrorCode::storage:
                return fail(exit_failure, code, e.field(), fmt::format("storage: {}", e.what()));
            default:
                return fail(exit_failure, code, e.field(), e.what());
        }
    } catch (const nlohmann::json::exception& e) {
        return fail(exit_failure, "internal", "", fmt::format("JSON: {}", e.what()));
    } catch (const std::exception& e) {
        return fail(exit_failure, "internal", "", e.what());
    }
}

}  // namespace jobq::cli
