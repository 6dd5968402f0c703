#pragma once
// A fresh directory and database per test case, the real `jobq` binary to run against it,
// and direct store access for what only a worker could do (claim, discard, complete).

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "jobq/backend/store.hpp"
#include "jobq/job.hpp"
#include "process.hpp"
#include "support/temp_dir.hpp"

namespace jobq::test {

/// Path of the jobq binary under test (set by CMake).
std::string jobq_binary();

class CliFixture {
  public:
    /// A fresh SQLite file (db()) in a fresh directory.
    CliFixture();
    /// `database` (any --db value, e.g. a PostgreSQL URL naming a fresh schema) and a fresh
    /// directory to run in.
    explicit CliFixture(std::string database);
    CliFixture(const CliFixture&) = delete;
    CliFixture& operator=(const CliFixture&) = delete;

    /// Runs `jobq --db <this case's database> ARGS...`.
    ProcessResult jobq(const std::vector<std::string>& args);
    /// Runs `jobq ARGS...` as given, in the case's directory, with JOBQ_DATABASE_URL unset
    /// unless `env` sets it.
    ProcessResult jobq_raw(const std::vector<std::string>& args, ProcessOptions options = {});

    /// Runs `jobq --json ARGS...`, requires exit code 0 and returns the parsed output.
    nlohmann::json json(const std::vector<std::string>& args);
    /// Migrates the case's database through the CLI.
    void migrate();
    /// Enqueues through the CLI and returns the job's id.
    JobId enqueue(const std::vector<std::string>& args);
    /// `show --json ID`.
    nlohmann::json show(JobId id);

    /// Number of jobs in the database, read through the store rather than the CLI.
    std::size_t count_jobs();
    /// Claims the available jobs of `queue` as a worker would and ends each attempt with
    /// `kind` (discard and retry record `message` as the error; complete stores `result`).
    std::vector<JobId> finish_attempts(const std::string& queue, OutcomeKind kind,
                                       const std::string& message = "bad input",
                                       const std::string& result = "");
    /// Claims the available jobs of `queue` and leaves them running.
    std::vector<JobId> claim(const std::string& queue);

    const std::filesystem::path& dir() const { return dir_.path(); }
    const std::filesystem::path& db() const { return db_; }
    /// The --db value the case runs with.
    const std::string& database() const { return database_; }

  private:
    TempDir dir_;
    std::filesystem::path db_;
    std::string database_;
};

/// True when `text` has exactly one line (ends with the only newline).
bool is_one_line(const std::string& text);

/// Writes `text` to `path` (replacing it), for input files the CLI reads.
inline void write_file(const std::filesystem::path& path, const std::string& text) {
    std::ofstream out(path, std::ios::binary);
    out << text;
}

/// Whether `text` (a command's output) contains `what`.
inline bool mentions(const std::string& text, const std::string& what) {
    return text.find(what) != std::string::npos;
}

}  // namespace jobq::test
