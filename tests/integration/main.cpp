// The doctest runner of process_tests; the test cases live in process_tests.cpp.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>
