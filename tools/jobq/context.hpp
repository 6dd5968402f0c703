#pragma once
// What a command runs with: where to print, in which form, and the database, opened only
// when the command has checked its arguments (so bad input never creates or touches it).

#include <memory>
#include <optional>
#include <ostream>
#include <string>

#include "common/open_store.hpp"
#include "jobq/backend/store.hpp"
#include "jobq/queue.hpp"

namespace jobq::cli {

/// The environment of one command.
class Context {
  public:
    /// `database` is the --db text; it is parsed when a command first needs the database, so
    /// commands that need none (`cron next`) work whatever $JOBQ_DATABASE_URL holds.
    Context(std::string database, bool json, std::ostream& out);
    ~Context();
    Context(const Context&) = delete;
    Context& operator=(const Context&) = delete;

    /// Whether output is JSON (--json) rather than text tables.
    bool json() const noexcept { return json_; }
    /// Where results go (stdout).
    std::ostream& out() noexcept { return out_; }
    /// The database as given (--db or the default), for messages.
    const std::string& database_url() { return location().url; }

    /// The store, opened on first use, for `migrate`: creates the database when needed.
    Store& store_for_migration();
    /// A queue on a migrated store. Throws Error(schema) telling the user to run
    /// `jobq migrate` when the database does not exist or has no schema yet.
    Queue& queue();

  private:
    Store& open();
    const tools::StoreLocation& location();

    std::string database_text_;
    std::optional<tools::StoreLocation> database_;
    bool json_;
    std::ostream& out_;
    std::unique_ptr<Store> store_;
    std::unique_ptr<Queue> queue_;
};

}  // namespace jobq::cli
