#include "help.hpp"

#include <algorithm>
#include <string>

#include <fmt/format.h>

namespace jobq::cli {

namespace {

const std::vector<OptionSpec> global_specs{
    {"--db", "PATH_OR_URL",
     "the database: PATH, sqlite:PATH or sqlite:///ABS/PATH, with optional\n"
     "?durability=full|normal&mode=auto|rw|ro (auto: read-only when this\n"
     "user may not write it); or postgresql://[USER[:PASSWORD]@]HOST[:PORT]/DB\n"
     "with optional ?schema=NAME&pool_size=N and any libpq parameters\n"
     "(default: $JOBQ_DATABASE_URL, else ./jobq.db)"},
    {"--json", "", "print JSON instead of tables"},
};

// --help and -h are caught before option parsing (they win over any other mistake), so they
// are listed for people but are not options the parser knows.
const OptionSpec help_entry{"-h, --help", "", "show this help"};

std::string option_label(const OptionSpec& o) {
    return o.takes_value() ? fmt::format("{} {}", o.name, o.value_name) : std::string(o.name);
}

void print_options(std::ostream& out, std::string_view heading, std::span<const OptionSpec> options,
                   std::size_t width) {
    if (options.empty()) return;
    out << '\n' << heading << ":\n";
    for (const OptionSpec& o : options) {
        // Long help continues on lines of its own, under the first line's text.
        std::string_view help = o.help;
        const std::string label = option_label(o);
        bool first = true;
        while (true) {
            const std::size_t newline = help.find('\n');
            const std::string_view line = help.substr(0, newline);
            const bool last = newline == std::string_view::npos;
            const std::string repeat = last && o.repeatable ? " (repeatable)" : "";
            out << fmt::format("  {:<{}}  {}{}\n", first ? label : "", width, line, repeat);
            if (last) break;
            help.remove_prefix(newline + 1);
            first = false;
        }
    }
}

std::size_t label_width(std::span<const OptionSpec> options) {
    std::size_t width = 0;
    for (const OptionSpec& o : options) width = std::max(width, option_label(o).size());
    return width;
}

}  // namespace

std::span<const OptionSpec> global_options() {
    return global_specs;
}

void print_usage(std::ostream& out) {
    out << "usage: jobq [--db PATH_OR_URL] [--json] COMMAND [ARGS...]\n"
           "\n"
           "Inspect and operate a jobq job store.\n"
           "\n"
           "commands:\n";
    std::size_t width = 0;
    for (const Command& c : all_commands()) width = std::max(width, c.name.size());
    for (const Command& c : all_commands()) {
        out << fmt::format("  {:<{}}  {}\n", c.name, width, c.summary);
    }
    // --version only makes sense in place of a command, so commands do not list it.
    std::vector<OptionSpec> options = global_specs;
    options.push_back(help_entry);
    options.push_back({"--version", "", "print the version"});
    print_options(out, "global options (before or after the command)", options,
                  label_width(options));
    out << "\n"
           "'jobq help COMMAND' or 'jobq COMMAND --help' describes a command.\n"
           "Exit codes: 0 success; 1 runtime failure (job, workflow or schedule not found,\n"
           "invalid state, database not migrated, storage error); 2 bad usage or bad input\n"
           "(nothing was written); 3 enqueue refused: the tenant's quota of queued jobs is\n"
           "full (nothing was written; see 'jobq limit set tenant:NAME --max-queued N').\n";
}

void print_command_help(std::ostream& out, const Command& command) {
    out << fmt::format("usage: jobq [--db PATH_OR_URL] [--json] {}{}{}\n", command.name,
                       command.synopsis.empty() ? "" : " ", command.synopsis);
    out << '\n' << command.summary << ".\n";
    if (!command.details.empty()) out << '\n' << command.details << '\n';
    std::vector<OptionSpec> globals = global_specs;
    globals.push_back(help_entry);
    const std::size_t width = std::max(label_width(command.options), label_width(globals));
    print_options(out, "options", command.options, width);
    print_options(out, "global options", globals, width);
}

}  // namespace jobq::cli
