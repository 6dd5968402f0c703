// The doctest runner of unit_tests; the test cases live in the *_test.cpp files beside it.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>
