#pragma once
// Running demo_worker (or any program) as a child process: start it, wait for its "ready" line,
// signal it, reap it; read the start log it writes and the store it works on. Every wait is a
// bounded poll, and a child still alive when its handle goes away (a failed test) is killed and
// reaped. The PostgreSQL tests (tests/postgres) use it too.

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <doctest/doctest.h>

#include "jobq/backend/store.hpp"
#include "jobq/job.hpp"
#include "support/temp_dir.hpp"
#include "support/wait_until.hpp"

extern char** environ;

namespace jobq::itest {

using SteadyClock = std::chrono::steady_clock;

using test::default_deadline;

/// How often a bounded wait looks again. A poll period, not a synchronisation.
inline constexpr auto poll_period = std::chrono::milliseconds{20};

using test::TempDir;

inline std::string read_file(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

/// Polls `done` until it holds; fails the test with `what` (and `context()`, if given) at the
/// deadline.
inline void wait_until(const std::function<bool()>& done, const std::string& what,
                       const std::function<std::string()>& context = {},
                       SteadyClock::duration deadline = default_deadline) {
    if (!test::poll_until(done, deadline, poll_period)) {
        FAIL("timed out waiting for " << what << (context ? "\n" + context() : std::string{}));
    }
}

/// How a ChildProcess starts. The defaults start a program at a given path with this
/// process's stdin and no other descriptor of ours.
struct SpawnOptions {
    /// Look argv[0] up in PATH when it has no slash (posix_spawnp).
    bool search_path = false;
    /// Give the child /dev/null as its stdin.
    bool null_stdin = false;
    /// When not negative, this descriptor of ours becomes the child's fd 3.
    int fd3 = -1;
};

/// A child process, its stdout and stderr in files of their own; killed and reaped if it is
/// still running when its handle goes away (a failed test).
class ChildProcess {
  public:
    /// Starts `argv`; output goes to <dir>/<name>.out and <name>.err.
    ChildProcess(const std::filesystem::path& dir, std::string name, std::vector<std::string> argv,
                 SpawnOptions options = {})
        : name_(std::move(name)), out_(dir / (name_ + ".out")), err_(dir / (name_ + ".err")) {
        std::vector<char*> args;
        for (std::string& a : argv) args.push_back(a.data());
        args.push_back(nullptr);

        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        if (options.null_stdin) {
            posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
        }
        posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out_.c_str(),
                                         O_WRONLY | O_CREAT | O_TRUNC, 0644);
        posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err_.c_str(),
                                         O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (options.fd3 >= 0) posix_spawn_file_actions_adddup2(&actions, options.fd3, 3);
        const int rc = options.search_path
                           ? posix_spawnp(&pid_, args[0], &actions, nullptr, args.data(), environ)
                           : posix_spawn(&pid_, args[0], &actions, nullptr, args.data(), environ);
        posix_spawn_file_actions_destroy(&actions);
        if (rc != 0) {
            pid_ = -1;
            FAIL("could not start " << argv[0] << ": " << std::strerror(rc));
        }
    }

    ~ChildProcess() {
        if (pid_ > 0) {
            ::kill(pid_, SIGKILL);
            int status = 0;
            ::waitpid(pid_, &status, 0);
        }
    }
    ChildProcess(const ChildProcess&) = delete;
    ChildProcess& operator=(const ChildProcess&) = delete;

    const std::string& name() const noexcept { return name_; }
    std::string stdout_text() const { return read_file(out_); }
    std::string stderr_text() const { return read_file(err_); }
    /// Both outputs, for failure messages.
    std::string describe() const {
        return name_ + " stdout:\n" + stdout_text() + name_ + " stderr:\n" + stderr_text();
    }

    void signal(int signo) {
        REQUIRE(pid_ > 0);
        REQUIRE(::kill(pid_, signo) == 0);
    }

    /// The wait status if the process has ended (reaping it), else nullopt.
    std::optional<int> try_reap() {
        if (pid_ <= 0) return status_;
        int status = 0;
        if (::waitpid(pid_, &status, WNOHANG) != pid_) return std::nullopt;
        pid_ = -1;
        status_ = status;
        return status_;
    }

    /// Waits (bounded) for the process to end; returns its wait status.
    int wait_exit(SteadyClock::duration deadline = default_deadline) {
        std::optional<int> status;
        wait_until([&] { return (status = try_reap()).has_value(); }, name_ + " to exit",
                   [this] { return describe(); }, deadline);
        return *status;
    }

  private:
    std::string name_;
    std::filesystem::path out_;
    std::filesystem::path err_;
    pid_t pid_ = -1;
    std::optional<int> status_;  // once reaped
};

// Only where the build names the demo_worker binary (the PostgreSQL tests include this header
// for the rest even when examples are not built).
#ifdef JOBQ_DEMO_WORKER
/// One demo_worker process, its stdout and stderr in files of their own.
class WorkerProcess : public ChildProcess {
  public:
    /// Starts demo_worker with `args`; output goes to <dir>/<name>.out and <name>.err.
    WorkerProcess(const std::filesystem::path& dir, std::string name, std::vector<std::string> args)
        : ChildProcess(dir, std::move(name), with_program(std::move(args))) {}

