#pragma once
// Usage texts of the jobq tool, generated from the command descriptions.

#include <ostream>
#include <span>

#include "args.hpp"
#include "commands.hpp"

namespace jobq::cli {

/// Options every command accepts, before or after its name.
std::span<const OptionSpec> global_options();

/// `jobq --help`: synopsis, the commands, the global options, the exit codes.
void print_usage(std::ostream& out);

/// `jobq COMMAND --help`: synopsis, description, the command's options and the global ones.
void print_command_help(std::ostream& out, const Command& command);

}  // namespace jobq::cli
