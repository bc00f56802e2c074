// Fuzz target: player.conf through the player's own loader
// (player::ParsePlayerConfig, what LoadPlayerConfig does with the file's
// text). The settings it accepts, printed as --check-config prints them,
// must load again to the same settings.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "player/config.h"
#include "test/fuzz/fuzz_check.h"

namespace player = orchestra::player;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  orchestra::common::Result<player::PlayerConfig> config =
      player::ParsePlayerConfig("player.conf", text);
  if (!config.ok()) return 0;
  const std::string formatted = player::FormatPlayerConfig(config.value());
  orchestra::common::Result<player::PlayerConfig> again =
      player::ParsePlayerConfig("formatted.conf", formatted);
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(player::FormatPlayerConfig(again.value()) == formatted);
  return 0;
}
