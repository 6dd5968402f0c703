#pragma once
// FaultyDisk: a SQLite VFS that wraps the default one, installed as the process's default so
// every connection a SqliteStore opens goes through it. Tests use it to make the disk refuse
// writes (SQLITE_FULL) and to count WAL syncs, which is how durability shows from outside.
// PRAGMA max_page_count cannot stand in for a full disk: it is a setting of one connection,
// so a second connection cannot impose it on the store's writer.

namespace jobq::testing {

class FaultyDisk {
  public:
    /// Makes the wrapping VFS the default; idempotent. Connections opened earlier keep theirs.
    static void install();
    /// While full, every write to a database or WAL file fails with SQLITE_FULL.
    static void set_full(bool full);
    /// WAL file syncs since the last reset_counters().
    static int wal_syncs();
    static void reset_counters();
};

/// Fills the disk for as long as it lives.
class DiskFull {
  public:
    DiskFull() { FaultyDisk::set_full(true); }
    ~DiskFull() { FaultyDisk::set_full(false); }
    DiskFull(const DiskFull&) = delete;
    DiskFull& operator=(const DiskFull&) = delete;
};

}  // namespace jobq::testing
