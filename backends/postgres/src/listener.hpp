#pragma once
// The PostgreSQL notifier: one session connection of its own, in a thread of its own, that
// LISTENs for wake-ups from other processes and sends this process's wake-ups to them. One
// channel per schema carries both kinds of message: a queue name ("" = every queue) wakes that
// queue's workers; "cancel <id>" tells subscribers that job <id> was cancelled (a queue name
// holds no space, so the two cannot be confused).
//
// Sending from here, outside the inserting transaction, matters: PostgreSQL serialises every
// committing transaction that has sent a NOTIFY on one global lock held through its WAL
// flush, so NOTIFY inside each enqueue made concurrent enqueues queue up one flush at a time
// (measured: 8 clients no faster than 1). Here a NOTIFY commits alone, writes no WAL, and
// the wake-ups that pile up while one is sent go out together in the next.
//
// Started by the first subscription or wake-up; reconnects with backoff when the connection
// is lost, and then wakes every local queue, since notifications sent meanwhile are gone.
// Polling stays the fallback. A cancellation sent while the connection was down is lost: the
// job's worker runs it to the end and its outcome fails the fence.

#include <atomic>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <thread>

#include "jobq/backend/notifier.hpp"

namespace jobq::postgres_detail {

class PgNotifier final : public Notifier {
  public:
    PgNotifier(std::string conninfo, std::string channel);
    ~PgNotifier() override;

    Subscription subscribe(Callback cb) override;
    /// Wakes this process's subscribers now and, through NOTIFY, every other process's.
    void notify(std::string_view queue) override;
    Subscription subscribe_cancelled(CancelCallback cb) override;
    /// Tells this process's subscribers now and, through NOTIFY, every other process's.
    void notify_cancelled(JobId id) override;
    bool reaches_other_processes() const noexcept override { return true; }

  private:
    /// Queues `payload` for the sender thread (sent once however often it is queued).
    void send(std::string_view payload);
    void start_once();
    void run();
    void signal_thread();
    void drain_signals();
    /// Waits up to `ms` or until stopped; returns false when stopped.
    bool pause(int ms);

    std::string conninfo_;
    std::string channel_;
    LocalNotifier local_;
    std::once_flag started_;
    std::thread thread_;
    std::atomic<bool> stopping_{false};
    int wake_pipe_[2] = {-1, -1};  // wakes the thread: something to send, or stop

    std::mutex pending_mutex_;
    std::set<std::string, std::less<>> pending_;  // payloads to NOTIFY
};

}  // namespace jobq::postgres_detail
