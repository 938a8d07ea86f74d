// CHECK for the single-process native tests: prints each failed condition
// and counts it in check::failures, which main() turns into its status.
#pragma once

#include <cstdio>

namespace check {
inline int failures = 0;
}  // namespace check

#define CHECK(cond)                                                   \
  do {                                                                \
    if (!(cond)) {                                                    \
      std::printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);     \
      ::check::failures++;                                            \
    }                                                                 \
  } while (0)
