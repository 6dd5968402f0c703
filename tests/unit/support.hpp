#pragma once
// Helpers shared by the unit tests: checking a rejection, building readable timestamps.

#include <chrono>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include <doctest/doctest.h>

#include "jobq/clock.hpp"
#include "jobq/error.hpp"

namespace jobq::test {

/// What a jobq::Error said, captured so a test can check each part.
struct Rejection {
    ErrorCode code;
    std::string field;
    std::string message;
};

/// Runs `f`; returns what the jobq::Error it threw said, or nullopt when it did not throw. Any
/// other exception escapes and fails the test, which is what we want: the API promises
/// jobq::Error.
template <class F>
std::optional<Rejection> rejection_of(F&& f) {
    try {
        f();
    } catch (const Error& e) {
        return Rejection{e.code(), e.field(), e.what()};
    }
    return std::nullopt;
}

inline bool contains(std::string_view haystack, std::string_view needle) {
    return haystack.find(needle) != std::string_view::npos;
}

/// Checks that `f` throws Error(invalid_argument) for `field` with a message that mentions
/// every string in `mentions` (the field, the bad value, ...).
template <class F>
void check_invalid_argument(F&& f, std::string_view field,
                            std::initializer_list<std::string_view> mentions = {}) {
    const std::optional<Rejection> r = rejection_of(std::forward<F>(f));
    INFO("expected a rejection of field '", std::string(field), "'");
    REQUIRE(r.has_value());
    INFO("message: ", r->message);
    CHECK(r->code == ErrorCode::invalid_argument);
    CHECK(r->field == field);
    for (std::string_view m : mentions) {
        INFO("message should mention '", std::string(m), "'");
        CHECK(contains(r->message, m));
    }
}

/// 2026-11-23T10:56:48Z plus `extra`: a fixed "now" far from any epoch edge.
inline Timestamp reference_time(Duration extra = Duration::zero()) {
    using namespace std::chrono;
    return Timestamp{sys_days{year{2026} / November / day{23}}} + hours{10} + minutes{56} +
           seconds{48} + extra;
}

}  // namespace jobq::test
