// FUZZ_CHECK for the fuzz targets of test/fuzz/: a property every input must
// keep (a decoded message encodes and decodes to the same message, ...).
// A broken one prints where and aborts, which libFuzzer and the replay
// driver both report as a crash with the input that caused it.

#ifndef ORCHESTRA_TEST_FUZZ_FUZZ_CHECK_H_
#define ORCHESTRA_TEST_FUZZ_FUZZ_CHECK_H_

#include <cstdio>
#include <cstdlib>

#define FUZZ_CHECK(condition)                                          \
  do {                                                                 \
    if (!(condition)) {                                                \
      std::fprintf(stderr, "%s:%d: FUZZ_CHECK failed: %s\n", __FILE__, \
                   __LINE__, #condition);                              \
      std::abort();                                                    \
    }                                                                  \
  } while (0)

#endif  // ORCHESTRA_TEST_FUZZ_FUZZ_CHECK_H_
