#pragma once
// A test server in a child process (tests/kinds/servers/*.py on Debian's python3): started with
// its arguments, it prints one JSON line saying where it listens, and is killed (SIGKILL) and
// reaped when the handle goes. Waiting for that line is a bounded poll on the pipe.

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace jobq::test {

class ServerProcess {
  public:
    /// Starts `script` (a path) with `args`; returns once its first line arrived.
    ServerProcess(const std::string& script, const std::vector<std::string>& args) {
        int out[2];
        if (::pipe(out) != 0) throw std::runtime_error("pipe failed");
        std::vector<std::string> argv_s{JOBQ_TEST_PYTHON, "-u", script};
        argv_s.insert(argv_s.end(), args.begin(), args.end());
        std::vector<char*> argv;
        for (auto& a : argv_s) argv.push_back(a.data());
        argv.push_back(nullptr);
        const pid_t parent = ::getpid();
        pid_ = ::fork();
        if (pid_ == 0) {
            // Only async-signal-safe calls until exec. The server dies with the test process
            // even when that crashes, so it never holds ctest's output pipe open.
            ::prctl(PR_SET_PDEATHSIG, SIGKILL);
            if (::getppid() != parent) ::_exit(127);
            ::dup2(out[1], 1);
            ::close(out[0]);
            ::close(out[1]);
            ::execv(argv[0], argv.data());
            ::_exit(127);
        }
        ::close(out[1]);
        if (pid_ < 0) {
            ::close(out[0]);
            throw std::runtime_error("could not start " + script);
        }
        out_ = out[0];
        first_line_ = read_line(std::chrono::seconds{60});
        info_ = nlohmann::json::parse(first_line_);
    }

    ~ServerProcess() {
        if (pid_ > 0) {
            ::kill(pid_, SIGKILL);
            int status = 0;
            ::waitpid(pid_, &status, 0);
        }
        if (out_ >= 0) ::close(out_);
    }
    ServerProcess(const ServerProcess&) = delete;
    ServerProcess& operator=(const ServerProcess&) = delete;

    /// The JSON the server printed first (ports, paths).
    const nlohmann::json& info() const { return info_; }

  private:
    std::string read_line(std::chrono::steady_clock::duration deadline) {
        const auto until = std::chrono::steady_clock::now() + deadline;
        std::string line;
        char c = 0;
        while (true) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                until - std::chrono::steady_clock::now());
            if (left.count() <= 0) throw std::runtime_error("test server did not start in time");
            pollfd p{out_, POLLIN, 0};
            if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
            const ssize_t n = ::read(out_, &c, 1);
            if (n <= 0) throw std::runtime_error("test server exited before it was ready");
            if (c == '\n') return line;
            line.push_back(c);
        }
    }

    pid_t pid_ = -1;
    int out_ = -1;
    std::string first_line_;
    nlohmann::json info_;
};

}  // namespace jobq::test
