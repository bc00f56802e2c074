// Fuzz target: what a client does with the conductor's bytes: the reply
// decoder (broker::DecodeAudienceReply, in the CLI and the audience client)
// and the CLI's `--json` conversion (broker::MsgpackToJson). A reply that
// decodes must encode and decode again to the same reply.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "broker/audience_protocol.h"
#include "broker/json.h"
#include "test/fuzz/fuzz_check.h"

namespace broker = orchestra::broker;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  (void)broker::MsgpackToJson(bytes, /*pretty=*/true);
  (void)broker::MsgpackFieldToJson(bytes, "job", /*pretty=*/false);
  orchestra::common::Result<broker::AudienceReply> reply =
      broker::DecodeAudienceReply(bytes);
  if (!reply.ok()) return 0;
  // The encoder writes every field (the paging ones only when they differ
  // from their defaults, which is what their absence decodes to), so equal
  // encodings are equal replies.
  const std::string encoded = broker::EncodeAudienceReply(reply.value());
  orchestra::common::Result<broker::AudienceReply> again =
      broker::DecodeAudienceReply(encoded);
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(again.value().req == reply.value().req);
  FUZZ_CHECK(again.value().body.index() == reply.value().body.index());
  FUZZ_CHECK(broker::EncodeAudienceReply(again.value()) == encoded);
  return 0;
}
