// Fuzz target: the audience channel's request decoder
// (broker::DecodeAudienceRequest), which the conductor runs on every
// client's bytes. A request that decodes must encode and decode again to the
// same request; one that does not gets an error reply that every client can
// decode (msgpack strings are UTF-8) to the same code and message.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "broker/audience_protocol.h"
#include "common/text.h"
#include "test/fuzz/fuzz_check.h"

namespace broker = orchestra::broker;

namespace {

void CheckErrorReply(const broker::DecodedRequest& request) {
  FUZZ_CHECK(orchestra::common::IsValidUtf8(request.error.message));
  const std::string encoded = broker::EncodeAudienceReply(
      {request.req, broker::ErrorReply{request.error}});
  orchestra::common::Result<broker::AudienceReply> reply =
      broker::DecodeAudienceReply(encoded);
  FUZZ_CHECK(reply.ok());
  const auto* error = std::get_if<broker::ErrorReply>(&reply.value().body);
  FUZZ_CHECK(error != nullptr);
  FUZZ_CHECK(error->error.code == request.error.code);
  FUZZ_CHECK(error->error.message == request.error.message);
  FUZZ_CHECK(reply.value().req == request.req);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  broker::DecodedRequest request = broker::DecodeAudienceRequest(bytes);
  if (!request.op) {
    CheckErrorReply(request);
    return 0;
  }
  // The encoder writes every field (the paging ones only when they differ
  // from their defaults, which is what their absence decodes to), so equal
  // encodings are equal requests.
  const std::string encoded =
      broker::EncodeAudienceRequest({request.req, *request.op});
  broker::DecodedRequest again = broker::DecodeAudienceRequest(encoded);
  FUZZ_CHECK(again.op.has_value());
  FUZZ_CHECK(again.req == request.req);
  FUZZ_CHECK(broker::EncodeAudienceRequest({again.req, *again.op}) == encoded);
  return 0;
}
