// WireWriter and WireReader: the msgpack plumbing under the protocol codecs.
// Internal to broker/ (only broker .cc files include it). The reader checks
// every field's type, size and range and keeps the first problem, phrased
// for the peer ("field 'players' must be an array of strings").

#ifndef ORCHESTRA_BROKER_WIRE_H_
#define ORCHESTRA_BROKER_WIRE_H_

#define MSGPACK_NO_BOOST 1
#include <cstdint>
#include <map>
#include <msgpack.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/clock.h"

namespace orchestra::broker {

using StringMap = std::map<std::string, std::string>;
// One value of an `sql` reply's row (as broker/audience_protocol.h has it).
using SqlValue = std::variant<std::monostate, int64_t, double, std::string>;

// Limits that bound what one decoded message may allocate.
constexpr size_t kMaxArray = 100000;
constexpr size_t kMaxMapEntries = 100000;
constexpr size_t kMaxString = 4 << 20;
constexpr size_t kMaxDepth = 8;

// Writes msgpack, or only counts the bytes it would write (`kCountOnly`):
// the same calls size a message exactly without building it. Struct maps
// are opened with BeginMap() and closed with EndMap(); each Key() between
// counts one entry, so no caller counts a map's fields by hand. Map(n) is
// for maps whose size the caller holds (a StringMap, counts).
class WireWriter {
 public:
  enum Mode { kWrite, kCountOnly };
  explicit WireWriter(Mode mode = kWrite) : sink_(mode), packer_(sink_) {}

  void BeginMap();
  void EndMap();
  void Key(std::string_view key);
  void Map(size_t entries) { packer_.pack_map(static_cast<uint32_t>(entries)); }
  void Array(size_t items) { packer_.pack_array(static_cast<uint32_t>(items)); }
  void Str(std::string_view text) {
    packer_.pack_str(static_cast<uint32_t>(text.size()));
    packer_.pack_str_body(text.data(), static_cast<uint32_t>(text.size()));
  }
  void Int(int64_t value) { packer_.pack_int64(value); }
  void Bool(bool value) {
    if (value)
      packer_.pack_true();
    else
      packer_.pack_false();
  }
  void Nil() { packer_.pack_nil(); }
  void Double(double value) { packer_.pack_double(value); }
  void OptionalInt(const std::optional<int64_t>& value) {
    if (value)
      Int(*value);
    else
      Nil();
  }
  // ISO 8601 text, or nil when `ms` is 0.
  void Time(common::TimeMs ms);
  void Strings(const std::vector<std::string>& items);
  void Strings(const StringMap& map);

  // The bytes written (or counted) so far.
  size_t size() const { return sink_.size; }
  std::string Take() {
    return std::string(sink_.bytes.data(), sink_.bytes.size());
  }

  // The bytes of one msgpack string of `bytes` bytes, header included.
  static size_t StrSize(size_t bytes);

 private:
  // What msgpack's packer writes into: an sbuffer (it grows by realloc,
  // which a large reply needs), or only a count.
  struct Sink {
    // Counting allocates nothing.
    explicit Sink(Mode m)
        : mode(m), bytes(m == kWrite ? MSGPACK_SBUFFER_INIT_SIZE : 0) {}
    Mode mode;
    msgpack::sbuffer bytes;
    size_t size = 0;
    void write(const char* data, size_t n) {
      size += n;
      if (mode == kWrite) bytes.write(data, n);
    }
  };
  struct OpenMap {
    size_t at;  // offset of its one-byte placeholder header
    size_t entries;
  };

  Sink sink_;
  msgpack::packer<Sink> packer_;
  OpenMap open_[kMaxDepth];  // the maps open now, innermost last
  size_t depth_ = 0;
};

// The outcome of decoding: the first problem found, if any. `code` uses the
// audience error codes (bad_request, missing_field, too_large, ...).
struct WireProblem {
  std::string code;
  std::string message;
  bool ok() const { return code.empty(); }
};

// Unpacks `bytes` into `handle`; false (with `problem` set) when the bytes
// are not exactly one msgpack value within the limits above.
bool Unpack(std::string_view bytes, msgpack::object_handle* handle,
            WireProblem* problem);

class WireReader {
 public:
  enum Need { kOptional, kRequired };

  // Reads the map `object`; a non-map records a bad_request problem.
  // `context` prefixes messages ("task 3: ...") and may be empty.
  WireReader(const msgpack::object& object, WireProblem* problem,
             std::string context = "");

  bool ok() const { return problem_->ok(); }
  // A reader for a nested map that reports into the same problem.
  WireReader Nested(const msgpack::object& object,
                    const std::string& context) const {
    return WireReader(object, problem_, context);
  }
  bool Has(std::string_view key) const;
  // True when `key` is in the map, even with a nil value.
  bool HasKey(std::string_view key) const;
  // The raw value under `key`, or nullptr (nil counts as absent).
  const msgpack::object* Find(std::string_view key) const;

  std::string Str(std::string_view key, Need need, size_t max_size);
  int64_t Int(std::string_view key, Need need, int64_t min, int64_t max,
              int64_t fallback = 0);
  std::optional<int64_t> OptionalInt(std::string_view key, int64_t min,
                                     int64_t max);
  bool Bool(std::string_view key, bool fallback = false);
  common::TimeMs Time(std::string_view key);
  // A map of string to string with at most `max_entries`, each key and value
  // at most `max_size` bytes.
  StringMap Strings(std::string_view key, Need need, size_t max_entries,
                    size_t max_size);
  std::vector<std::string> StringList(std::string_view key, Need need,
                                      size_t max_items, size_t max_size);
  // The array under `key` (empty when absent); `items` points into it.
  std::vector<const msgpack::object*> Array(std::string_view key, Need need,
                                            size_t max_items);

  // Records a problem unless one is already recorded.
  void Fail(std::string_view code, std::string_view message);
  // "task 3: field 'name'", for messages.
  std::string Name(std::string_view key) const;

 private:
  const msgpack::object* Require(std::string_view key, Need need);
  const msgpack::object_kv* Entry(std::string_view key) const;

  const msgpack::object* map_ = nullptr;
  mutable uint32_t hint_ = 0;  // where Entry() looks first
  WireProblem* problem_;
  std::string context_;
};

// True when `object` holds a string (str or bin); sets `out`.
bool ReadString(const msgpack::object& object, std::string* out);

}  // namespace orchestra::broker

#endif  // ORCHESTRA_BROKER_WIRE_H_
