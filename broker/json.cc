// The bytes first go through the protocol's own bounded unpacker (sizes and
// nesting depth), so a hostile message cannot make the JSON parser recurse
// without limit; nlohmann-json then does the conversion. ordered_json keeps
// the keys in wire order.

#include "broker/json.h"

#include <nlohmann/json.hpp>

#include "broker/wire.h"

namespace orchestra::broker {

namespace {

using common::Result;
using common::Status;
using Json = nlohmann::ordered_json;

Result<Json> Parse(std::string_view bytes) {
  WireProblem problem;
  msgpack::object_handle handle;
  if (!Unpack(bytes, &handle, &problem))
    return Status::InvalidArgument("json", problem.message);
  try {
    return Json::from_msgpack(bytes.begin(), bytes.end());
  } catch (const Json::exception& e) {
    return Status::InvalidArgument("json", e.what());
  }
}

std::string Dump(const Json& value, bool pretty) {
  return value.dump(pretty ? 2 : -1, ' ', /*ensure_ascii=*/false,
                    Json::error_handler_t::replace);
}

}  // namespace

Result<std::string> MsgpackToJson(std::string_view msgpack_bytes, bool pretty) {
  Result<Json> value = Parse(msgpack_bytes);
  if (!value.ok()) return value.status();
  return Dump(value.value(), pretty);
}

Result<std::string> MsgpackFieldToJson(std::string_view msgpack_bytes,
                                       std::string_view field, bool pretty) {
  Result<Json> value = Parse(msgpack_bytes);
  if (!value.ok()) return value.status();
  if (!value.value().is_object())
    return Status::InvalidArgument("json", "the message is not a map");
  auto it = value.value().find(std::string(field));
  if (it == value.value().end())
    return Status::NotFound("json", "no field '" + std::string(field) + "'");
  return Dump(*it, pretty);
}

}  // namespace orchestra::broker
