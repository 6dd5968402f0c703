#pragma once
// Array parameters in PostgreSQL's text form ('{1,2,"a b",NULL}'), so one statement can
// carry a whole batch (claims per queue, completions, heartbeats, inserts) in one round trip.
// libpqxx 6.4 parses arrays but has no way to write them.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace jobq::postgres_detail {

/// Builds one array literal element by element.
class ArrayWriter {
  public:
    ArrayWriter() { text_.push_back('{'); }

    void add(std::int64_t value);
    /// Quoted and escaped, so any text (JSON included) survives.
    void add(std::string_view value);
    void add_null();
    void add(const std::optional<std::int64_t>& value) {
        if (value) {
            add(*value);
        } else {
            add_null();
        }
    }
    /// An empty string as NULL: how jobq's optional text fields are written.
    void add_text_or_null(std::string_view value) {
        if (value.empty()) {
            add_null();
        } else {
            add(value);
        }
    }

    /// The finished literal; the writer is spent afterwards.
    std::string finish() &&;

  private:
    void separate() {
        if (!first_) text_.push_back(',');
        first_ = false;
    }

    std::string text_;
    bool first_ = true;
};

/// An array literal of the given strings.
template <class Range>
std::string text_array(const Range& values) {
    ArrayWriter w;
    for (const auto& v : values) w.add(std::string_view{v});
    return std::move(w).finish();
}

}  // namespace jobq::postgres_detail
