#pragma once
// The options that describe a job, shared by `enqueue` (one job now) and `cron add` / `cron
// update` (a job per window), so both spell and check them alike.

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "../args.hpp"
#include "jobq/job_spec.hpp"

namespace jobq::cli {

/// --queue, --priority, --max-attempts, --unique-key, --tenant, --tag, --timeout.
std::vector<OptionSpec> job_options();

/// The text of a payload argument: `-` reads standard input, `@PATH` reads the file, anything
/// else is the JSON itself. Throws Error(invalid_argument) naming `what` when the input cannot
/// be read or is larger than 64 MiB (the payload limit itself is checked at enqueue).
std::string payload_text(const std::string& arg, std::string_view what);

/// Reads a payload: a JSON object. Throws Error(invalid_argument) naming `what` ("payload",
/// "--payload") and saying where the JSON went wrong.
nlohmann::json parse_payload(const std::string& text, std::string_view what);

/// Sets the job_options() given in `args` on `spec`; throws UsageError for malformed values.
void apply_job_options(JobSpec& spec, const ParsedArgs& args);

/// spec.validate(), with errors naming the options the user typed ("--priority: ...") rather
/// than the fields of the C++ API.
void validate_in_option_terms(const JobSpec& spec);

}  // namespace jobq::cli
