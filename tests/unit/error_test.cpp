// jobq::Error and its stable codes.

#include <doctest/doctest.h>

#include "jobq/error.hpp"

using jobq::Error;
using jobq::ErrorCode;

TEST_SUITE_BEGIN("Error");

TEST_CASE("every error code has its stable name") {
    CHECK(to_string(ErrorCode::invalid_argument) == "invalid_argument");
    CHECK(to_string(ErrorCode::not_found) == "not_found");
    CHECK(to_string(ErrorCode::invalid_state) == "invalid_state");
    CHECK(to_string(ErrorCode::storage) == "storage");
    CHECK(to_string(ErrorCode::schema) == "schema");
    CHECK(to_string(ErrorCode::unavailable) == "unavailable");
}

TEST_CASE("an error carries its code, message and field") {
    const Error e{ErrorCode::not_found, "job 7 does not exist", "id"};
    CHECK(e.code() == ErrorCode::not_found);
    CHECK(std::string(e.what()) == "job 7 does not exist");
    CHECK(e.field() == "id");
}

TEST_CASE("an error without a field has an empty field") {
    CHECK(Error{ErrorCode::storage, "disk full"}.field().empty());
}

TEST_CASE("an error can be caught as std::runtime_error") {
    CHECK_THROWS_AS(throw Error(ErrorCode::schema, "too new"), std::runtime_error);
}

TEST_SUITE_END();
