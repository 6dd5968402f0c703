#pragma once
// Keeps the claim index clean while a backlog drains.
//
// Every claim leaves a dead entry at the front of the claim index (the claimed row no longer
// matches it), and each later claim walks over all of them until VACUUM removes them.
// Autovacuum comes at most once a minute (autovacuum_naptime, a server-wide setting), so
// draining a 1M-job backlog slowed claims from 0.2 ms to many milliseconds and the sustained
// rate to a third of the short-run rate (measured; PERF.md calls it the hidden cliff). This
// runs VACUUM on the jobs table itself once enough rows have been claimed through this store,
// on a connection and thread of its own so no claim waits for it. Across processes an
// advisory lock lets one vacuum at a time; the others skip their turn.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

namespace jobq::postgres_detail {

class Vacuumer {
  public:
    /// Vacuums `schema`.jobs after every `every_rows` claimed rows; 0 disables it.
    Vacuumer(std::string conninfo, std::string schema, std::int64_t every_rows);
    ~Vacuumer();
    Vacuumer(const Vacuumer&) = delete;
    Vacuumer& operator=(const Vacuumer&) = delete;

    /// Counts claimed rows; cheap, never blocks on the database.
    void rows_claimed(std::int64_t n);

  private:
    void run();

    std::string conninfo_;
    std::string schema_;
    std::int64_t every_rows_;
    std::atomic<std::int64_t> since_last_{0};

    std::mutex mutex_;
    std::condition_variable wake_;
    bool due_ = false;
    bool stopping_ = false;
    std::once_flag started_;
    std::thread thread_;
};

}  // namespace jobq::postgres_detail
