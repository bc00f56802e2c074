// A hand-built msgpack value, for the codec tests: messages our encoders
// never make (wrong types, missing or extra fields, hostile sizes), written
// the way another client or a hostile peer might.

#ifndef ORCHESTRA_TEST_MSGPACK_BUILDER_H_
#define ORCHESTRA_TEST_MSGPACK_BUILDER_H_

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "broker/wire.h"  // msgpack

namespace orchestra::test {

using Packer = msgpack::packer<msgpack::sbuffer>;

struct Mp {
  std::function<void(Packer&)> pack;
  std::string Encode() const {
    msgpack::sbuffer buffer;
    Packer packer(buffer);
    pack(packer);
    return std::string(buffer.data(), buffer.size());
  }
};
using Fields = std::vector<std::pair<std::string, Mp>>;

inline Mp Nil() {
  return {[](Packer& p) { p.pack_nil(); }};
}
inline Mp Bool(bool v) {
  return {[v](Packer& p) { v ? p.pack_true() : p.pack_false(); }};
}
inline Mp Int(int64_t v) {
  return {[v](Packer& p) { p.pack_int64(v); }};
}
inline Mp Uint(uint64_t v) {
  return {[v](Packer& p) { p.pack_uint64(v); }};
}
inline Mp Float(double v) {
  return {[v](Packer& p) { p.pack_double(v); }};
}
inline Mp Str(std::string s) {
  return {[s](Packer& p) {
    p.pack_str(static_cast<uint32_t>(s.size()));
    p.pack_str_body(s.data(), static_cast<uint32_t>(s.size()));
  }};
}
inline Mp Array(std::vector<Mp> items) {
  return {[items](Packer& p) {
    p.pack_array(static_cast<uint32_t>(items.size()));
    for (const Mp& item : items) item.pack(p);
  }};
}
inline Mp Map(Fields fields) {
  return {[fields](Packer& p) {
    p.pack_map(static_cast<uint32_t>(fields.size()));
    for (const auto& [key, value] : fields) {
      Str(key).pack(p);
      value.pack(p);
    }
  }};
}
inline Mp Strings(const std::vector<std::string>& items) {
  std::vector<Mp> out;
  for (const std::string& item : items) out.push_back(Str(item));
  return Array(out);
}

// `fields` with `key` set to `value` (replaced, or added at the end).
inline Fields With(Fields fields, const std::string& key, Mp value) {
  for (auto& field : fields) {
    if (field.first == key) {
      field.second = std::move(value);
      return fields;
    }
  }
  fields.emplace_back(key, std::move(value));
  return fields;
}
// `fields` without `key`.
inline Fields Without(Fields fields, const std::string& key) {
  for (auto it = fields.begin(); it != fields.end(); ++it) {
    if (it->first == key) {
      fields.erase(it);
      break;
    }
  }
  return fields;
}

}  // namespace orchestra::test

#endif  // ORCHESTRA_TEST_MSGPACK_BUILDER_H_
