// Conformance fixtures for PostgresStore: each database is a fresh schema of its own on the
// server named by $JOBQ_TEST_POSTGRES_URL (scripts/test.sh starts one), dropped with everything
// in it when the test case ends. Without that variable every case fails with a message that
// says so: a PostgreSQL suite that passes without a server would prove nothing.

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <stdexcept>
#include <string>

#include <pqxx/pqxx>

#include "jobq/postgres/postgres_store.hpp"
#include "store_factory.hpp"

namespace jobq::conformance {

namespace {

constexpr const char* url_variable = "JOBQ_TEST_POSTGRES_URL";

const std::string& server_url() {
    static const std::string url = [] {
        const char* value = std::getenv(url_variable);
        if (value == nullptr || *value == '\0') {
            throw std::runtime_error(
                std::string(url_variable) +
                " is not set: the PostgreSQL conformance suite needs a running server. Run it "
                "through scripts/test.sh, or export the URL of a server you started (for "
                "example with scripts/pg.sh start DIR).");
        }
        return std::string(value);
    }();
    return url;
}

// jobq_t_<pid>_<salt>_<n>: unique within this run (the counter), and apart from a schema an
// earlier run with the same pid left behind when it was killed (the salt).
std::string unique_schema() {
    static std::atomic<int> counter{0};
    static const unsigned salt = std::random_device{}() % 1'000'000u;
    return "jobq_t_" + std::to_string(::getpid()) + "_" + std::to_string(salt) + "_" +
           std::to_string(counter++);
}

class PostgresTestDatabase final : public TestDatabase {
  public:
    explicit PostgresTestDatabase(bool migrated) : url_(server_url()), schema_(unique_schema()) {
        try {
            store_ = std::make_unique<PostgresStore>(url_, options(migrated));
        } catch (...) {
            drop_schema();  // a migration that failed half-way may have left part of it
            throw;
        }
    }

    ~PostgresTestDatabase() override {
        // The store's connections go first: an idle one holds no lock, but a LISTEN or a
        // half-finished transaction would make the DROP wait.
        store_.reset();
        drop_schema();
    }

    Store& store() override { return *store_; }

    std::unique_ptr<Store> open_another() override {
        return std::make_unique<PostgresStore>(url_, options(false));
    }

  private:
    void drop_schema() noexcept {
        try {
            pqxx::connection c{url_};
            pqxx::work tx{c};
            tx.exec0("DROP SCHEMA IF EXISTS " + tx.quote_name(schema_) + " CASCADE");
            tx.commit();
        } catch (const std::exception& e) {
            std::fprintf(stderr, "conformance: could not drop schema %s: %s\n", schema_.c_str(),
                         e.what());
        }
    }

    PostgresOptions options(bool migrate) const {
        PostgresOptions o;
        o.schema = schema_;
        o.migrate = migrate;
        return o;
    }

    std::string url_;
    std::string schema_;
    std::unique_ptr<PostgresStore> store_;
};

}  // namespace

std::unique_ptr<TestDatabase> make_test_database(bool migrated) {
    return std::make_unique<PostgresTestDatabase>(migrated);
}

std::string_view backend_name() {
    return "postgres";
}

}  // namespace jobq::conformance
