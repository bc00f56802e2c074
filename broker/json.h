// JSON text for msgpack messages, for `orchestra --json`: a reply (or one of
// its fields) printed exactly as the protocol carries it, keys in wire order.
// Invalid UTF-8 in strings becomes U+FFFD, so any message can be printed.

#ifndef ORCHESTRA_BROKER_JSON_H_
#define ORCHESTRA_BROKER_JSON_H_

#include <string>
#include <string_view>

#include "common/result.h"

namespace orchestra::broker {

// The JSON text of one msgpack value; indented by two spaces when `pretty`.
// InvalidArgument when `msgpack_bytes` is not exactly one msgpack value.
common::Result<std::string> MsgpackToJson(std::string_view msgpack_bytes,
                                          bool pretty);

// The JSON text of the value under `field` in a msgpack map. NotFound when
// the map has no such key; InvalidArgument when the bytes are not a map.
common::Result<std::string> MsgpackFieldToJson(std::string_view msgpack_bytes,
                                               std::string_view field,
                                               bool pretty);

}  // namespace orchestra::broker

#endif  // ORCHESTRA_BROKER_JSON_H_
