#include "context.hpp"

#include <filesystem>
#include <system_error>

#include <fmt/format.h>

#include "jobq/error.hpp"

namespace jobq::cli {

Context::Context(tools::StoreLocation database, bool json, std::ostream& out)
    : database_(std::move(database)), json_(json), out_(out) {}

Context::~Context() = default;

Store& Context::open() {
    if (!store_) store_ = tools::open_store(database_);
    return *store_;
}

Store& Context::store_for_migration() {
    return open();
}

Queue& Context::queue() {
    if (queue_) return *queue_;
    // Opening SQLite creates the file, so a mistyped --db on a read command would leave an
    // empty database behind; only `migrate` may create one.
    if (database_.backend == tools::Backend::sqlite) {
        std::error_code ec;
        if (!std::filesystem::exists(database_.sqlite_path, ec)) {
            throw Error(ErrorCode::schema,
                        fmt::format("database '{}' does not exist; run 'jobq migrate' first "
                                    "(or pass --db / set {})",
                                    database_.url, tools::database_url_env));
        }
    }
    Store& store = open();
    if (store.schema_version() == 0) {
        throw Error(
            ErrorCode::schema,
            fmt::format("database '{}' is not migrated; run 'jobq migrate' first", database_.url));
    }
    queue_ = std::make_unique<Queue>(store);
    return *queue_;
}

}  // namespace jobq::cli
