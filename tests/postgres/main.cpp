// The doctest runner of postgres_tests; the cases live in the *_tests.cpp files beside it, one
// doctest suite per file, and CMake registers each suite as a ctest entry of its own.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>
