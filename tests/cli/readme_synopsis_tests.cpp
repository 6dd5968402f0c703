// README.md's summary of the jobq tool is checked against the binary's own help: every command
// appears once, with exactly the options it accepts, so the two cannot drift apart.

#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "cli_fixture.hpp"

using jobq::test::CliFixture;
using jobq::test::ProcessResult;

namespace {

const std::string usage_prefix = "usage: jobq [--db PATH_OR_URL] [--json] ";

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
}

// Every "--option" token in `text`.
std::set<std::string> options_in(const std::string& text) {
    static const std::regex option("--[a-z][a-z-]*");
    std::set<std::string> found;
    for (auto it = std::sregex_iterator(text.begin(), text.end(), option);
         it != std::sregex_iterator(); ++it) {
        found.insert(it->str());
    }
    return found;
}

// The command names `jobq --help` lists ("dlq replay", ...), groups included.
std::vector<std::string> listed_commands(CliFixture& fx) {
    const ProcessResult r = fx.jobq_raw({"--help"});
    REQUIRE(r.exit_code == 0);
    static const std::regex entry("^  ([a-z]+(?: [a-z]+)?)  .*");
    std::vector<std::string> names;
    bool in_commands = false;
    for (const std::string& line : lines_of(r.out)) {
        if (line == "commands:") {
            in_commands = true;
        } else if (in_commands) {
            std::smatch m;
            if (!std::regex_match(line, m, entry)) break;
            names.push_back(m[1]);
        }
    }
    REQUIRE(names.size() > 10);
    return names;
}

struct Help {
    std::string synopsis;           // the usage line after "jobq [global options] "
    std::set<std::string> options;  // from its "options:" section
};

Help help_of(CliFixture& fx, const std::string& name) {
    std::vector<std::string> args;
    std::istringstream words(name);
    for (std::string w; words >> w;) args.push_back(w);
    args.push_back("--help");
    const ProcessResult r = fx.jobq_raw(args);
    REQUIRE(r.exit_code == 0);
    const std::vector<std::string> lines = lines_of(r.out);
    REQUIRE(lines.at(0).starts_with(usage_prefix));
    Help help{lines.at(0).substr(usage_prefix.size()), {}};
    bool in_options = false;
    for (const std::string& line : lines) {
        if (line == "options:") {
            in_options = true;
        } else if (in_options && line.empty()) {
            break;
        } else if (in_options && line.starts_with("  --")) {
            help.options.insert(line.substr(2, line.find(' ', 2) - 2));
        }
    }
    return help;
}

// The README's command summary: one entry per line that starts with two spaces, continued by
// lines indented further; "cron add|update ..." is one entry for two commands.
std::map<std::string, std::string> readme_entries() {
    std::ifstream in(JOBQ_README_PATH);
    REQUIRE(in.good());
    std::stringstream all;
    all << in.rdbuf();
    const std::vector<std::string> lines = lines_of(all.str());
    std::size_t i = 0;
    while (i < lines.size() && lines[i] != "jobq [--db PATH_OR_URL] [--json] COMMAND") ++i;
    REQUIRE(i < lines.size());
    std::vector<std::string> entries;
    for (++i; i < lines.size() && lines[i] != "```"; ++i) {
        const std::size_t text = lines[i].find_first_not_of(' ');
        if (text == std::string::npos) continue;
        if (text > 2) {
            REQUIRE(!entries.empty());
            entries.back() += " " + lines[i].substr(text);
        } else {
            REQUIRE(lines[i].starts_with("  "));
            entries.push_back(lines[i].substr(2));
        }
    }
    std::map<std::string, std::string> by_name;
    static const std::regex head("^([a-z]+)(?: ([a-z|]+))?(?: (.*))?$");
    for (const std::string& entry : entries) {
        std::smatch m;
        REQUIRE(std::regex_match(entry, m, head));
        const std::string first = m[1];
        const std::string second = m[2];
        // A lower-case second word is a subcommand ("cron list"); otherwise it is an argument.
        if (second.empty()) {
            CHECK_MESSAGE(by_name.emplace(first, entry).second, "twice: " << first);
            continue;
        }
        std::istringstream alternatives(second);
        for (std::string sub; std::getline(alternatives, sub, '|');) {
            CHECK_MESSAGE(by_name.emplace(first + " " + sub, entry).second,
                          "twice: " << first << " " << sub);
        }
    }
    return by_name;
}

}  // namespace

TEST_CASE("README's command summary lists every command with exactly the options it accepts") {
    CliFixture fx;
    const std::map<std::string, std::string> readme = readme_entries();
    std::set<std::string> commands;
    for (const std::string& name : listed_commands(fx)) {
        const Help help = help_of(fx, name);
        if (help.synopsis == name + " COMMAND [ARGS...]") continue;  // a group, not a command
        commands.insert(name);
        INFO("command: ", name, "\nhelp: ", help.synopsis);
        const auto it = readme.find(name);
        REQUIRE_MESSAGE(it != readme.end(), "README.md does not list 'jobq " << name << "'");
        INFO("README: ", it->second);
        std::set<std::string> accepted = help.options;
        for (const std::string& o : options_in(help.synopsis)) accepted.insert(o);
        CHECK(options_in(it->second) == accepted);
        // A synopsis that spells out its arguments must appear in the README as written.
        if (help.synopsis.find("[options]") == std::string::npos) {
            CHECK(it->second == help.synopsis);
        }
    }
    for (const auto& [name, entry] : readme) {
        CHECK_MESSAGE(commands.count(name) == 1, "README.md lists an unknown command: " << name);
    }
}
