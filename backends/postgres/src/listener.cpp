#include "listener.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <string_view>
#include <vector>

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <pqxx/connection>
#include <pqxx/except>
#include <pqxx/nontransaction>
#include <pqxx/notification>

#include "pg_array.hpp"

namespace jobq::postgres_detail {

namespace {

// Payloads are a queue name ("" = every queue) or "cancel <id>": a queue name holds no space.
constexpr std::string_view cancel_prefix = "cancel ";

class Receiver final : public pqxx::notification_receiver {
  public:
    Receiver(pqxx::connection_base& c, const std::string& channel, Notifier& local)
        : pqxx::notification_receiver(c, channel), own_pid_(c.backendpid()), local_(local) {}
    void operator()(const std::string& payload, int backend_pid) override {
        // Our own NOTIFYs come back to us; local subscribers were told when they were sent.
        if (backend_pid == own_pid_) return;
        const std::string_view p = payload;
        if (p.starts_with(cancel_prefix)) {
            const std::string_view digits = p.substr(cancel_prefix.size());
            JobId id = 0;
            const auto r = std::from_chars(digits.data(), digits.data() + digits.size(), id);
            if (r.ec == std::errc{} && r.ptr == digits.data() + digits.size()) {
                local_.notify_cancelled(id);
            }
            return;
        }
        local_.notify(payload);
    }

  private:
    int own_pid_;
    Notifier& local_;
};

// Other processes hear of new work at most this much later than they could; this process's
// own subscribers are woken at once, in notify().
constexpr auto min_notify_gap = std::chrono::milliseconds{1};

}  // namespace

PgNotifier::PgNotifier(std::string conninfo, std::string channel)
    : conninfo_(std::move(conninfo)), channel_(std::move(channel)) {}

PgNotifier::~PgNotifier() {
    stopping_ = true;
    if (thread_.joinable()) {
        signal_thread();
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
    send(queue);
}

void PgNotifier::send(std::string_view payload) {
    bool first = false;
    {
        std::lock_guard lock(pending_mutex_);
        first = pending_.empty();
        if (pending_.find(payload) == pending_.end()) pending_.emplace(payload);
    }
    start_once();
    // One signal per batch: later wake-ups join the set until the thread takes it.
    if (first) signal_thread();
}

void PgNotifier::signal_thread() {
    if (wake_pipe_[1] < 0) return;
    const char byte = 1;
    [[maybe_unused]] const auto n = ::write(wake_pipe_[1], &byte, 1);
}

void PgNotifier::drain_signals() {
    char buf[64];
    while (::read(wake_pipe_[0], buf, sizeof buf) > 0) {
    }
}

void PgNotifier::start_once() {
    std::call_once(started_, [this] {
        if (::pipe(wake_pipe_) != 0) return;  // no listener: polling still works
        for (const int fd : wake_pipe_) {
            ::fcntl(fd, F_SETFD, FD_CLOEXEC);
            ::fcntl(fd, F_SETFL, O_NONBLOCK);
        }
        thread_ = std::thread([this] { run(); });
    });
}

bool PgNotifier::pause(int ms) {
    // Wake-ups to send do not cut the backoff short: only stopping does.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    while (!stopping_) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) return true;
        pollfd p{wake_pipe_[0], POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(left.count())) > 0) drain_signals();
    }
    return false;
}

void PgNotifier::run() {
    int backoff_ms = 50;
    bool connected_before = false;
    auto last_sent = std::chrono::steady_clock::time_point{};
    while (!stopping_) {
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
                // Sends what has piled up, but no more often than min_notify_gap: a producer
                // enqueueing one job at a time would otherwise pay for a NOTIFY per job.
                int timeout_ms = -1;
                bool pending = false;
                {
                    std::lock_guard lock(pending_mutex_);
                    pending = !pending_.empty();
                }
                if (pending) {
                    const auto now = std::chrono::steady_clock::now();
                    if (now - last_sent >= min_notify_gap) {
                        std::vector<std::string> payloads;
                        {
                            std::lock_guard lock(pending_mutex_);
                            payloads.assign(pending_.begin(), pending_.end());
                            pending_.clear();
                        }
                        pqxx::nontransaction tx(conn);
                        tx.exec_params("SELECT pg_notify($1, p) FROM unnest($2::text[]) AS p",
                                       channel_, text_array(payloads));
                        last_sent = now;
                    } else {
                        timeout_ms = 1;
                    }
                }
                pollfd fds[2] = {{wake_pipe_[0], POLLIN, 0}, {conn.sock(), POLLIN, 0}};
                const int r = ::poll(fds, 2, timeout_ms);
                if (r < 0) {
                    if (errno == EINTR) continue;
                    break;
                }
                if (fds[0].revents != 0) drain_signals();
                if (stopping_) return;
                if (fds[1].revents != 0) {
                    conn.get_notifs();  // reads the socket, calls the receiver; throws when lost
                    if (!conn.is_open() || (fds[1].revents & (POLLHUP | POLLERR | POLLNVAL)) != 0) {
                        break;
                    }
                }
            }
        } catch (const std::exception&) {
            // Lost or refused: retry below. Wake-ups queued meanwhile are sent after it.
        }
        if (!pause(backoff_ms)) return;
        backoff_ms = std::min(backoff_ms * 2, 5000);
    }
}

Subscription PgNotifier::subscribe_cancelled(CancelCallback cb) {
    Subscription s = local_.subscribe_cancelled(std::move(cb));
    start_once();  // cancellations from other processes arrive through the listener
    return s;
}

void PgNotifier::notify_cancelled(JobId id) {
    local_.notify_cancelled(id);
    send(std::string(cancel_prefix) + std::to_string(id));
}

}  // namespace jobq::postgres_detail
