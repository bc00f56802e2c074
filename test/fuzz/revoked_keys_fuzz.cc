// Fuzz target: the conductor's revoked keys file
// (conductor::ParseRevokedKeys, what LoadRevokedKeys does with the file's
// text). What it accepts, written back one key a line, must load again to
// the same keys.

#include <cstddef>
#include <cstdint>
#include <set>
#include <string>

#include "conductor/players_file.h"
#include "test/fuzz/fuzz_check.h"

namespace conductor = orchestra::conductor;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string content(reinterpret_cast<const char*>(data), size);
  orchestra::common::Result<std::set<std::string>> revoked =
      conductor::ParseRevokedKeys("revoked", content);
  if (!revoked.ok()) return 0;
  std::string written;
  for (const std::string& key : revoked.value()) written += key + "\n";
  orchestra::common::Result<std::set<std::string>> again =
      conductor::ParseRevokedKeys("written", written);
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(again.value() == revoked.value());
  return 0;
}
