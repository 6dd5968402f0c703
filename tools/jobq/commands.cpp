#include "commands.hpp"

#include <algorithm>
#include <string>

namespace jobq::cli {

std::span<const Command> all_commands() {
    static const std::vector<Command> commands{
        migrate_command(),
        enqueue_command(),
        show_command(),
        list_command(),
        cancel_command(),
        retry_command(),
        delete_command(),
        dlq_command(),
        dlq_replay_command(),
        stats_command(),
        explain_command(),
        queue_command(),
        queue_list_command(),
        queue_pause_command(),
        queue_resume_command(),
        limit_command(),
        limit_list_command(),
        limit_set_command(),
        limit_remove_command(),
        cron_command(),
        cron_next_command(),
        cron_list_command(),
        cron_add_command(),
        cron_update_command(),
        cron_pause_command(),
        cron_resume_command(),
        cron_remove_command(),
        cron_history_command(),
        workflow_command(),
        workflow_add_command(),
        workflow_append_command(),
        workflow_show_command(),
        workflow_list_command(),
        workflow_cancel_command(),
        workflow_retry_command(),
        batch_command(),
        batch_add_command(),
        batch_show_command(),
    };
    return commands;
}

const Command* find_command(std::span<const std::string> words, std::size_t& consumed) {
    const Command* best = nullptr;
    consumed = 0;
    // Longest match wins, so "dlq replay" is not mistaken for "dlq" with an argument.
    for (const Command& c : all_commands()) {
        std::size_t n = 0;
        std::string_view rest = c.name;
        bool match = true;
        while (!rest.empty()) {
            const std::size_t space = rest.find(' ');
            const std::string_view word = rest.substr(0, space);
            if (n >= words.size() || words[n] != word) {
                match = false;
                break;
            }
            ++n;
            rest = space == std::string_view::npos ? std::string_view{} : rest.substr(space + 1);
        }
        if (match && n > consumed) {
            best = &c;
            consumed = n;
        }
    }
    return best;
}

}  // namespace jobq::cli