    /// Waits for the "demo_worker ready id=<id> ..." line; returns the worker id.
    std::string wait_ready() {
        std::string id;
        wait_until(
            [&] {
                const std::string out = stdout_text();
                const auto at = out.find("demo_worker ready id=");
                if (at == std::string::npos) {
                    // A child that died before it was ready will never be: fail now, not later.
                    if (auto status = try_reap()) {
                        FAIL(name() << " exited before it was ready (status " << *status << ")\n"
                                    << describe());
                    }
                    return false;
                }
                std::istringstream line(
                    out.substr(at + std::string("demo_worker ready id=").size()));
                line >> id;
                return !id.empty();
            },
            name() + " to be ready", [this] { return describe(); });
        return id;
    }

    /// Sends SIGTERM and requires a clean exit (status 0) within the deadline.
    void stop_gracefully() {
        signal(SIGTERM);
        const int status = wait_exit();
        INFO(describe());
        REQUIRE(WIFEXITED(status));
        REQUIRE(WEXITSTATUS(status) == 0);
    }

  private:
    static std::vector<std::string> with_program(std::vector<std::string> args) {
        args.insert(args.begin(), JOBQ_DEMO_WORKER);
        return args;
    }
};
#endif

/// One line of demo_worker's start log: a handler began this attempt of this job.
struct StartRecord {
    JobId id = 0;
    int attempt = 0;
    std::string worker_id;
};

/// Parses the start log; fails the test on a malformed line (a torn write would show here).
/// A last line without its newline is left for the next read: while workers run, a line that
/// crosses a page boundary can be read half copied (the file's size grows page by page within
/// one write), as "star" once was.
inline std::vector<StartRecord> read_start_log(const std::filesystem::path& log) {
    std::vector<StartRecord> records;
    std::string text = read_file(log);
    const std::size_t last_newline = text.rfind('\n');
    text.resize(last_newline == std::string::npos ? 0 : last_newline + 1);
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream fields(line);
        std::string word, rest;
        StartRecord r;
        fields >> word >> r.id >> r.attempt >> r.worker_id;
        const bool well_formed =
            fields && word == "start" && r.id > 0 && r.attempt > 0 && !(fields >> rest);
        if (!well_formed) FAIL("malformed start-log line: '" << line << "'");
        records.push_back(std::move(r));
    }
    return records;
}

/// (job, attempt) pairs that the log shows starting more than once.
inline std::vector<std::pair<JobId, int>> duplicate_attempts(const std::vector<StartRecord>& log) {
    std::map<std::pair<JobId, int>, int> seen;
    for (const StartRecord& r : log) ++seen[{r.id, r.attempt}];
    std::vector<std::pair<JobId, int>> dups;
    for (const auto& [key, n] : seen) {
        if (n > 1) dups.push_back(key);
    }
    return dups;
}

/// Every job in the store that `filter` selects (its limit and before_id aside), newest first, read
/// page by page.
inline std::vector<Job> all_jobs(Store& store, JobFilter filter = {}) {
    std::vector<Job> jobs;
    filter.limit = 500;
    for (;;) {
        JobPage page = store.list(filter);
        jobs.insert(jobs.end(), std::make_move_iterator(page.jobs.begin()),
                    std::make_move_iterator(page.jobs.end()));
        if (!page.next_before_id) break;
        filter.before_id = page.next_before_id;
    }
    return jobs;
}

/// How many jobs are in `state`, over every queue.
inline std::int64_t count_in(Store& store, JobState state) {
    std::int64_t n = 0;
    for (const QueueStats& q : store.stats(system_clock().now())) n += q.count(state);
    return n;
}

}  // namespace jobq::itest
