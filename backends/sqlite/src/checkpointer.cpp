#include "checkpointer.hpp"

namespace jobq::sqlite_detail {

Checkpointer::Checkpointer(sqlite3* writer, std::string path, SqliteDurability durability)
    : writer_(writer), path_(std::move(path)), durability_(durability) {
    thread_ = std::thread([this] { run(); });
    sqlite3_wal_hook(writer_, &Checkpointer::on_commit, this);
}

Checkpointer::~Checkpointer() {
    sqlite3_wal_hook(writer_, nullptr, nullptr);
    {
        std::lock_guard lock(mutex_);
        stop_ = true;
    }
    wake_.notify_all();
    thread_.join();
}

int Checkpointer::on_commit(void* self, sqlite3* db, const char*, int pages) {
    auto* c = static_cast<Checkpointer*>(self);
    if (pages < c->last_pages_) c->next_at_ = threshold_pages;  // the log started again
    c->last_pages_ = pages;
    if (pages >= cap_pages) {
        c->checkpoint_here(db);
        return SQLITE_OK;
    }
    if (pages < c->next_at_) return SQLITE_OK;
    c->next_at_ = pages + threshold_pages;
    {
        std::lock_guard lock(c->mutex_);
        if (c->due_) return SQLITE_OK;
        c->due_ = true;
    }
    c->wake_.notify_all();
    return SQLITE_OK;
}

void Checkpointer::checkpoint_here(sqlite3* writer) {
    // Only one checkpoint runs at a time (SQLite answers SQLITE_BUSY to a second): wait for
    // the thread's to end and keep it from starting another. The writer's lock is held, so no
    // frame is added meanwhile and this one copies the whole log; the next write starts it
    // again from the beginning.
    std::unique_lock lock(mutex_);
    held_ = true;
    wake_.wait(lock, [this] { return !running_; });
    lock.unlock();
    sqlite3_wal_checkpoint_v2(writer, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    lock.lock();
    held_ = false;
    due_ = false;  // whatever was asked for is done
}

void Checkpointer::run() {
    sqlite3* db = nullptr;
    std::unique_lock lock(mutex_);
    for (;;) {
        wake_.wait(lock, [this] { return (due_ && !held_) || stop_; });
        if (stop_) break;
        due_ = false;
        running_ = true;
        lock.unlock();
        if (db == nullptr) {
            // Opened on first need: a store that never fills 1000 pages never opens it.
            if (sqlite3_open_v2(path_.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
                                nullptr) != SQLITE_OK) {
                sqlite3_close_v2(db);
                db = nullptr;
            } else {
                // The checkpoint's own fsyncs follow the store's durability.
                sqlite3_exec(db,
                             durability_ == SqliteDurability::full ? "PRAGMA synchronous = FULL"
                                                                   : "PRAGMA synchronous = NORMAL",
                             nullptr, nullptr, nullptr);
            }
        }
        if (db != nullptr) {
            sqlite3_wal_checkpoint_v2(db, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
        }
        lock.lock();
        running_ = false;
        wake_.notify_all();  // a writer may wait in checkpoint_here
    }
    lock.unlock();
    sqlite3_close_v2(db);
}

}  // namespace jobq::sqlite_detail
