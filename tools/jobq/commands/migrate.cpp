#include <fmt/format.h>

#include "../commands.hpp"
#include "../output.hpp"

namespace jobq::cli {

namespace {

int run_migrate(Context& ctx, const ParsedArgs&) {
    Store& store = ctx.store_for_migration();
    const int before = store.schema_version();
    const int after = store.migrate();
    if (ctx.json()) {
        print_json(ctx.out(), {{"database", ctx.database_url()},
                               {"schema_version", after},
                               {"previous_version", before}});
    } else if (before == after) {
        ctx.out() << fmt::format("database '{}' is up to date at schema version {}\n",
                                 ctx.database_url(), after);
    } else {
        ctx.out() << fmt::format("migrated database '{}' from schema version {} to {}\n",
                                 ctx.database_url(), before, after);
    }
    return 0;
}

}  // namespace

Command migrate_command() {
    return {
        .name = "migrate",
        .synopsis = "",
        .summary = "Create or upgrade the database schema; print its version",
        .details =
            "Safe to run again: an up-to-date database is left as it is. Every other command\n"
            "needs a migrated database.",
        .positionals = {},
        .options = {},
        .run = run_migrate,
    };
}

}  // namespace jobq::cli
