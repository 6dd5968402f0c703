#include "faulty_disk.hpp"

#include <atomic>
#include <mutex>
#include <stdexcept>

#include <sqlite3.h>

namespace jobq::testing {

namespace {

std::atomic<bool> disk_full{false};
std::atomic<int> wal_sync_count{0};

sqlite3_vfs* real_vfs = nullptr;
sqlite3_vfs faulty_vfs;

// Our file object, followed in the same allocation by the real VFS's file object.
struct File {
    sqlite3_file base;
    sqlite3_file* real;
    bool is_wal;
};

sqlite3_file* real_of(sqlite3_file* f) {
    return reinterpret_cast<File*>(f)->real;
}

int x_close(sqlite3_file* f) {
    return real_of(f)->pMethods->xClose(real_of(f));
}
int x_read(sqlite3_file* f, void* buf, int n, sqlite3_int64 off) {
    return real_of(f)->pMethods->xRead(real_of(f), buf, n, off);
}
int x_write(sqlite3_file* f, const void* buf, int n, sqlite3_int64 off) {
    if (disk_full.load()) return SQLITE_FULL;
    return real_of(f)->pMethods->xWrite(real_of(f), buf, n, off);
}
int x_truncate(sqlite3_file* f, sqlite3_int64 size) {
    return real_of(f)->pMethods->xTruncate(real_of(f), size);
}
int x_sync(sqlite3_file* f, int flags) {
    if (reinterpret_cast<File*>(f)->is_wal) ++wal_sync_count;
    return real_of(f)->pMethods->xSync(real_of(f), flags);
}
int x_file_size(sqlite3_file* f, sqlite3_int64* size) {
    return real_of(f)->pMethods->xFileSize(real_of(f), size);
}
int x_lock(sqlite3_file* f, int level) {
    return real_of(f)->pMethods->xLock(real_of(f), level);
}
int x_unlock(sqlite3_file* f, int level) {
    return real_of(f)->pMethods->xUnlock(real_of(f), level);
}
int x_check_reserved_lock(sqlite3_file* f, int* out) {
    return real_of(f)->pMethods->xCheckReservedLock(real_of(f), out);
}
int x_file_control(sqlite3_file* f, int op, void* arg) {
    return real_of(f)->pMethods->xFileControl(real_of(f), op, arg);
}
int x_sector_size(sqlite3_file* f) {
    return real_of(f)->pMethods->xSectorSize(real_of(f));
}
int x_device_characteristics(sqlite3_file* f) {
    return real_of(f)->pMethods->xDeviceCharacteristics(real_of(f));
}
int x_shm_map(sqlite3_file* f, int page, int size, int extend, void volatile** out) {
    return real_of(f)->pMethods->xShmMap(real_of(f), page, size, extend, out);
}
int x_shm_lock(sqlite3_file* f, int offset, int n, int flags) {
    return real_of(f)->pMethods->xShmLock(real_of(f), offset, n, flags);
}
void x_shm_barrier(sqlite3_file* f) {
    real_of(f)->pMethods->xShmBarrier(real_of(f));
}
int x_shm_unmap(sqlite3_file* f, int delete_flag) {
    return real_of(f)->pMethods->xShmUnmap(real_of(f), delete_flag);
}
int x_fetch(sqlite3_file* f, sqlite3_int64 off, int n, void** out) {
    return real_of(f)->pMethods->xFetch(real_of(f), off, n, out);
}
int x_unfetch(sqlite3_file* f, sqlite3_int64 off, void* p) {
    return real_of(f)->pMethods->xUnfetch(real_of(f), off, p);
}

const sqlite3_io_methods io_methods = {
    3,
    x_close,
    x_read,
    x_write,
    x_truncate,
    x_sync,
    x_file_size,
    x_lock,
    x_unlock,
    x_check_reserved_lock,
    x_file_control,
    x_sector_size,
    x_device_characteristics,
    x_shm_map,
    x_shm_lock,
    x_shm_barrier,
    x_shm_unmap,
    x_fetch,
    x_unfetch,
};

int x_open(sqlite3_vfs*, sqlite3_filename name, sqlite3_file* f, int flags, int* out_flags) {
    File* file = reinterpret_cast<File*>(f);
    file->real = reinterpret_cast<sqlite3_file*>(file + 1);
    file->is_wal = (flags & SQLITE_OPEN_WAL) != 0;
    const int rc = real_vfs->xOpen(real_vfs, name, file->real, flags, out_flags);
    // SQLite closes only files whose pMethods is set, so set it only when there is a file.
    file->base.pMethods = file->real->pMethods != nullptr ? &io_methods : nullptr;
    return rc;
}

}  // namespace

void FaultyDisk::install() {
    static std::once_flag once;
    std::call_once(once, [] {
        real_vfs = sqlite3_vfs_find(nullptr);
        if (real_vfs == nullptr || real_vfs->iVersion < 1) {
            throw std::runtime_error("FaultyDisk: no default SQLite VFS to wrap");
        }
        // Every method but xOpen is the real one's: they do not depend on which VFS object
        // SQLite passes them.
        faulty_vfs = *real_vfs;
        faulty_vfs.zName = "jobq-faulty-disk";
        faulty_vfs.szOsFile = static_cast<int>(sizeof(File)) + real_vfs->szOsFile;
        faulty_vfs.pNext = nullptr;
        faulty_vfs.xOpen = x_open;
        if (sqlite3_vfs_register(&faulty_vfs, 1) != SQLITE_OK) {
            throw std::runtime_error("FaultyDisk: sqlite3_vfs_register failed");
        }
    });
}

void FaultyDisk::set_full(bool full) {
    disk_full.store(full);
}

int FaultyDisk::wal_syncs() {
    return wal_sync_count.load();
}

void FaultyDisk::reset_counters() {
    wal_sync_count.store(0);
}

}  // namespace jobq::testing
