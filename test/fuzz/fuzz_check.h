#pragma once

// FUZZ_CHECK(condition): abort with a message when an invariant a fuzz target asserts does
// not hold. Unlike assert() it stays active in every build type, so libFuzzer records the
// input as a crash.

#include <cstdio>
#include <cstdlib>

#define FUZZ_CHECK(condition)                                                                      \
  do {                                                                                             \
    if (!(condition)) {                                                                            \
      std::fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #condition);       \
      std::abort();                                                                                \
    }                                                                                              \
  } while (false)
