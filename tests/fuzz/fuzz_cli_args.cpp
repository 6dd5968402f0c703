// Fuzzes the jobq tool's command line. The input, split on NUL bytes, is the argument list of
// one `jobq` run (cli::run, as main() calls it), always after a --db that names no database
// ("fuzz-never-opened://"), so every command gets as far as its own argument checks and then
// fails to open the store, before any file or server is touched. Without a database the run
// can only succeed (help, `cron next`) or refuse its input: exit code 0 or 2, never 1 (which is
// how cli::run reports a runtime failure, and any exception it did not expect), and the error
// is one line: "jobq: error: ...", or with --json {"error": {...}} with a code that is not
// "internal" (an exception cli::run did not expect).
//
// The same words also go to the typed readers the commands use (integers, job ids, durations,
// tools::parse_integer_flag); those may throw only their documented types.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "args.hpp"
#include "cli.hpp"
#include "common/flag_value.hpp"
#include "jobq/error.hpp"
#include "jobq/time_format.hpp"

namespace {

// Parses as a URL of a scheme jobq does not know, so Context refuses it on first use.
constexpr std::string_view no_database = "--db=fuzz-never-opened://";

[[noreturn]] void fail(const char* property, const std::vector<std::string>& args,
                       const std::string& err) {
    std::fprintf(stderr, "fuzz_cli_args: %s\n  args:", property);
    for (const std::string& a : args) std::fprintf(stderr, " [%s]", a.c_str());
    std::fprintf(stderr, "\n  stderr: %s\n", err.c_str());
    __builtin_trap();
}

void typed_readers(const std::string& word) {
    // A value that cannot be read is Error(invalid_argument) naming the option, nothing else.
    try {
        (void)jobq::cli::parse_int(word, "N");
    } catch (const jobq::Error& e) {
        if (e.code() != jobq::ErrorCode::invalid_argument || e.field() != "N") __builtin_trap();
    }
    try {
        (void)jobq::cli::parse_job_id(word);
    } catch (const jobq::Error& e) {
        if (e.code() != jobq::ErrorCode::invalid_argument || e.field() != "ID") __builtin_trap();
    }
    try {
        (void)jobq::tools::parse_integer_flag("--n", word, 1);
        (void)jobq::tools::parse_integer_flag("--n", word, std::numeric_limits<std::int64_t>::min(),
                                              std::numeric_limits<std::int64_t>::max());
    } catch (const jobq::tools::BadArgs&) {
    }
    try {
        (void)jobq::parse_duration(word, "--in");
    } catch (const jobq::Error&) {
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view input(reinterpret_cast<const char*>(data), size);
    std::vector<std::string> args{std::string(no_database)};
    while (!input.empty()) {
        const std::size_t nul = input.find('\0');
        args.emplace_back(input.substr(0, nul));
        input = nul == std::string_view::npos ? std::string_view{} : input.substr(nul + 1);
    }
    // Longer lists only repeat what shorter ones reach.
    if (args.size() > 64) return 0;

    for (std::size_t i = 1; i < args.size() && i <= 8; ++i) typed_readers(args[i]);

    std::ostringstream out;
    std::ostringstream err;
    const int code = jobq::cli::run(args, out, err);
    const std::string message = err.str();
    if (code != jobq::cli::exit_ok && code != jobq::cli::exit_usage) {
        fail("exit code is neither 0 nor 2 without a database", args, message);
    }
    if (code == jobq::cli::exit_ok) {
        if (!message.empty()) fail("stderr is not empty on success", args, message);
        return 0;
    }
    if (message.find('\n') != message.size() - 1) {
        fail("the error is not exactly one line", args, message);
    }
    // With --json the error is {"error": {"code", "field", "message", "exit_code"}}.
    if (message.starts_with("{")) {
        const nlohmann::json error = nlohmann::json::parse(message).at("error");
        if (error.at("code") == "internal" || error.at("exit_code") != code) {
            fail("the JSON error is internal or has another exit code", args, message);
        }
    } else if (!message.starts_with("jobq: error: ")) {
        fail("the error line does not start with 'jobq: error: '", args, message);
    }
    return 0;
}
