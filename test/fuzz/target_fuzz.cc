// Fuzz target: target expressions (conductor::Target). The input's first
// line is the expression, the second a player's name, the rest its labels
// (KEY=VALUE a line, taken as they come). Parse and Matches must never
// crash; what parses must print (ToString) an expression that parses to
// the same text and picks the same players; Resolve must agree with
// Matches.

#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "conductor/target.h"
#include "test/fuzz/fuzz_check.h"

namespace conductor = orchestra::conductor;

namespace {

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::vector<std::string> lines =
      Lines(std::string(reinterpret_cast<const char*>(data), size));
  orchestra::common::Result<conductor::Target> target =
      conductor::Target::Parse(lines[0]);
  if (!target.ok()) {
    FUZZ_CHECK(!target.status().message().empty());
    return 0;
  }
  const std::string name = lines.size() > 1 ? lines[1] : "";
  conductor::Labels labels;
  for (size_t i = 2; i < lines.size(); ++i) {
    const size_t equals = lines[i].find('=');
    labels[lines[i].substr(0, equals)] =
        equals == std::string::npos ? "" : lines[i].substr(equals + 1);
  }
  const bool matches = target.value().Matches(name, labels);

  const std::string text = target.value().ToString();
  orchestra::common::Result<conductor::Target> again =
      conductor::Target::Parse(text);
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(again.value().ToString() == text);
  FUZZ_CHECK(again.value().Matches(name, labels) == matches);

  orchestra::common::Result<std::vector<std::string>> picked =
      target.value().Resolve({name},
                             [&](const std::string&) { return &labels; });
  FUZZ_CHECK(picked.ok() == matches);
  if (matches) FUZZ_CHECK(picked.value() == std::vector<std::string>{name});
  return 0;
}
