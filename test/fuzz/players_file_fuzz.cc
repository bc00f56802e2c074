// Fuzz target: the conductor's players file (conductor::ParsePlayersFile,
// what LoadPlayersFile does with the file's text). What it accepts, written
// back one `NAME PUBLIC-KEY KEY=VALUE...` a line, must load again to the
// same players and labels.

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>

#include "conductor/players_file.h"
#include "test/fuzz/fuzz_check.h"

namespace conductor = orchestra::conductor;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string content(reinterpret_cast<const char*>(data), size);
  orchestra::common::Result<conductor::PlayersFile> players =
      conductor::ParsePlayersFile("players", content);
  if (!players.ok()) return 0;
  std::string written;
  for (const auto& [name, key] : players.value().keys) {
    written += name + " " + key;
    auto labels = players.value().labels.find(name);
    if (labels != players.value().labels.end()) {
      FUZZ_CHECK(!labels->second.empty());
      for (const auto& [label, value] : labels->second)
        written += " " + label + "=" + value;
    }
    written += "\n";
  }
  orchestra::common::Result<conductor::PlayersFile> again =
      conductor::ParsePlayersFile("written", written);
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(again.value().keys == players.value().keys);
  FUZZ_CHECK(again.value().labels == players.value().labels);
  return 0;
}
