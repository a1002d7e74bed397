// The C++ tests' entry point (doctest). Each TEST_CASE is one ctest test (doctest_discover_tests).
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>
