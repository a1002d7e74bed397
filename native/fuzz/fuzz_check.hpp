// CHECK for the fuzz targets: an invariant that fails aborts, which libFuzzer (and the corpus
// replay) reports as a crash with this input. Unlike assert(), it stays on in release builds.
#pragma once

#include <cstdio>
#include <cstdlib>

#define CHECK(c)                                                                 \
  do {                                                                           \
    if (!(c)) {                                                                  \
      std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #c); \
      std::abort();                                                              \
    }                                                                            \
  } while (0)
