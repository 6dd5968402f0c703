#pragma once
// Checkpointer: copies the write-ahead log back into the database file on a thread of its own,
// so no claim, insert or completion pays for it.
//
// SQLite's default runs a checkpoint inside whichever commit finds the WAL past 1000 pages:
// that commit then copies and fsyncs the whole log while holding the store's writer, and the
// job behind it waits (measured: the p99 of enqueue-to-start at 20 jobs/s was tens of
// milliseconds on synchronous=FULL, the p50 about one). Here the writer's commits only count
// pages (a WAL hook, which also turns the automatic checkpoint off) and wake this thread,
// which runs a PASSIVE checkpoint on its own connection: it never blocks a writer or a reader,
// and copies what no reader still needs. A checkpoint that fails (a full disk, another
// process checkpointing) is simply tried again after the next commits; the log stays valid.
//
// The log starts again from its beginning only when a write finds every frame copied, which a
// steady stream of commits racing the thread rarely allows. So a checkpoint is asked for once
// per threshold_pages of new log (not after every commit past it, which cost two fsyncs per
// commit), and a log that still reaches cap_pages is checkpointed in the commit itself, as
// SQLite would: with most of it copied already, that one is short, and the log cannot grow
// without bound.

#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include <sqlite3.h>

#include "jobq/sqlite/sqlite_store.hpp"

namespace jobq::sqlite_detail {

class Checkpointer {
  public:
    /// WAL size, in pages, from which a checkpoint is due: SQLite's own default.
    static constexpr int threshold_pages = 1000;
    /// WAL size, in pages, at which the committing writer checkpoints itself.
    static constexpr int cap_pages = 4 * threshold_pages;

    /// Watches `writer`'s commits on the database file `path`.
    Checkpointer(sqlite3* writer, std::string path, SqliteDurability durability);
    ~Checkpointer();
    Checkpointer(const Checkpointer&) = delete;
    Checkpointer& operator=(const Checkpointer&) = delete;

  private:
    static int on_commit(void* self, sqlite3* db, const char* name, int pages);
    // The checkpoint a commit runs itself at cap_pages, on the writer's connection.
    void checkpoint_here(sqlite3* writer);
    void run();

    sqlite3* writer_;
    std::string path_;
    SqliteDurability durability_;
    std::mutex mutex_;
    std::condition_variable wake_;
    // Written by the writer's commits only (under its lock): no mutex.
    int last_pages_ = 0;
    int next_at_ = threshold_pages;
    bool due_ = false;      // the thread should checkpoint
    bool running_ = false;  // the thread is checkpointing
    bool held_ = false;     // a commit checkpoints itself: the thread waits
    bool stop_ = false;
    std::thread thread_;
};

}  // namespace jobq::sqlite_detail
