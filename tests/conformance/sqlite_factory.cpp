// Conformance fixtures for SqliteStore: each database is a file in its own temporary
// directory (tests/support/temp_dir.hpp), deleted with its -wal and -shm files when the test
// case ends.

#include <chrono>
#include <memory>
#include <string>

#include "jobq/sqlite/sqlite_store.hpp"
#include "store_factory.hpp"
#include "support/temp_dir.hpp"

namespace jobq::conformance {

namespace {

class SqliteTestDatabase final : public TestDatabase {
  public:
    explicit SqliteTestDatabase(bool migrated)
        : file_(dir_.file()), store_(std::make_unique<SqliteStore>(file_, options(migrated))) {}

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

    // Declared first: the store closes before its directory goes.
    test::TempDir dir_;
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
