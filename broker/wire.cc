#include "broker/wire.h"

#include <cassert>
#include <cstring>
#include <exception>

namespace orchestra::broker {

// Years 0000 to 9999 take 24 characters ("2026-11-28T03:20:00.123Z"), so
// counting them needs no formatting.
void WireWriter::Time(common::TimeMs ms) {
  constexpr common::TimeMs kYear0 = -62167219200000;
  constexpr common::TimeMs kYear10000 = 253402300800000;
  if (ms == 0) {
    Nil();
  } else if (sink_.mode == kCountOnly && ms >= kYear0 && ms < kYear10000) {
    sink_.size += StrSize(24);
  } else {
    Str(common::FormatTime(ms));
  }
}

void WireWriter::Strings(const std::vector<std::string>& items) {
  Array(items.size());
  for (const std::string& item : items) Str(item);
}

void WireWriter::Strings(const StringMap& map) {
  Map(map.size());
  for (const auto& [key, value] : map) {
    Str(key);
    Str(value);
  }
}

size_t WireWriter::StrSize(size_t bytes) {
  return bytes + (bytes < 32 ? 1 : bytes < 256 ? 2 : bytes < 65536 ? 3 : 5);
}

void WireWriter::BeginMap() {
  assert(depth_ < kMaxDepth);
  open_[depth_++] = {sink_.size, 0};
  packer_.pack_map(0);  // one byte, replaced by EndMap()
}

void WireWriter::Key(std::string_view key) {
  assert(depth_ > 0);
  ++open_[depth_ - 1].entries;
  Str(key);
}

// Puts the real header in place of the placeholder: msgpack's shortest
// form, as pack_map writes it (fixmap, map 16 or map 32).
void WireWriter::EndMap() {
  assert(depth_ > 0);
  const OpenMap map = open_[--depth_];
  const uint32_t n = static_cast<uint32_t>(map.entries);
  char header[5];
  size_t size;
  if (n < 16) {
    header[0] = static_cast<char>(0x80 | n);
    size = 1;
  } else if (n < 65536) {
    header[0] = static_cast<char>(0xde);
    header[1] = static_cast<char>(n >> 8);
    header[2] = static_cast<char>(n);
    size = 3;
  } else {
    header[0] = static_cast<char>(0xdf);
    for (int i = 0; i < 4; ++i)
      header[1 + i] = static_cast<char>(n >> (24 - 8 * i));
    size = 5;
  }
  sink_.size += size - 1;
  if (sink_.mode != kWrite) return;
  msgpack::sbuffer& bytes = sink_.bytes;
  if (size > 1) {  // room for the longer header: the map's body moves on
    const size_t body = bytes.size() - map.at - 1;
    bytes.write(header, size - 1);
    std::memmove(bytes.data() + map.at + size, bytes.data() + map.at + 1, body);
  }
  std::memcpy(bytes.data() + map.at, header, size);
}

bool Unpack(std::string_view bytes, msgpack::object_handle* handle,
            WireProblem* problem) {
  msgpack::unpack_limit limit(kMaxArray, kMaxMapEntries, kMaxString, kMaxString,
                              0, kMaxDepth);
  size_t offset = 0;
  try {
    *handle = msgpack::unpack(bytes.data(), bytes.size(), offset, nullptr,
                              nullptr, limit);
  } catch (const msgpack::ext_size_overflow& e) {  // we use no ext types
    problem->code = "bad_request";
    problem->message = std::string("not a valid message: ") + e.what();
    return false;
  } catch (const msgpack::depth_size_overflow& e) {
    problem->code = "bad_request";
    problem->message = "not a valid message: nested more than " +
                       std::to_string(kMaxDepth) + " deep";
    return false;
  } catch (const msgpack::size_overflow& e) {
    // Well-formed but bigger than any message may be (e.g. a job listing
    // more players than allowed): too_large, so the client knows why.
    problem->code = "too_large";
    problem->message = "an array or map has more than " +
                       std::to_string(kMaxArray) +
                       " items or a string more than " +
                       std::to_string(kMaxString) + " bytes (" + e.what() + ")";
    return false;
  } catch (const std::exception& e) {
    problem->code = "bad_request";
    problem->message = std::string("not a msgpack message: ") + e.what();
    return false;
  }
  if (offset != bytes.size()) {
    problem->code = "bad_request";
    problem->message = "trailing bytes after the msgpack message";
    return false;
  }
  return true;
}

bool ReadString(const msgpack::object& object, std::string* out) {
  if (object.type == msgpack::type::STR) {
    out->assign(object.via.str.ptr, object.via.str.size);
    return true;
  }
  if (object.type == msgpack::type::BIN) {
    out->assign(object.via.bin.ptr, object.via.bin.size);
    return true;
  }
  return false;
}

WireReader::WireReader(const msgpack::object& object, WireProblem* problem,
                       std::string context)
    : problem_(problem), context_(std::move(context)) {
  if (object.type != msgpack::type::MAP) {
    Fail("bad_request", "expected a map");
    return;
  }
  map_ = &object;
}

std::string WireReader::Name(std::string_view key) const {
  std::string name = context_;
  if (!name.empty()) name += ": ";
  name += "field '";
  name += key;
  name += "'";
  return name;
}

void WireReader::Fail(std::string_view code, std::string_view message) {
  if (!problem_->ok()) return;
  problem_->code = std::string(code);
  problem_->message = std::string(message);
}

// Looks from where the last key was found: a map written in the order it is
// read (every map our encoders write) costs one comparison a key.
const msgpack::object_kv* WireReader::Entry(std::string_view key) const {
  if (map_ == nullptr) return nullptr;
  const msgpack::object_map& map = map_->via.map;
  for (uint32_t n = 0; n < map.size; ++n) {
    const uint32_t i = (hint_ + n) % map.size;
    const msgpack::object& k = map.ptr[i].key;
    if (k.type == msgpack::type::STR &&
        std::string_view(k.via.str.ptr, k.via.str.size) == key) {
      hint_ = i + 1;
      return &map.ptr[i];
    }
  }
  return nullptr;
}

const msgpack::object* WireReader::Find(std::string_view key) const {
  const msgpack::object_kv* entry = Entry(key);
  if (entry == nullptr || entry->val.type == msgpack::type::NIL) return nullptr;
  return &entry->val;
}

bool WireReader::HasKey(std::string_view key) const {
  return Entry(key) != nullptr;
}

bool WireReader::Has(std::string_view key) const {
  return Find(key) != nullptr;
}

const msgpack::object* WireReader::Require(std::string_view key, Need need) {
  if (!ok()) return nullptr;
  const msgpack::object* value = Find(key);
  if (value == nullptr && need == kRequired)
    Fail("missing_field", Name(key) + " is required");
  return value;
}

std::string WireReader::Str(std::string_view key, Need need, size_t max_size) {
  const msgpack::object* value = Require(key, need);
  std::string out;
  if (value == nullptr) return out;
  if (!ReadString(*value, &out)) {
    Fail("bad_request", Name(key) + " must be a string");
  } else if (out.size() > max_size) {
    Fail("too_large",
         Name(key) + " is longer than " + std::to_string(max_size) + " bytes");
    out.clear();
  }
  return out;
}

int64_t WireReader::Int(std::string_view key, Need need, int64_t min,
                        int64_t max, int64_t fallback) {
  const msgpack::object* value = Require(key, need);
  if (value == nullptr) return fallback;
  int64_t out;
  if (value->type == msgpack::type::POSITIVE_INTEGER) {
    if (value->via.u64 > static_cast<uint64_t>(INT64_MAX)) {
      Fail("bad_request", Name(key) + " is out of range");
      return fallback;
    }
    out = static_cast<int64_t>(value->via.u64);
  } else if (value->type == msgpack::type::NEGATIVE_INTEGER) {
    out = value->via.i64;
  } else {
    Fail("bad_request", Name(key) + " must be an integer");
    return fallback;
  }
  if (out < min || out > max) {
    Fail("bad_request", Name(key) + " must be from " + std::to_string(min) +
                            " to " + std::to_string(max));
    return fallback;
  }
  return out;
}

std::optional<int64_t> WireReader::OptionalInt(std::string_view key,
                                               int64_t min, int64_t max) {
  if (!Has(key)) return std::nullopt;
  int64_t value = Int(key, kRequired, min, max);
  if (!ok()) return std::nullopt;
  return value;
}

bool WireReader::Bool(std::string_view key, bool fallback) {
  const msgpack::object* value = Require(key, kOptional);
  if (value == nullptr) return fallback;
  if (value->type != msgpack::type::BOOLEAN) {
    Fail("bad_request", Name(key) + " must be true or false");
    return fallback;
  }
  return value->via.boolean;
}

common::TimeMs WireReader::Time(std::string_view key) {
  std::string text = Str(key, kOptional, 64);
  if (text.empty()) return 0;
  common::TimeMs ms = 0;
  if (!common::ParseTime(text, &ms))
    Fail("bad_request",
         Name(key) + " must be a time like 2026-11-28T03:20:00.123Z");
  return ms;
}

StringMap WireReader::Strings(std::string_view key, Need need,
                              size_t max_entries, size_t max_size) {
  StringMap out;
  const msgpack::object* value = Require(key, need);
  if (value == nullptr) return out;
  if (value->type != msgpack::type::MAP) {
    Fail("bad_request", Name(key) + " must be a map of strings");
    return out;
  }
  const msgpack::object_map& map = value->via.map;
  if (map.size > max_entries) {
    Fail("too_large", Name(key) + " has more than " +
                          std::to_string(max_entries) + " entries");
    return out;
  }
  for (uint32_t i = 0; i < map.size; ++i) {
    std::string k, v;
    if (!ReadString(map.ptr[i].key, &k) || !ReadString(map.ptr[i].val, &v)) {
      Fail("bad_request", Name(key) + " must map strings to strings");
      return {};
    }
    if (k.size() > max_size || v.size() > max_size) {
      Fail("too_large", Name(key) + ": an entry is longer than " +
                            std::to_string(max_size) + " bytes");
      return {};
    }
    out[std::move(k)] = std::move(v);
  }
  return out;
}

std::vector<std::string> WireReader::StringList(std::string_view key, Need need,
                                                size_t max_items,
                                                size_t max_size) {
  std::vector<std::string> out;
  for (const msgpack::object* item : Array(key, need, max_items)) {
    std::string text;
    if (!ReadString(*item, &text)) {
      Fail("bad_request", Name(key) + " must be an array of strings");
      return {};
    }
    if (text.size() > max_size) {
      Fail("too_large", Name(key) + ": an item is longer than " +
                            std::to_string(max_size) + " bytes");
      return {};
    }
    out.push_back(std::move(text));
  }
  return out;
}

std::vector<const msgpack::object*> WireReader::Array(std::string_view key,
                                                      Need need,
                                                      size_t max_items) {
  std::vector<const msgpack::object*> out;
  const msgpack::object* value = Require(key, need);
  if (value == nullptr) return out;
  if (value->type != msgpack::type::ARRAY) {
    Fail("bad_request", Name(key) + " must be an array");
    return out;
  }
  if (value->via.array.size > max_items) {
    Fail("too_large",
         Name(key) + " has more than " + std::to_string(max_items) + " items");
    return out;
  }
  out.reserve(value->via.array.size);
  for (uint32_t i = 0; i < value->via.array.size; ++i)
    out.push_back(&value->via.array.ptr[i]);
  return out;
}

}  // namespace orchestra::broker
