#pragma once
// A throwaway PostgreSQL server of one test alone, run by scripts/pg.sh, so that the test may
// stop, kill and restart it without disturbing the server the other tests share.

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <doctest/doctest.h>

#include "pg_fixture.hpp"

namespace jobq::pgtest {

/// What a finished command printed and how it ended.
struct CommandResult {
    int status = -1;
    std::string out;
    std::string err;
    bool ok() const { return WIFEXITED(status) && WEXITSTATUS(status) == 0; }
};

/// Runs a command (argv[0] looked up in PATH, stdin /dev/null) to its end, bounded; its output
/// goes through files in `dir`.
inline CommandResult run_command(const std::filesystem::path& dir, const std::string& name,
                                 std::vector<std::string> argv,
                                 SteadyClock::duration deadline = default_deadline) {
    ChildProcess child(dir, name, std::move(argv), {.search_path = true, .null_stdin = true});
    CommandResult r;
    r.status = child.wait_exit(deadline);
    r.out = child.stdout_text();
    r.err = child.stderr_text();
    return r;
}

/// scripts/pg.sh: $JOBQ_PG_SCRIPT, else the one in this source tree.
inline std::string pg_script() {
    std::string script;
    if (const char* s = std::getenv("JOBQ_PG_SCRIPT"); s != nullptr && *s != '\0') {
        script = s;
    } else {
        script = JOBQ_SOURCE_DIR "/scripts/pg.sh";
    }
    if (!std::filesystem::exists(script)) {
        FAIL("the throwaway-server script " << script << " does not exist (set JOBQ_PG_SCRIPT)");
    }
    return script;
}

/// A throwaway PostgreSQL server of this test alone (scripts/pg.sh), destroyed at the end, so
/// that the test may stop, kill and restart it.
class PrivateServer {
  public:
    PrivateServer() : script_(pg_script()), data_(dir_.path() / "pg") {
        start_reaper();
        try {
            url_ = start_and_read_url();
        } catch (...) {
            destroy();  // a start that failed half-way may have left a server running
            throw;
        }
    }
    ~PrivateServer() {
        destroy();
        if (reaper_pipe_ >= 0) {
            // A whole line tells the reaper all is done; EOF alone (our death) sets it off.
            [[maybe_unused]] const ssize_t n = ::write(reaper_pipe_, "done\n", 5);
            ::close(reaper_pipe_);
        }
    }
    PrivateServer(const PrivateServer&) = delete;
    PrivateServer& operator=(const PrivateServer&) = delete;

    const std::string& url() const noexcept { return url_; }

    /// Fast shutdown: sessions are ended, the data stays.
    void stop() {
        running_ = false;
        run("stop");
    }
    /// Immediate shutdown, as a crash would be.
    void kill() {
        running_ = false;
        run("kill");
    }
    /// Starts it again on the same port.
    void start() {
        const std::string url = start_and_read_url();
        REQUIRE_MESSAGE(url == url_, "the restarted server has a different URL: " << url);
    }
    /// Starts it if a test stopped it (for teardown after a failure); never throws.
    void ensure_running() noexcept {
        if (running_) return;
        try {
            start_and_read_url();
        } catch (...) {
            std::fprintf(stderr, "postgres_tests: could not restart the private server\n");
        }
    }

  private:
    // The destructor does not run when the test process is killed (a ctest TIMEOUT, SIGKILL),
    // and the server, detached by pg_ctl, would run on. So a reaper outside this process tree
    // (setsid -f: ctest kills the tree of a test that timed out) reads a pipe only this process
    // holds: a line means the destructor did the work; EOF without one means this process
    // died, and the reaper destroys the server and the directory.
    void start_reaper() {
        int fds[2];
        if (::pipe2(fds, O_CLOEXEC) != 0) FAIL("pipe2 failed: " << std::strerror(errno));
        const std::string program =
            "read -r _ && exit 0; bash \"$0\" destroy \"$1\" >/dev/null 2>&1; rm -rf \"$2\"";
        std::vector<std::string> argv{"setsid", "-f",    "bash",         "-c",
                                      program,  script_, data_.string(), dir_.path().string()};
        std::vector<char*> args;
        for (std::string& a : argv) args.push_back(a.data());
        args.push_back(nullptr);
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_adddup2(&actions, fds[0], STDIN_FILENO);
        posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
        posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
        pid_t pid = -1;
        const int rc = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
        posix_spawn_file_actions_destroy(&actions);
        ::close(fds[0]);
        if (rc != 0) {
            ::close(fds[1]);
            FAIL("could not start the server reaper (setsid): " << std::strerror(rc));
        }
        reaper_pipe_ = fds[1];
        int status = 0;
        ::waitpid(pid, &status, 0);  // setsid -f returns once the reaper is forked off
    }

    void destroy() noexcept {
        // Nothing to assert here; a leftover server would show in the next run.
        try {
            const CommandResult r = run_command(dir_.path(), "pg-destroy",
                                                {"bash", script_, "destroy", data_.string()});
            if (!r.ok()) {
                std::fprintf(stderr, "postgres_tests: pg.sh destroy failed:\n%s%s", r.out.c_str(),
                             r.err.c_str());
            }
        } catch (...) {
            std::fprintf(stderr, "postgres_tests: pg.sh destroy failed\n");
        }
    }

    CommandResult run(const std::string& verb) {
        CommandResult r = run_command(dir_.path(), "pg-" + verb + std::to_string(runs_++),
                                      {"bash", script_, verb, data_.string()});
        REQUIRE_MESSAGE(r.ok(), "pg.sh " << verb << " failed (status " << r.status << "):\n"
                                         << r.out << r.err);
        return r;
    }

    std::string start_and_read_url() {
        const CommandResult r = run("start");
        // The URL is the last line of stdout that looks like one.
        std::istringstream lines(r.out);
        std::string line, url;
        while (std::getline(lines, line)) {
            if (line.rfind("postgresql://", 0) == 0 || line.rfind("postgres://", 0) == 0)
                url = line;
        }
        REQUIRE_MESSAGE(!url.empty(), "pg.sh start printed no URL:\n" << r.out << r.err);
        running_ = true;
        return url;
    }

    TempDir dir_;
    std::string script_;
    std::filesystem::path data_;
    std::string url_;
    int runs_ = 0;
    bool running_ = false;
    int reaper_pipe_ = -1;  // write end of the reaper's stdin
};

}  // namespace jobq::pgtest
