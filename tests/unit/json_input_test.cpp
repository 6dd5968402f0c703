// parse_json_input and check_json_input: the one gate every outside JSON document passes, so
// each rule is refused with the field and the place, and no document, however deep, crashes.

#include <cmath>
#include <limits>
#include <string>
#include <string_view>

#include <doctest/doctest.h>

#include "jobq/error.hpp"
#include "jobq/json_input.hpp"
#include "support.hpp"

using jobq::check_json_input;
using jobq::parse_json_input;
using jobq::test::check_invalid_argument;
using jobq::test::rejection_of;
using nlohmann::json;

namespace {

std::string nested_arrays(std::size_t levels) {
    return std::string(levels, '[') + std::string(levels, ']');
}

// A document `levels` deep built in C++, without recursion.
json nested_value(std::size_t levels) {
    json root = json::array();
    json* leaf = &root;
    for (std::size_t i = 1; i < levels; ++i) {
        leaf->push_back(json::array());
        leaf = &leaf->back();
    }
    return root;
}

}  // namespace

TEST_SUITE_BEGIN("json_input");

TEST_CASE("a valid document is parsed as nlohmann would parse it") {
    const std::string text =
        R"({"a":[1,-2,3.5,"x\u0001y",true,null],"b":{"c":"\u00e9\ud83d\ude00"}})";
    CHECK(parse_json_input(text, "payload") == json::parse(text));
}

TEST_CASE("128 levels are accepted and 129 are refused, naming the field and the place") {
    CHECK_NOTHROW(parse_json_input(nested_arrays(128), "payload"));
    check_invalid_argument([] { parse_json_input(nested_arrays(129), "payload"); }, "payload",
                           {"payload: nests deeper than 128 levels at /0/0/"});
}

TEST_CASE("a document a million levels deep is refused without exhausting the stack") {
    check_invalid_argument([] { parse_json_input(nested_arrays(1'000'000), "payload"); }, "payload",
                           {"deeper than 128"});
    // Unterminated: the parser must stop at the limit, not first read to the end.
    check_invalid_argument([] { parse_json_input(std::string(1'000'000, '['), "payload"); },
                           "payload", {"deeper than 128"});
    check_invalid_argument([] { check_json_input(nested_value(1'000'000), "result"); }, "result",
                           {"result: nests deeper than 128 levels"});
}

