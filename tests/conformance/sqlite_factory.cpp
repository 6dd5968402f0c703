// Conformance fixtures for SqliteStore: each database is a file in its own temporary
// directory, deleted with its -wal and -shm files when the test case ends.

#include <atomic>
#include <filesystem>
#include <random>
#include <string>

#include <unistd.h>

#include "jobq/sqlite/sqlite_store.hpp"
#include "store_factory.hpp"

namespace jobq::conformance {

namespace {

namespace fs = std::filesystem;

fs::path make_private_directory() {
    static std::atomic<int> counter{0};
    static const unsigned salt = std::random_device{}();
    for (;;) {
        const fs::path dir =
            fs::temp_directory_path() / ("jobq-conformance-" + std::to_string(::getpid()) + "-" +
                                         std::to_string(salt) + "-" + std::to_string(counter++));
        if (fs::create_directory(dir)) return dir;
    }
}

class SqliteTestDatabase final : public TestDatabase {
  public:
    explicit SqliteTestDatabase(bool migrated)
        : dir_(make_private_directory()),
          file_((dir_ / "jobs.db").string()),
          store_(std::make_unique<SqliteStore>(file_, options(migrated))) {}

    ~SqliteTestDatabase() override {
        store_.reset();
        std::error_code ec;
        fs::remove_all(dir_, ec);
    }

    Store& store() override { return *store_; }

    std::unique_ptr<Store> open_another() override {
        return std::make_unique<SqliteStore>(file_, options(false));
    }

  private:
    static SqliteOptions options(bool migrate) {
        SqliteOptions o;
        // The suite asserts behaviour, not durability; NORMAL keeps it fast on slow disks.
        o.durability = SqliteDurability::normal;
        // Generous: the concurrency case has two handles take turns on the write lock on a
        // loaded machine.
        o.busy_timeout = std::chrono::seconds{30};
        o.migrate = migrate;
        return o;
    }

    fs::path dir_;
    std::string file_;
    std::unique_ptr<SqliteStore> store_;
};

}  // namespace

std::unique_ptr<TestDatabase> make_test_database(bool migrated) {
    return std::make_unique<SqliteTestDatabase>(migrated);
}

std::string_view backend_name() {
    return "sqlite";
}

}  // namespace jobq::conformance
