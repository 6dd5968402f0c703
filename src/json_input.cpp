#include "jobq/json_input.hpp"

#include <cmath>
#include <string>
#include <unordered_set>
#include <vector>

#include <fmt/format.h>

#include "detail/utf8.hpp"
#include "jobq/error.hpp"

namespace jobq {

namespace {

using nlohmann::json;

[[noreturn]] void bad(std::string_view field, std::string_view why) {
    throw Error(ErrorCode::invalid_argument, fmt::format("{}: {}", field, why), std::string(field));
}

// One step of a JSON Pointer (RFC 6901), made printable for a message.
std::string pointer_step(std::string_view key) {
    std::string step;
    for (char c : key) {
        if (c == '~') {
            step += "~0";
        } else if (c == '/') {
            step += "~1";
        } else {
            step += c;
        }
    }
    return detail::printable(step);
}

// Where in the value, for a message: the pointer, its middle cut out when it is long (keys can
// be megabytes; a message quoting 128 of them would be larger than the input it rejects).
std::string where(const std::string& pointer) {
    if (pointer.empty()) return "the top level";
    constexpr std::size_t keep_head = 120, keep_tail = 60;
    if (pointer.size() <= keep_head + keep_tail + 16) return pointer;
    // Cut on UTF-8 character boundaries: never inside a multi-byte sequence.
    const std::size_t head = detail::utf8_boundary_at_or_before(pointer, keep_head);
    const std::size_t tail =
        detail::utf8_boundary_at_or_before(pointer, pointer.size() - keep_tail);
    return fmt::format("{}...({} bytes left out)...{}", pointer.substr(0, head), tail - head,
                       pointer.substr(tail));
}

constexpr std::string_view nul_rule =
    "contains a NUL character (\\u0000), which jobq does not store (PostgreSQL's jsonb cannot "
    "hold it)";

[[noreturn]] void too_deep(std::string_view field, int max_depth, const std::string& pointer) {
    bad(field, fmt::format("nests deeper than {} level{} at {}", max_depth,
                           max_depth == 1 ? "" : "s", where(pointer)));
}

// The first pass of parse_json_input: checks the rules nlohmann's parser does not know (depth,
// NUL, a number's position) without building anything. nlohmann's parser is iterative, so
// neither pass recurses per level.
class CheckingSax final : public nlohmann::json_sax<json> {
  public:
    CheckingSax(std::string_view field, int max_depth) : field_(field), max_depth_(max_depth) {}

    bool null() override { return value_done(); }
    bool boolean(bool) override { return value_done(); }
    bool number_integer(number_integer_t) override { return value_done(); }
    bool number_unsigned(number_unsigned_t) override { return value_done(); }
    bool number_float(number_float_t, const string_t&) override { return value_done(); }
    bool string(string_t& s) override {
        if (s.find('\0') != string_t::npos) {
            bad(field_, fmt::format("the string at {} {}", where(pointer()), nul_rule));
        }
        return value_done();
    }
    bool binary(binary_t&) override { return value_done(); }
    bool start_object(std::size_t) override { return enter(true); }
    bool key(string_t& k) override {
        Frame& frame = frames_.back();
        frame.key = k;
        if (k.find('\0') != string_t::npos) {
            bad(field_, fmt::format("the key at {} {}", where(pointer()), nul_rule));
        }
        // A second value for a key would silently replace the first (parsers and jsonb keep
        // the last); a sender that repeats a key has a bug to hear about.
        if (!frame.keys.insert(k).second) {
            bad(field_, fmt::format("the key at {} is given twice", where(pointer())));
        }
        return true;
    }
    bool end_object() override { return leave(); }
    bool start_array(std::size_t) override { return enter(false); }
    bool end_array() override { return leave(); }
    bool parse_error(std::size_t, const std::string& token,
                     const nlohmann::detail::exception& e) override {
        if (e.id == 406)
            bad(field_, fmt::format("number overflow at {} ({})", where(pointer()), token));
        // Drop the library's "[json.exception.parse_error.101] " tag; the rest says where.
        std::string_view why = e.what();
        if (const std::size_t tag_end = why.find("] "); tag_end != std::string_view::npos) {
            why.remove_prefix(tag_end + 2);
        }
        bad(field_, fmt::format("not valid JSON ({})", detail::printable(why)));
    }

  private:
    struct Frame {
        bool object = false;
        std::size_t index = 0;
        std::string key;
        std::unordered_set<std::string> keys;  // an object's keys so far
    };