TEST_CASE("a message names a long place by its ends, not by megabytes of keys") {
    // 129 levels of 100,000-character keys: the place is 12.9 MB long.
    json deep = json::object();
    json* leaf = &deep;
    for (int i = 0; i < 129; ++i) {
        leaf = &((*leaf)[std::string(100'000, static_cast<char>('a' + i % 26))] = json::object());
    }
    try {
        check_json_input(deep, "payload");
        FAIL("a too-deep value was accepted");
    } catch (const jobq::Error& e) {
        const std::string what = e.what();
        CHECK(what.size() < 1000);
        CHECK(what.find("payload: nests deeper than 128 levels at /aaaa") == 0);
        CHECK(what.find("bytes left out") != std::string::npos);
    }
    // A place with a multi-byte character at the cut stays valid UTF-8.
    json accents = json::object();
    leaf = &accents;
    for (int i = 0; i < 129; ++i)
        leaf = &((*leaf)[std::string(99, 'x') + "\u00e9"] = json::object());
    try {
        check_json_input(accents, "payload");
        FAIL("a too-deep value was accepted");
    } catch (const jobq::Error& e) {
        CHECK_NOTHROW(parse_json_input(json(std::string(e.what())).dump(), "message"));
    }
}

TEST_CASE("the depth limit is configurable within 1..1000") {
    CHECK_NOTHROW(parse_json_input(nested_arrays(500), "payload", 500));
    check_invalid_argument([] { parse_json_input("[[1]]", "payload", 1); }, "payload",
                           {"deeper than 1 level"});
    check_invalid_argument([] { parse_json_input("{}", "payload", 0); }, "payload",
                           {"between 1 and 1000", "0"});
    check_invalid_argument([] { check_json_input(json::object(), "payload", 1001); }, "payload",
                           {"between 1 and 1000", "1001"});
}

TEST_CASE("a number that overflows a double is refused with its place and text") {
    check_invalid_argument([] { parse_json_input(R"({"a":[1,1e999]})", "payload"); }, "payload",
                           {"payload: number overflow at /a/1 (1e999)"});
    check_invalid_argument([] { parse_json_input("-1e400", "payload"); }, "payload",
                           {"number overflow at the top level"});
}

TEST_CASE("integers beyond 64 bits and tiny numbers are valid JSON numbers") {
    CHECK(parse_json_input("[18446744073709551616, 5e-324, -9223372036854775808]", "payload")
              .size() == 3);
}

TEST_CASE("a NUL character in a string or a key is refused everywhere") {
    check_invalid_argument([] { parse_json_input(R"({"a":{"b":"x\u0000y"}})", "payload"); },
                           "payload", {"payload: the string at /a/b", "NUL", "\\u0000"});
    check_invalid_argument([] { parse_json_input(R"({"a\u0000":1})", "payload"); }, "payload",
                           {"the key at /a\\u0000", "NUL"});
    check_invalid_argument(
        [] {
            check_json_input(json{{"k", std::string("a\0b", 3)}}, "result");
        },
        "result", {"result: the string at /k", "NUL"});
}

TEST_CASE("a raw NUL byte is refused, not taken for the end of the text") {
    using namespace std::string_view_literals;
    // nlohmann's lexer stops at a NUL, which would accept {"a":1} and drop the rest.
    check_invalid_argument([] { parse_json_input("{\"a\":1}\0 not json {{{"sv, "payload"); },
                           "payload", {"payload: not valid JSON: a NUL byte at byte 8"});
    check_invalid_argument([] { parse_json_input("{\"a\":\"x\0y\"}"sv, "payload"); }, "payload",
                           {"a NUL byte at byte 8"});
    check_invalid_argument([] { parse_json_input("\0"sv, "payload"); }, "payload",
                           {"a NUL byte at byte 1"});
}

TEST_CASE("text that is not JSON is refused without nlohmann's exception tag") {
    const auto r = rejection_of([] { parse_json_input(R"({"a":)", "payload"); });
    REQUIRE(r);
    CHECK(r->code == jobq::ErrorCode::invalid_argument);
    CHECK(r->field == "payload");
    CHECK(jobq::test::contains(r->message, "payload: not valid JSON (parse error at line 1"));
    CHECK_FALSE(jobq::test::contains(r->message, "json.exception"));
    check_invalid_argument([] { parse_json_input("\"\xff\"", "payload"); }, "payload",
                           {"not valid JSON", "UTF-8"});
    check_invalid_argument([] { parse_json_input("", "payload"); }, "payload", {"not valid JSON"});
    check_invalid_argument([] { parse_json_input("{} {}", "payload"); }, "payload",
                           {"not valid JSON"});
}

TEST_CASE("a document built in C++ is refused for broken UTF-8, NaN, infinity and binary") {
    check_invalid_argument(
        [] {
            check_json_input(json{{"s", "ok\xc3"}}, "payload");
        },
        "payload", {"the string at /s is not valid UTF-8 (byte 2)"});
    check_invalid_argument(
        [] {
            check_json_input(json{{"ok\xff", 1}}, "payload");
        },
        "payload", {"key", "not valid UTF-8"});
    check_invalid_argument(
        [] {
            check_json_input(json{{"n", {1, std::nan("")}}}, "payload");
        },
        "payload", {"the number at /n/1", "JSON cannot represent"});
    check_invalid_argument(
        [] {
            check_json_input(json{{"n", std::numeric_limits<double>::infinity()}}, "payload");
        },
        "payload", {"/n"});
    check_invalid_argument(
        [] {
            check_json_input(json{{"b", json::binary({1, 2})}}, "payload");
        },
        "payload", {"/b", "binary"});
}

TEST_CASE("a pointer escapes '~' and '/' in keys as RFC 6901 says") {
    check_invalid_argument(
        [] {
            check_json_input(json{{"a/b~", std::string("\0", 1)}}, "payload");
        },
        "payload", {"/a~1b~0"});
}

TEST_SUITE_END();

TEST_CASE("a key given twice in one object is refused, naming it; the same key elsewhere is fine") {
    check_invalid_argument([] { parse_json_input(R"({"a":1,"a":2})", "payload"); }, "payload",
                           {"payload: the key at /a is given twice"});
    // The fuzzer's case: the first value is deeper than the one that would have been kept.
    check_invalid_argument(
        [] { parse_json_input(R"({"k":{"a":[1,{"b":[true]}],"a":"x"}})", "payload"); }, "payload",
        {"the key at /k/a is given twice"});
    CHECK(parse_json_input(R"({"a":{"a":1},"b":[{"a":1},{"a":2}]})", "payload").size() == 2);
}
