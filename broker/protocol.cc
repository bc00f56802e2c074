#include "broker/protocol.h"

#include <iterator>
#include <utility>

#include "broker/message_fields.h"
#include "common/text.h"

namespace orchestra::broker {

namespace {

using common::Result;
using common::Status;

// The wire "type" of each PlayerMessage alternative, in its order.
constexpr const char* kMessageTypes[] = {
    "hello",  "welcome",    "error",  "task",   "accepted",
    "result", "result_ack", "cancel", "scores", "heartbeat"};
static_assert(std::size(kMessageTypes) == std::variant_size_v<PlayerMessage>,
              "one type name per message");

bool IsHex64(const std::string& text) {
  if (text.size() != 64) return false;
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace

void DescribePlayerChannel(FieldDescriber* d) {
  DescribeAlternatives<PlayerMessage>(d, "player", kMessageTypes);
}

void Check(FieldReader& r, ScoreInfo* m) {
  if (!common::IsValidScoreName(m->name))
    r.Fail("bad_request",
           "invalid score name '" + common::SanitizeUtf8(m->name) + "'");
  else if (!IsHex64(m->sha256))
    r.Fail("bad_request",
           "score '" + m->name + "': sha256 must be 64 lower-case hex digits");
  else if (m->interface != "env" && m->interface != "pipe")
    r.Fail("bad_request",
           "score '" + m->name + "': interface must be env or pipe");
}

void Check(FieldReader& r, RunTask* m) {
  if (!common::IsValidScoreName(m->score)) {
    r.Fail("bad_request", "score name must match " + common::ScoreNameRule());
    return;
  }
  std::string problem = CheckParams(m->params);
  if (!problem.empty()) r.Fail("invalid_param", problem);
}

const char* MessageType(const PlayerMessage& message) {
  return kMessageTypes[message.index()];
}

std::string EncodePlayerMessage(const PlayerMessage& message) {
  WireWriter w;
  FieldWriter fields(&w);
  w.BeginMap();
  w.Key("type");
  w.Str(MessageType(message));
  WriteAlternative(&fields, message);
  w.EndMap();
  return w.Take();
}

Result<PlayerMessage> DecodePlayerMessage(std::string_view bytes) {
  WireProblem problem;
  msgpack::object_handle handle;
  if (!Unpack(bytes, &handle, &problem))
    return Status::InvalidArgument("player message", problem.message);
  WireReader wire(handle.get(), &problem);
  const std::string type = wire.Str("type", WireReader::kRequired, 32);
  const int index = IndexOf(kMessageTypes, type);
  if (problem.ok() && index < 0)
    return Status::InvalidArgument(
        "player message", "unknown type '" + common::SanitizeUtf8(type) + "'");
  PlayerMessage message;
  if (problem.ok()) {
    FieldReader reader(std::move(wire));
    ReadAlternative(index, reader, &message);
  }
  if (!problem.ok())
    return Status::InvalidArgument(
        type.empty() ? "player message" : "'" + type + "' message",
        problem.message);
  return message;
}

std::string CheckParams(const StringMap& params) {
  bool too_large = false;
  return CheckParams(params, &too_large);
}

std::string CheckParams(const StringMap& params, bool* too_large) {
  *too_large = false;
  size_t total = 0;
  for (const auto& [key, value] : params) {
    if (!common::IsValidParamKey(key))
      return "parameter key '" +
             common::SanitizeUtf8(key.substr(0, kMaxParamKeyBytes)) +
             "' must match " + common::ParamKeyRule();
    if (value.size() > kMaxParamValueBytes) {
      *too_large = true;
      return "parameter '" + key + "' is longer than " +
             std::to_string(kMaxParamValueBytes >> 10) + " KiB";
    }
    if (value.find('\0') != std::string::npos || !common::IsValidUtf8(value))
      return "parameter '" + key + "' must be UTF-8 text without NUL";
    total += key.size() + value.size();
  }
  if (total > kMaxParamsBytes) {
    *too_large = true;
    return "parameters exceed " + std::to_string(kMaxParamsBytes >> 10) +
           " KiB in all";
  }
  return "";
}

}  // namespace orchestra::broker