    bool enter(bool object) {
        if (static_cast<int>(frames_.size()) >= max_depth_) too_deep(field_, max_depth_, pointer());
        frames_.push_back(Frame{object, 0, {}, {}});
        return true;
    }
    bool leave() {
        frames_.pop_back();
        return value_done();
    }
    bool value_done() {
        if (!frames_.empty() && !frames_.back().object) ++frames_.back().index;
        return true;
    }
    // Pointer to the value being read.
    std::string pointer() const {
        std::string p;
        for (const Frame& f : frames_) {
            p += '/';
            p += f.object ? pointer_step(f.key) : std::to_string(f.index);
        }
        return p;
    }

    std::string_view field_;
    int max_depth_;
    std::vector<Frame> frames_;
};

void check_depth_setting(std::string_view field, int max_depth) {
    if (max_depth < 1 || max_depth > max_json_depth_setting) {
        throw Error(ErrorCode::invalid_argument,
                    fmt::format("{}: the depth limit must be between 1 and {} (got {})", field,
                                max_json_depth_setting, max_depth),
                    std::string(field));
    }
}

void check_string(std::string_view field, std::string_view what, const std::string& s,
                  const std::string& pointer) {
    if (const auto at = detail::invalid_utf8_at(s)) {
        bad(field,
            fmt::format("the {} at {} is not valid UTF-8 (byte {})", what, where(pointer), *at));
    }
    if (s.find('\0') != std::string::npos) {
        bad(field, fmt::format("the {} at {} {}", what, where(pointer), nul_rule));
    }
}

// Checks a value that holds no other values.
void check_scalar(std::string_view field, const json& v, const std::string& pointer) {
    switch (v.type()) {
        case json::value_t::string:
            check_string(field, "string", v.get_ref<const std::string&>(), pointer);
            break;
        case json::value_t::number_float:
            if (!std::isfinite(v.get<double>())) {
                bad(field, fmt::format("the number at {} is {}, which JSON cannot represent",
                                       where(pointer), v.get<double>()));
            }
            break;
        case json::value_t::binary:
            bad(field, fmt::format("the value at {} is binary, which JSON text cannot carry",
                                   where(pointer)));
        case json::value_t::discarded:
            bad(field, fmt::format("the value at {} is a discarded value", where(pointer)));
        default:
            break;
    }
}

}  // namespace

nlohmann::json parse_json_input(std::string_view text, std::string_view field, int max_depth) {
    check_depth_setting(field, max_depth);
    // nlohmann's lexer takes a NUL byte for the end of the input (for C strings), so text after
    // one would be ignored; JSON allows no raw NUL anywhere.
    if (const std::size_t nul = text.find('\0'); nul != std::string_view::npos) {
        bad(field, fmt::format("not valid JSON: a NUL byte at byte {}", nul + 1));
    }
    CheckingSax sax{field, max_depth};
    if (!json::sax_parse(text.begin(), text.end(), &sax)) {
        bad(field, "not valid JSON");  // CheckingSax throws first; kept for a parser that stops
    }
    try {
        return json::parse(text.begin(), text.end());
    } catch (const json::exception& e) {
        // The first pass accepted the text; the parser should too. Kept so nothing nlohmann
        // throws ever reaches a caller as its own type.
        bad(field, fmt::format("not valid JSON ({})", detail::printable(e.what())));
    }
}

void check_json_input(const nlohmann::json& value, std::string_view field, int max_depth) {
    check_depth_setting(field, max_depth);
    if (!value.is_structured()) {
        check_scalar(field, value, "");
        return;
    }
    // An explicit stack instead of recursion: a document built in C++ can be deeper than the
    // limit, and the check must stop there without using a stack frame per level.
    struct Frame {
        const json* node;
        json::const_iterator next;
        std::size_t index;
    };
    std::vector<Frame> stack{{&value, value.cbegin(), 0}};
    std::vector<std::string> steps;  // one per frame below the root
    auto pointer = [&](const std::string& last) {
        std::string p;
        for (const std::string& s : steps) p += '/' + s;
        return p + '/' + last;
    };
    while (!stack.empty()) {
        Frame& top = stack.back();
        if (top.next == top.node->cend()) {
            stack.pop_back();
            if (!stack.empty()) steps.pop_back();
            continue;
        }
        const json& child = *top.next;
        std::string step;
        if (top.node->is_object()) {
            const std::string& key = top.next.key();
            step = detail::invalid_utf8_at(key) ? std::string("(a key that is not UTF-8)")
                                                : pointer_step(key);
            check_string(field, "key", key, pointer(step));
        } else {
            step = std::to_string(top.index);
        }
        ++top.next;
        ++top.index;
        if (child.is_structured()) {
            if (static_cast<int>(stack.size()) >= max_depth) {
                too_deep(field, max_depth, pointer(step));
            }
            steps.push_back(std::move(step));
            stack.push_back(Frame{&child, child.cbegin(), 0});  // `top` is not used after this
        } else {
            check_scalar(field, child, pointer(step));
        }
    }
}

}  // namespace jobq
