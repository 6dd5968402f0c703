#include "listener.hpp"

#include <algorithm>
#include <cerrno>

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <pqxx/connection>
#include <pqxx/except>
#include <pqxx/notification>

namespace jobq::postgres_detail {

namespace {

class Receiver final : public pqxx::notification_receiver {
  public:
    Receiver(pqxx::connection_base& c, const std::string& channel, Notifier& local)
        : pqxx::notification_receiver(c, channel), local_(local) {}
    void operator()(const std::string& payload, int) override { local_.notify(payload); }

  private:
    Notifier& local_;
};

}  // namespace

PgNotifier::PgNotifier(std::string conninfo, std::string channel,
                       std::function<void(std::string_view)> send)
    : conninfo_(std::move(conninfo)), channel_(std::move(channel)), send_(std::move(send)) {}

PgNotifier::~PgNotifier() {
    if (thread_.joinable()) {
        const char stop = 1;
        [[maybe_unused]] const auto n = ::write(wake_pipe_[1], &stop, 1);
        thread_.join();
    }
    for (const int fd : wake_pipe_) {
        if (fd >= 0) ::close(fd);
    }
}

Subscription PgNotifier::subscribe(Callback cb) {
    Subscription s = local_.subscribe(std::move(cb));
    start_once();
    return s;
}

void PgNotifier::notify(std::string_view queue) {
    local_.notify(queue);
    try {
        send_(queue);
    } catch (...) {
        // Best effort: other processes fall back to their poll interval.
    }
}

void PgNotifier::start_once() {
    std::call_once(started_, [this] {
        if (::pipe(wake_pipe_) != 0) return;  // no listener: polling still works
        ::fcntl(wake_pipe_[0], F_SETFD, FD_CLOEXEC);
        ::fcntl(wake_pipe_[1], F_SETFD, FD_CLOEXEC);
        thread_ = std::thread([this] { run(); });
    });
}

bool PgNotifier::pause(int ms) {
    pollfd p{wake_pipe_[0], POLLIN, 0};
    for (;;) {
        const int r = ::poll(&p, 1, ms);
        if (r < 0 && errno == EINTR) continue;
        return r == 0;  // timed out: not stopped
    }
}

void PgNotifier::run() {
    int backoff_ms = 50;
    bool connected_before = false;
    for (;;) {
        try {
            pqxx::connection conn(conninfo_);
            Receiver receiver(conn, channel_, local_);
            conn.get_notifs();  // sends the LISTEN
            if (connected_before) {
                // Whatever was notified while we were away is lost: everyone looks now.
                local_.notify("");
            }
            connected_before = true;
            backoff_ms = 50;
            for (;;) {
                pollfd fds[2] = {{wake_pipe_[0], POLLIN, 0}, {conn.sock(), POLLIN, 0}};
                const int r = ::poll(fds, 2, -1);
                if (r < 0) {
                    if (errno == EINTR) continue;
                    break;
                }
                if (fds[0].revents != 0) return;
                conn.get_notifs();  // reads the socket, calls the receiver; throws when lost
                if (!conn.is_open() || (fds[1].revents & (POLLHUP | POLLERR | POLLNVAL)) != 0) {
                    break;
                }
            }
        } catch (const std::exception&) {
            // Lost or refused: retry below.
        }
        if (!pause(backoff_ms)) return;
        backoff_ms = std::min(backoff_ms * 2, 5000);
    }
}

}  // namespace jobq::postgres_detail
