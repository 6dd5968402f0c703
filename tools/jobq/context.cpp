#include "context.hpp"

#include <filesystem>
#include <system_error>

#include <fmt/format.h>

#include "jobq/error.hpp"

namespace jobq::cli {

Context::Context(std::string database, bool json, std::ostream& out)
    : database_text_(std::move(database)), json_(json), out_(out) {}

Context::~Context() = default;

const tools::StoreLocation& Context::location() {
    if (!database_) database_ = tools::parse_store_url(database_text_);
    return *database_;
}

Store& Context::open() {
    if (!store_) store_ = tools::open_store(location());
    return *store_;
}

Store& Context::store_for_migration() {
    return open();
}

Queue& Context::queue() {
    if (queue_) return *queue_;
    // Opening SQLite creates the file, so a mistyped --db on a read command would leave an
    // empty database behind; only `migrate` may create one.
    const tools::StoreLocation& database = location();
    if (database.backend == tools::Backend::sqlite) {
        std::error_code ec;
        if (!std::filesystem::exists(database.sqlite_path, ec)) {
            throw Error(ErrorCode::schema,
                        fmt::format("database '{}' does not exist; run 'jobq migrate' first "
                                    "(or pass --db / set {})",
                                    database.url, tools::database_url_env));
        }
    }
    Store& store = open();
    if (store.schema_version() == 0) {
        throw Error(
            ErrorCode::schema,
            fmt::format("database '{}' is not migrated; run 'jobq migrate' first", database.url));
    }
    queue_ = std::make_unique<Queue>(store);
    return *queue_;
}

}  // namespace jobq::cli
