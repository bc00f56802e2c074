// Fuzz target: the conductor's players file (conductor::ParsePlayersFile,
// what LoadPlayersFile does with the file's text). What it accepts, written
// back one `NAME PUBLIC-KEY` a line, must load again to the same players.

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>

#include "conductor/players_file.h"
#include "test/fuzz/fuzz_check.h"

namespace conductor = orchestra::conductor;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string content(reinterpret_cast<const char*>(data), size);
  orchestra::common::Result<std::map<std::string, std::string>> players =
      conductor::ParsePlayersFile("players", content);
  if (!players.ok()) return 0;
  std::string written;
  for (const auto& [name, key] : players.value())
    written += name + " " + key + "\n";
  orchestra::common::Result<std::map<std::string, std::string>> again =
      conductor::ParsePlayersFile("written", written);
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(again.value() == players.value());
  return 0;
}
