// The wire stays what today's peers speak: every message type, encoded now,
// is byte for byte what the encoders wrote before issue 13
// (test/data/wire_before.txt), except the "kind" every reply now carries.

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <set>
#include <string>

#include "broker/audience_protocol.h"
#include "broker/message_schema.h"
#include "broker/protocol.h"
#include "broker/wire.h"
#include "test/wire_samples.h"

namespace orchestra::test {
namespace {

std::string FromHex(const std::string& hex) {
  std::string bytes;
  for (size_t i = 0; i + 1 < hex.size(); i += 2)
    bytes.push_back(
        static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  return bytes;
}

std::map<std::string, std::string> LoadBefore() {
  const std::string here = __FILE__;
  std::ifstream in(here.substr(0, here.rfind('/')) + "/data/wire_before.txt");
  std::map<std::string, std::string> before;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    const size_t space = line.find(' ');
    before[line.substr(0, space)] = FromHex(line.substr(space + 1));
  }
  return before;
}

// `bytes` (one map) without its top-level "kind", packed again; `kind` gets
// the value that was removed.
std::string WithoutKind(const std::string& bytes, std::string* kind) {
  msgpack::object_handle handle = msgpack::unpack(bytes.data(), bytes.size());
  const msgpack::object& map = handle.get();
  msgpack::sbuffer out;
  msgpack::packer<msgpack::sbuffer> packer(out);
  uint32_t kept = 0;
  for (uint32_t i = 0; i < map.via.map.size; ++i) {
    if (map.via.map.ptr[i].key.as<std::string>() != "kind") ++kept;
  }
  packer.pack_map(kept);
  for (uint32_t i = 0; i < map.via.map.size; ++i) {
    const msgpack::object_kv& kv = map.via.map.ptr[i];
    if (kv.key.as<std::string>() == "kind") {
      *kind = kv.val.as<std::string>();
      continue;
    }
    packer.pack(kv.key);
    packer.pack(kv.val);
  }
  return std::string(out.data(), out.size());
}

TEST(WireCompatTest, EveryMessageIsEncodedAsBefore) {
  const std::map<std::string, std::string> before = LoadBefore();
  ASSERT_FALSE(before.empty()) << "test/data/wire_before.txt not found";
  std::set<std::string> seen;
  for (const WireSample& sample : AllWireSamples()) {
    SCOPED_TRACE(sample.name);
    auto it = before.find(sample.name);
    ASSERT_NE(before.end(), it) << "no encoding from before for this sample";
    seen.insert(sample.name);
    if (!sample.reply) {
      EXPECT_EQ(it->second, sample.bytes);
      continue;
    }
    std::string kind;
    EXPECT_EQ(it->second, WithoutKind(sample.bytes, &kind));
    auto reply = broker::DecodeAudienceReply(sample.bytes);
    ASSERT_TRUE(reply.ok()) << reply.status().ToString();
    EXPECT_EQ(broker::ReplyKind(reply.value().body), kind);
  }
  EXPECT_EQ(before.size(), seen.size()) << "a sample from before is gone";
}

// The samples cover the protocol's table: every message type of the player
// channel, every op and every reply kind.
TEST(WireCompatTest, SamplesCoverEveryMessageType) {
  std::set<std::string> covered;
  for (const WireSample& sample : AllWireSamples()) {
    std::string name = sample.name;
    const size_t dash = name.find('-');
    covered.insert(name.substr(0, dash));
  }
  for (const broker::MessageSchema& message : broker::ProtocolSchema()) {
    if (message.channel == "record") continue;
    EXPECT_TRUE(covered.count(message.channel + "/" + message.name))
        << message.channel << "/" << message.name;
  }
}

// What today's peers send is still read, and written back the same.
TEST(WireCompatTest, MessagesFromBeforeDecodeAndReencodeTheSame) {
  for (const auto& [name, bytes] : LoadBefore()) {
    SCOPED_TRACE(name);
    if (name.rfind("player/", 0) == 0) {
      auto message = broker::DecodePlayerMessage(bytes);
      ASSERT_TRUE(message.ok()) << message.status().ToString();
      EXPECT_EQ(bytes, broker::EncodePlayerMessage(message.value()));
    } else if (name.rfind("request/", 0) == 0) {
      broker::DecodedRequest request = broker::DecodeAudienceRequest(bytes);
      ASSERT_TRUE(request.op.has_value()) << request.error.message;
      EXPECT_EQ(bytes, broker::EncodeAudienceRequest(
                           {request.req, std::move(*request.op)}));
    }
  }
}

}  // namespace
}  // namespace orchestra::test
