#pragma once
// Command-line parsing for the jobq tool: long options ("--queue Q", "--queue=Q", flags),
// positional arguments, and typed readers for their values. A mistake in the command line's
// shape is a UsageError; a value that cannot be read is Error(invalid_argument) naming the
// option or argument (its field). Both exit with code 2 before the database is touched.

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "jobq/job.hpp"

namespace jobq::cli {

/// Bad usage: unknown command or option, a missing argument, options that do not go together.
class UsageError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

/// One option a command accepts.
struct OptionSpec {
    std::string_view name;        ///< "--queue"
    std::string_view value_name;  ///< "Q"; empty for a flag
    std::string_view help;        ///< one line for --help
    bool repeatable = false;      ///< may be given more than once (values accumulate)

    bool takes_value() const noexcept { return !value_name.empty(); }
};

/// Options and positional arguments as given, checked against the specs.
class ParsedArgs {
  public:
    /// Positional arguments in order.
    const std::vector<std::string>& positionals() const noexcept { return positionals_; }
    /// Whether the option (flag or valued) was given.
    bool has(std::string_view option) const;
    /// The option's value, or nullopt when it was not given.
    std::optional<std::string> value(std::string_view option) const;
    /// Every value of a repeatable option, in order.
    std::vector<std::string> values(std::string_view option) const;

  private:
    friend ParsedArgs parse_args(std::span<const std::string>, std::span<const OptionSpec>);
    std::vector<std::string> positionals_;
    std::map<std::string, std::vector<std::string>, std::less<>> options_;
};

/// Parses `args` against `specs`. "--" ends the options; everything after it is positional, as
/// are "-" and a negative number ("-5").
/// An option's value is the next argument even when it starts with '-' ("--in -5m" reaches
/// the duration check). Throws UsageError for an unknown option, a missing value, a value
/// given to a flag, or a non-repeatable valued option given twice.
ParsedArgs parse_args(std::span<const std::string> args, std::span<const OptionSpec> specs);

/// Throws Error(invalid_argument, "WHAT: WHY", WHAT): a value given for option or argument WHAT
/// cannot be used.
[[noreturn]] void bad_value(std::string_view what, std::string_view why);

/// Reads a whole decimal integer; throws bad_value "WHAT: expected an integer (got 'x')".
std::int64_t parse_integer(std::string_view text, std::string_view what);
/// Reads an int (as parse_integer, within int's range).
int parse_int(std::string_view text, std::string_view what);
/// Reads an integer of at least 1.
int parse_positive_int(std::string_view text, std::string_view what);
/// Reads a job id (a positive integer).
JobId parse_job_id(std::string_view text, std::string_view what = "ID");
/// Reads a workflow or batch id (a positive integer).
WorkflowId parse_workflow_id(std::string_view text, std::string_view what = "ID");

}  // namespace jobq::cli
