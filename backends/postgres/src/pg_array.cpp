#include "pg_array.hpp"

#include <charconv>

namespace jobq::postgres_detail {

void ArrayWriter::add(std::int64_t value) {
    separate();
    char buf[24];
    const auto r = std::to_chars(buf, buf + sizeof buf, value);
    text_.append(buf, r.ptr);
}

void ArrayWriter::add(std::string_view value) {
    separate();
    text_.push_back('"');
    for (const char c : value) {
        if (c == '"' || c == '\\') text_.push_back('\\');
        text_.push_back(c);
    }
    text_.push_back('"');
}

void ArrayWriter::add_null() {
    separate();
    text_.append("NULL");
}

std::string ArrayWriter::finish() && {
    text_.push_back('}');
    return std::move(text_);
}

}  // namespace jobq::postgres_detail
