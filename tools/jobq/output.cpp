#include "output.hpp"

#include <algorithm>
#include <cassert>

#include <fmt/format.h>

#include "jobq/time_format.hpp"

namespace jobq::cli {

namespace {

// Columns line up on a terminal by characters, not bytes: count UTF-8 lead bytes only.
std::size_t display_width(std::string_view s) {
    return static_cast<std::size_t>(std::count_if(
        s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

}  // namespace

Table::Table(std::vector<Column> columns) : columns_(std::move(columns)) {}

void Table::add_row(std::vector<std::string> cells) {
    assert(cells.size() == columns_.size());
    cells.resize(columns_.size());
    rows_.push_back(std::move(cells));
}

void Table::print(std::ostream& out) const {
    std::vector<std::size_t> widths(columns_.size());
    for (std::size_t c = 0; c < columns_.size(); ++c) {
        widths[c] = display_width(columns_[c].header);
        for (const auto& row : rows_) widths[c] = std::max(widths[c], display_width(row[c]));
    }
    auto print_row = [&](auto cell_at) {
        std::string line;
        for (std::size_t c = 0; c < columns_.size(); ++c) {
            const std::string_view cell = cell_at(c);
            const std::string pad(widths[c] - display_width(cell), ' ');
            if (c > 0) line += "  ";
            if (columns_[c].align == Align::right) line += pad;
            line += cell;
            if (columns_[c].align == Align::left) line += pad;
        }
        line.erase(line.find_last_not_of(' ') + 1);
        out << line << '\n';
    };
    print_row([&](std::size_t c) -> std::string_view { return columns_[c].header; });
    for (const auto& row : rows_) {
        print_row([&](std::size_t c) -> std::string_view { return row[c]; });
    }
}

void print_json(std::ostream& out, const nlohmann::json& value) {
    out << value.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
}

void print_json_list(std::ostream& out, std::string_view key, nlohmann::json items) {
    nlohmann::json object = nlohmann::json::object();
    object[std::string(key)] = std::move(items);
    print_json(out, object);
}

std::string short_time(Timestamp t) {
    using namespace std::chrono;
    const auto secs = floor<seconds>(t);
    const auto day = floor<days>(secs);
    const year_month_day ymd{day};
    const hh_mm_ss<seconds> hms{secs - day};
    return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", static_cast<int>(ymd.year()),
                       static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                       hms.hours().count(), hms.minutes().count(), hms.seconds().count());
}

std::string short_time(const std::optional<Timestamp>& t) {
    return t ? short_time(*t) : "-";
}

std::string rounded_duration(Duration d) {
    using namespace std::chrono;
    const Duration magnitude = d < Duration::zero() ? -d : d;
    const Duration rounded = magnitude >= seconds{1} ? Duration{floor<seconds>(magnitude)}
                                                     : Duration{floor<milliseconds>(magnitude)};
    return format_duration(d < Duration::zero() ? -rounded : rounded);
}

std::string relative_time(Timestamp t, Timestamp now) {
    const Duration d = t - now;
    if (d > Duration::zero()) return "in " + rounded_duration(d);
    if (d < Duration::zero()) return rounded_duration(-d) + " ago";
    return "now";
}

std::string full_time(const std::optional<Timestamp>& t, Timestamp now) {
    if (!t) return "-";
    return fmt::format("{} ({})", format_timestamp(*t), relative_time(*t, now));
}

std::string one_line(std::string_view text, std::size_t max_chars) {
    const std::size_t newline = text.find_first_of("\r\n");
    std::string_view line = text.substr(0, newline);
    const bool cut_lines = newline != std::string_view::npos;
    if (display_width(line) <= max_chars && !cut_lines) return std::string(line);
    // Cut on a character boundary so the result stays valid UTF-8.
    const std::size_t keep = max_chars > 3 ? max_chars - 3 : 0;
    std::size_t bytes = 0;
    std::size_t chars = 0;
    while (bytes < line.size()) {
        const bool lead = (static_cast<unsigned char>(line[bytes]) & 0xC0) != 0x80;
        if (lead && chars == keep) break;
        if (lead) ++chars;
        ++bytes;
    }
    return std::string(line.substr(0, bytes)) + "...";
}

}  // namespace jobq::cli
