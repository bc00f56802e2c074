// Fuzz target: one glob of a target expression (conductor::Glob). The
// input's first line is the glob, the rest the text to match. Parse and
// Matches must never crash, and a glob that parses must say what
// fnmatch(3) says for every text (tried where glibc's fnmatch, which takes
// exponential time in the number of '*', stays quick).

#include <fnmatch.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>

#include "conductor/glob.h"
#include "test/fuzz/fuzz_check.h"

namespace conductor = orchestra::conductor;

namespace {

constexpr size_t kMaxComparedText = 32;
constexpr long kMaxComparedStars = 4;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  const size_t newline = input.find('\n');
  const std::string pattern = input.substr(0, newline);
  const std::string text =
      newline == std::string::npos ? "" : input.substr(newline + 1);
  orchestra::common::Result<conductor::Glob> glob =
      conductor::Glob::Parse(pattern);
  if (!glob.ok()) return 0;
  FUZZ_CHECK(glob.value().text() == pattern);
  const bool matches = glob.value().Matches(text);
  if (text.size() > kMaxComparedText || text.find('\0') != std::string::npos ||
      std::count(pattern.begin(), pattern.end(), '*') > kMaxComparedStars)
    return 0;
  FUZZ_CHECK(matches == (::fnmatch(pattern.c_str(), text.c_str(), 0) == 0));
  return 0;
}
