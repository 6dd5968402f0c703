#pragma once
// What a backend provides to run the Store conformance suite (store_conformance.cpp): fresh
// databases. Each backend's test executable links the suite, main.cpp and its own factory
// file (sqlite_factory.cpp, postgres_factory.cpp, ...) defining the two functions below.

#include <memory>
#include <string_view>

#include "jobq/backend/store.hpp"

namespace jobq::conformance {

/// A database private to one test case, removed (or dropped) when this object is destroyed.
class TestDatabase {
  public:
    virtual ~TestDatabase() = default;
    /// The handle a test case works through.
    virtual Store& store() = 0;
    /// A second handle on the same database that shares no connection with store(), as a
    /// second process would have one. It must not outlive this object.
    virtual std::unique_ptr<Store> open_another() = 0;
};

/// A fresh, empty database: migrated, or left at schema version 0 when `migrated` is false.
std::unique_ptr<TestDatabase> make_test_database(bool migrated = true);

/// The backend's name, shown in test output.
std::string_view backend_name();

}  // namespace jobq::conformance
