#pragma once
// The PostgreSQL notifier: LISTEN on a session connection of its own, in a thread of its own,
// turning NOTIFY into wake-ups of this process's subscribers. Started by the first
// subscription; reconnects with backoff when the connection is lost, and then wakes every
// queue, since notifications sent while it was away are gone. Polling stays the fallback.

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "jobq/notifier.hpp"

namespace jobq::postgres_detail {

class PgNotifier final : public Notifier {
  public:
    /// `send` issues NOTIFY `channel` with the queue as payload (best effort; may throw).
    PgNotifier(std::string conninfo, std::string channel,
               std::function<void(std::string_view)> send);
    ~PgNotifier() override;

    Subscription subscribe(Callback cb) override;
    /// Wakes this process's subscribers now and every other process through NOTIFY.
    void notify(std::string_view queue) override;

  private:
    void start_once();
    void run();
    /// Waits up to `ms` or until stopped; returns false when stopped.
    bool pause(int ms);

    std::string conninfo_;
    std::string channel_;
    std::function<void(std::string_view)> send_;
    LocalNotifier local_;
    std::once_flag started_;
    std::thread thread_;
    int wake_pipe_[2] = {-1, -1};  // written by the destructor to end the thread's wait
};

}  // namespace jobq::postgres_detail
