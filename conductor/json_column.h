// How the conductor's stores (JobStore, PlayerStore) keep a map of strings
// (a job's params, a task's response, a player's labels): a JSON object,
// so SQL readers can use json_extract() and json_each().

#ifndef ORCHESTRA_CONDUCTOR_JSON_COLUMN_H_
#define ORCHESTRA_CONDUCTOR_JSON_COLUMN_H_

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "broker/protocol.h"

namespace orchestra::conductor {

// `map` as a JSON object; invalid UTF-8 becomes U+FFFD.
inline std::string MapToJson(const broker::StringMap& map) {
  nlohmann::json json = nlohmann::json::object();
  for (const auto& [key, value] : map) json[key] = value;
  return json.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// The string members of the JSON object `text`; {} for anything else.
inline broker::StringMap MapFromJson(std::string_view text) {
  broker::StringMap map;
  if (text == "{}") return map;  // most tasks' response: no parse
  nlohmann::json json = nlohmann::json::parse(text, nullptr, false);
  if (!json.is_object()) return map;
  for (auto it = json.begin(); it != json.end(); ++it) {
    if (it.value().is_string()) map[it.key()] = it.value().get<std::string>();
  }
  return map;
}

}  // namespace orchestra::conductor

#endif  // ORCHESTRA_CONDUCTOR_JSON_COLUMN_H_
