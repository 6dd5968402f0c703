#pragma once
// The commands of the jobq tool. Each one is described by data (name, arguments, options,
// help) so that parsing, usage errors and --help stay uniform; its run function receives
// arguments that already passed the generic checks.

#include <span>
#include <string_view>
#include <vector>

#include "args.hpp"
#include "context.hpp"

namespace jobq::cli {

/// A positional argument of a command.
struct Positional {
    std::string_view name;  ///< "ID", "KIND"
    bool required = true;
};

/// One command of the tool ("list", "dlq replay", ...).
struct Command {
    std::string_view name;      ///< one or two words
    std::string_view synopsis;  ///< arguments and options after the name, for usage lines
    std::string_view summary;   ///< one line for `jobq --help`
    std::string_view details;   ///< extra paragraphs for `jobq NAME --help`; may be empty
    std::vector<Positional> positionals;
    std::vector<OptionSpec> options;
    /// Parses its typed values first (throwing UsageError or Error(invalid_argument) without
    /// touching the database), then does the work. Returns the exit code.
    int (*run)(Context& ctx, const ParsedArgs& args) = nullptr;
};

/// Every command, in the order `jobq --help` lists them.
std::span<const Command> all_commands();

/// The command named by the leading words of `words` ("dlq replay 7" -> "dlq replay"), or
/// nullptr. `consumed` is set to how many words the name took.
const Command* find_command(std::span<const std::string> words, std::size_t& consumed);

// Each file in commands/ defines its commands.
Command migrate_command();
Command enqueue_command();
Command show_command();
Command list_command();
Command cancel_command();
Command retry_command();
Command delete_command();
Command dlq_command();
Command dlq_replay_command();
Command stats_command();
Command explain_command();
Command queue_command();
Command queue_list_command();
Command queue_pause_command();
Command queue_resume_command();
Command limit_command();
Command limit_list_command();
Command limit_set_command();
Command limit_remove_command();
Command cron_command();
Command cron_next_command();
Command cron_list_command();
Command cron_add_command();
Command cron_update_command();
Command cron_pause_command();
Command cron_resume_command();
Command cron_remove_command();
Command cron_history_command();
Command workflow_command();
Command workflow_add_command();
Command workflow_append_command();
Command workflow_show_command();
Command workflow_list_command();
Command workflow_cancel_command();
Command workflow_retry_command();
Command batch_command();
Command batch_add_command();
Command batch_show_command();

}  // namespace jobq::cli
