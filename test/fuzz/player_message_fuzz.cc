// Fuzz target: the player channel's decoder (broker::DecodePlayerMessage),
// which the conductor runs on every player's bytes and the player on the
// conductor's (and on its journal's). What decodes must encode and decode
// again to the same message.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "broker/protocol.h"
#include "test/fuzz/fuzz_check.h"

using orchestra::broker::DecodePlayerMessage;
using orchestra::broker::EncodePlayerMessage;
using orchestra::broker::PlayerMessage;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  orchestra::common::Result<PlayerMessage> message = DecodePlayerMessage(bytes);
  if (!message.ok()) return 0;
  // The encoder writes every field, so equal encodings are equal messages.
  const std::string encoded = EncodePlayerMessage(message.value());
  orchestra::common::Result<PlayerMessage> again = DecodePlayerMessage(encoded);
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(again.value().index() == message.value().index());
  FUZZ_CHECK(EncodePlayerMessage(again.value()) == encoded);
  return 0;
}
