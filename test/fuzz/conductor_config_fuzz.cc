// Fuzz target: conductor.conf through the conductor's own loader
// (conductor::ParseConductorConfig, what LoadConductorConfig does with the
// file's text). The settings it accepts, printed as --check-config prints
// them, must load again to the same settings.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "conductor/config.h"
#include "test/fuzz/fuzz_check.h"

namespace conductor = orchestra::conductor;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  orchestra::common::Result<conductor::ConductorConfig> config =
      conductor::ParseConductorConfig("conductor.conf", text);
  if (!config.ok()) return 0;
  const std::string described = conductor::DescribeConfig(config.value());
  orchestra::common::Result<conductor::ConductorConfig> again =
      conductor::ParseConductorConfig("described.conf", described);
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(conductor::DescribeConfig(again.value()) == described);
  return 0;
}
