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
    wake_.notify_one();
    thread_.join();
}

long Checkpointer::runs() const {
    std::lock_guard lock(mutex_);
    return runs_;
}

int Checkpointer::on_commit(void* self, sqlite3*, const char*, int pages) {
    if (pages < threshold_pages) return SQLITE_OK;
    auto* c = static_cast<Checkpointer*>(self);
    {
        std::lock_guard lock(c->mutex_);
        if (c->due_) return SQLITE_OK;
        c->due_ = true;
    }
    c->wake_.notify_one();
    return SQLITE_OK;
}

void Checkpointer::run() {
    sqlite3* db = nullptr;
    for (;;) {
        {
            std::unique_lock lock(mutex_);
            wake_.wait(lock, [this] { return due_ || stop_; });
            if (stop_) break;
            due_ = false;
            ++runs_;
        }
        if (db == nullptr) {
            // Opened on first need: a store that never fills 1000 pages never opens it.
            if (sqlite3_open_v2(path_.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
                                nullptr) != SQLITE_OK) {
                sqlite3_close_v2(db);
                db = nullptr;
                continue;
            }
            // The checkpoint's own fsyncs follow the store's durability.
            sqlite3_exec(db,
                         durability_ == SqliteDurability::full ? "PRAGMA synchronous = FULL"
                                                               : "PRAGMA synchronous = NORMAL",
                         nullptr, nullptr, nullptr);
        }
        sqlite3_wal_checkpoint_v2(db, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    }
    sqlite3_close_v2(db);
}

}  // namespace jobq::sqlite_detail
