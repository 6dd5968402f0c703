#pragma once
// Running a program the way a shell would, and capturing what it printed.

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace jobq::test {

/// What a finished process left behind.
struct ProcessResult {
    int exit_code = -1;  ///< the exit status, or 128 + signal number when it was killed
    std::string out;     ///< everything written to stdout
    std::string err;     ///< everything written to stderr
};

/// How to start a process.
struct ProcessOptions {
    std::filesystem::path work_dir;  ///< the child's current directory
    /// Environment changes on top of this process's: a value sets, nullopt unsets.
    std::map<std::string, std::optional<std::string>> env;
    /// File the child reads as standard input; /dev/null when unset.
    std::optional<std::filesystem::path> stdin_path;
    /// File the child writes its standard output to (e.g. /dev/full) instead of capturing it.
    std::optional<std::filesystem::path> stdout_path;
};

/// Starts `program` with `args`, waits for it and returns its exit code and output. stdout
/// and stderr go to files in `options.work_dir` so a chatty child never blocks on a pipe.
ProcessResult run_process(const std::string& program, const std::vector<std::string>& args,
                          const ProcessOptions& options);

}  // namespace jobq::test
