#pragma once
// How the jobq tool prints: aligned text tables for people, JSON for scripts, and the short
// time forms both use.

#include <cstddef>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "jobq/clock.hpp"

namespace jobq::cli {

/// Which side of its column a cell hugs.
enum class Align { left, right };

/// A table column.
struct Column {
    std::string header;
    Align align = Align::left;
};

/// A text table whose columns are as wide as their widest cell, two spaces apart.
class Table {
  public:
    explicit Table(std::vector<Column> columns);
    /// Adds a row; it must have one cell per column.
    void add_row(std::vector<std::string> cells);
    /// True when no row was added.
    bool empty() const noexcept { return rows_.empty(); }
    /// Writes the header and the rows, without trailing spaces.
    void print(std::ostream& out) const;

  private:
    std::vector<Column> columns_;
    std::vector<std::vector<std::string>> rows_;
};

/// Writes `value` indented, one document per call; invalid UTF-8 in stored strings is
/// replaced rather than aborting the output.
void print_json(std::ostream& out, const nlohmann::json& value);
/// The shape every list command prints: an object with the items under one plural key
/// ({"jobs": [...]}, {"queues": [...]}, ...), so a cursor or a count can join them later
/// without breaking a script that reads the items.
void print_json_list(std::ostream& out, std::string_view key, nlohmann::json items);

/// A time to the second, e.g. "2026-11-23T10:56:48Z": tables have no room for microseconds.
std::string short_time(Timestamp t);
/// short_time, or "-" when there is none.
std::string short_time(const std::optional<Timestamp>& t);
/// How far `t` is from `now`, e.g. "in 5m", "3s ago", "now".
std::string relative_time(Timestamp t, Timestamp now);
/// A time in full with how far it is from `now`, e.g. "2026-11-23T10:56:48.123456Z (3s ago)",
/// or "-" when there is none: what detail views show.
std::string full_time(const std::optional<Timestamp>& t, Timestamp now);
/// A duration rounded for people: whole seconds from 1s up, milliseconds below.
std::string rounded_duration(Duration d);
/// The first line of `text`, cut to `max_chars` with "..." when longer.
std::string one_line(std::string_view text, std::size_t max_chars);

}  // namespace jobq::cli
