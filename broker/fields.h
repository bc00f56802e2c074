// FieldWriter, FieldReader and FieldDescriber: the three visitors that walk
// one description of a message (a `Fields(visitor, message)` overload in
// broker/message_fields.h) to write it, read and check it, or document it.
// Each visitor method names one field: its key, the member it maps to, its
// Need and its range. Internal to broker/.
//
// A description is written once against the reader's signatures (members by
// reference); the writer and the describer take the same calls and only
// read. Checks that span fields (a page's bounds, a name's grammar) are a
// `Check(FieldReader&, T*)` overload run after a record's fields are read.

#ifndef ORCHESTRA_BROKER_FIELDS_H_
#define ORCHESTRA_BROKER_FIELDS_H_

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "broker/message_schema.h"
#include "broker/rollout_limit.h"
#include "broker/states.h"
#include "broker/wire.h"
#include "common/clock.h"
#include "common/text.h"

namespace orchestra::broker {

using Counts = std::map<std::string, int64_t>;

struct Range {
  int64_t min;
  int64_t max;
};

// The wire names of an enum. Specialised for each enum a message carries:
//   static const char* Name(E);  static bool Parse(std::string_view, E*);
//   static constexpr int kCount;  (values 0 .. kCount-1)
//   static constexpr const char* kCode;  (the error code of a bad name)
template <typename E>
struct EnumNames;

template <>
struct EnumNames<TaskState> {
  static const char* Name(TaskState s) { return TaskStateName(s); }
  static bool Parse(std::string_view t, TaskState* s) {
    return ParseTaskState(t, s);
  }
  static constexpr int kCount = kTaskStateCount;
  static constexpr const char* kCode = "bad_request";
};
template <>
struct EnumNames<JobState> {
  static const char* Name(JobState s) { return JobStateName(s); }
  static bool Parse(std::string_view t, JobState* s) {
    return ParseJobState(t, s);
  }
  static constexpr int kCount = kJobStateCount;
  static constexpr const char* kCode = "bad_request";
};
template <>
struct EnumNames<Scope> {
  static const char* Name(Scope s) { return ScopeName(s); }
  static bool Parse(std::string_view t, Scope* s) { return ParseScope(t, s); }
  static constexpr int kCount = kScopeCount;
  static constexpr const char* kCode = "invalid_scope";
};
template <>
struct EnumNames<WaitReason> {
  static const char* Name(WaitReason r) { return WaitReasonName(r); }
  static bool Parse(std::string_view t, WaitReason* r) {
    return ParseWaitReason(t, r);
  }
  static constexpr int kCount = kWaitReasonCount;
  static constexpr const char* kCode = "bad_request";
};

// Which values of an enum a field takes; null: all of them.
template <typename E>
using Allowed = bool (*)(E);

// The names of the values of E that `allowed` takes, each between `quote`s
// and separated as a sentence: "'one' or 'all'", "OK, FAIL or TIMEOUT".
template <typename E>
std::string EnumChoices(Allowed<E> allowed, const char* quote = "'") {
  std::vector<std::string> names;
  for (int i = 0; i < EnumNames<E>::kCount; ++i) {
    const E value = static_cast<E>(i);
    if (allowed == nullptr || allowed(value))
      names.push_back(quote + std::string(EnumNames<E>::Name(value)) + quote);
  }
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += (i + 1 == names.size()) ? " or " : ", ";
    out += names[i];
  }
  return out;
}

// A record's checks beyond its fields' own: none unless overloaded.
class FieldReader;
template <typename T>
void Check(FieldReader&, T*) {}

// ---- writing ----

class FieldWriter {
 public:
  explicit FieldWriter(WireWriter* w) : w_(w) {}

  // One record as a map: its description's fields, counted as written.
  template <typename T>
  void Record(const T& value) {
    w_->BeginMap();
    Body(value);
    w_->EndMap();
  }
  // The fields of `value` into the map open now.
  template <typename T>
  void Body(const T& value) {
    Fields(*this, const_cast<T&>(value));  // the writer only reads
  }

  void Int(const char* key, int64_t value, Need need, Range,
           int64_t fallback = 0) {
    if (need == Need::kWhenSet && value == fallback) return;
    w_->Key(key);
    w_->Int(value);
  }
  void OptionalInt(const char* key, const std::optional<int64_t>& value,
                   Need need, Range) {
    if (need == Need::kWhenSet && !value) return;
    w_->Key(key);
    w_->OptionalInt(value);
  }
  void Str(const char* key, const std::string& value, Need need, size_t) {
    if (need == Need::kWhenSet && value.empty()) return;
    w_->Key(key);
    if (value.empty() &&
        (need == Need::kNilWhenEmpty || need == Need::kNullable))
      w_->Nil();
    else
      w_->Str(value);
  }
  void Bool(const char* key, bool value, Need need) {
    if (need == Need::kWhenSet && !value) return;
    w_->Key(key);
    w_->Bool(value);
  }
  // "yes" or "no" on the wire for a bool member.
  void Switch(const char* key, bool value, Need, const char* yes,
              const char* no) {
    w_->Key(key);
    w_->Str(value ? yes : no);
  }
  void Time(const char* key, common::TimeMs value, Need need) {
    if (need == Need::kWhenSet && value == 0) return;
    w_->Key(key);
    w_->Time(value);
  }
  void Strings(const char* key, const StringMap& value, Need need, size_t,
               size_t) {
    if (need == Need::kWhenSet && value.empty()) return;
    w_->Key(key);
    w_->Strings(value);
  }
  void StringList(const char* key, const std::vector<std::string>& value,
                  Need need, size_t, size_t) {
    if (need == Need::kWhenSet && value.empty()) return;
    w_->Key(key);
    w_->Strings(value);
  }
  void CountMap(const char* key, const Counts& value, Need need);
  // An array of arrays of nil, int, float or string (an `sql` reply).
  void Rows(const char* key, const std::vector<std::vector<SqlValue>>& rows,
            Need need, size_t, size_t);
  // An integer, or a string "N%" (broker/rollout_limit.h).
  void Limit(const char* key, const std::optional<RolloutLimit>& value,
             Need need, int64_t) {
    if (need == Need::kWhenSet && !value) return;
    w_->Key(key);
    if (!value)
      w_->Nil();
    else if (value->percent)
      w_->Str(RolloutLimitText(*value));
    else
      w_->Int(value->value);
  }
  template <typename E>
  void Enum(const char* key, E value, Need, Allowed<E> = nullptr) {
    w_->Key(key);
    w_->Str(EnumNames<E>::Name(value));
  }
  template <typename E>
  void Enum(const char* key, const std::optional<E>& value, Need need,
            Allowed<E> = nullptr) {
    if (need == Need::kWhenSet && !value) return;
    w_->Key(key);
    if (value)
      w_->Str(EnumNames<E>::Name(*value));
    else
      w_->Nil();
  }
  template <typename T>
  void Object(const char* key, const T& value, Need, const char*) {
    w_->Key(key);
    Record(value);
  }
  template <typename T>
  void Objects(const char* key, const std::vector<T>& values, Need need, size_t,
               const char*) {
    if (need == Need::kWhenSet && values.empty()) return;
    w_->Key(key);
    w_->Array(values.size());
    for (const T& value : values) Record(value);
  }

 private:
  WireWriter* w_;
};

// The bytes `value` takes as a map on the wire, counted without writing.
template <typename T>
size_t EncodedBytes(const T& value) {
  WireWriter counter(WireWriter::kCountOnly);
  FieldWriter(&counter).Record(value);
  return counter.size();
}

// ---- reading ----

class FieldReader {
 public:
  explicit FieldReader(WireReader reader) : r_(std::move(reader)) {}

  bool ok() const { return r_.ok(); }
  void Fail(std::string_view code, const std::string& message) {
    r_.Fail(code, message);
  }
  // "task 3: field 'name'", for messages.
  std::string Name(std::string_view key) const { return r_.Name(key); }

  // Reads the description of T from this map, then T's checks.
  template <typename T>
  T Record() {
    T value{};
    Fields(*this, value);
    if (ok()) Check(*this, &value);
    return value;
  }

  void Int(const char* key, int64_t& value, Need need, Range range,
           int64_t fallback = 0) {
    value = fallback;
    if (Present(key, need))
      value = r_.Int(key, Wire(need), range.min, range.max, fallback);
  }
  void Int(const char* key, int& value, Need need, Range range,
           int64_t fallback = 0) {
    int64_t wide = 0;
    Int(key, wide, need, range, fallback);
    value = static_cast<int>(wide);
  }
  void OptionalInt(const char* key, std::optional<int64_t>& value, Need need,
                   Range range) {
    value.reset();
    if (Present(key, need)) value = r_.OptionalInt(key, range.min, range.max);
  }
  void Str(const char* key, std::string& value, Need need, size_t max) {
    value.clear();
    if (Present(key, need)) value = r_.Str(key, Wire(need), max);
  }
  void Bool(const char* key, bool& value, Need need) {
    value = false;
    if (Present(key, need) && Required(key, need)) value = r_.Bool(key);
  }
  void Switch(const char* key, bool& value, Need need, const char* yes,
              const char* no);
  void Time(const char* key, common::TimeMs& value, Need need) {
    value = 0;
    if (Present(key, need) && Required(key, need)) value = r_.Time(key);
  }
  void Strings(const char* key, StringMap& value, Need need, size_t max_entries,
               size_t max_bytes) {
    value.clear();
    if (Present(key, need))
      value = r_.Strings(key, Wire(need), max_entries, max_bytes);
  }
  void StringList(const char* key, std::vector<std::string>& value, Need need,
                  size_t max_items, size_t max_bytes) {
    value.clear();
    if (Present(key, need))
      value = r_.StringList(key, Wire(need), max_items, max_bytes);
  }
  void CountMap(const char* key, Counts& value, Need need);
  // At most `max_rows` arrays of at most `max_values` values each (nil,
  // int, float or string; a string at most kMaxString bytes).
  void Rows(const char* key, std::vector<std::vector<SqlValue>>& rows,
            Need need, size_t max_rows, size_t max_values);
  // An integer from `min`, or a string "N%" with N from `min` to 100.
  void Limit(const char* key, std::optional<RolloutLimit>& value, Need need,
             int64_t min);
  template <typename E>
  void Enum(const char* key, E& value, Need need,
            Allowed<E> allowed = nullptr) {
    std::optional<E> read;
    Enum(key, read, need, allowed);
    if (read) value = *read;
  }
  template <typename E>
  void Enum(const char* key, std::optional<E>& value, Need need,
            Allowed<E> allowed = nullptr) {
    value.reset();
    std::string text;
    Str(key, text, need, 64);
    if (!ok() || (text.empty() && need != Need::kRequired)) return;
    E parsed;
    if (EnumNames<E>::Parse(text, &parsed) &&
        (allowed == nullptr || allowed(parsed)))
      value = parsed;
    else
      Fail(EnumNames<E>::kCode, Name(key) + " must be " +
                                    EnumChoices<E>(allowed) + ", not '" +
                                    common::SanitizeUtf8(text) + "'");
  }
  template <typename T>
  void Object(const char* key, T& value, Need need, const char* label) {
    if (!Present(key, need) || !Required(key, need)) return;
    const msgpack::object* object = r_.Find(key);
    if (object == nullptr) return;
    FieldReader nested(r_.Nested(*object, label));
    value = nested.Record<T>();
  }
  template <typename T>
  void Objects(const char* key, std::vector<T>& values, Need need,
               size_t max_items, const char* label) {
    values.clear();
    if (!Present(key, need)) return;
    for (const msgpack::object* item : r_.Array(key, Wire(need), max_items)) {
      FieldReader nested(r_.Nested(
          *item, std::string(label) + " " + std::to_string(values.size())));
      T value = nested.Record<T>();
      if (!ok()) return;
      values.push_back(std::move(value));
    }
  }

 private:
  static WireReader::Need Wire(Need need) {
    return need == Need::kRequired ? WireReader::kRequired
                                   : WireReader::kOptional;
  }
  // False (with a problem recorded) when a kNullable key is missing.
  bool Present(const char* key, Need need);
  // False (with a problem recorded) when a kRequired key is missing or nil.
  bool Required(const char* key, Need need);

  WireReader r_;
};

// ---- documenting ----

class FieldDescriber {
 public:
  explicit FieldDescriber(std::vector<MessageSchema>* out) : out_(out) {}

  // Describes T as `channel`/`name`, and each record it nests once.
  template <typename T>
  void Message(const std::string& channel, const std::string& name) {
    Add(channel, name, static_cast<T*>(nullptr));
  }

  void Int(const char* key, int64_t, Need need, Range range,
           int64_t fallback = 0);
  void OptionalInt(const char* key, const std::optional<int64_t>&, Need need,
                   Range range);
  void Str(const char* key, const std::string&, Need need, size_t max);
  void Bool(const char* key, bool, Need need) { Field(key, "bool", need, ""); }
  void Switch(const char* key, bool, Need need, const char* yes,
              const char* no);
  void Time(const char* key, common::TimeMs, Need need);
  void Strings(const char* key, const StringMap&, Need need, size_t max_entries,
               size_t max_bytes);
  void StringList(const char* key, const std::vector<std::string>&, Need need,
                  size_t max_items, size_t max_bytes);
  void CountMap(const char* key, const Counts&, Need need);
  void Rows(const char* key, const std::vector<std::vector<SqlValue>>&,
            Need need, size_t max_rows, size_t max_values);
  void Limit(const char* key, const std::optional<RolloutLimit>&, Need need,
             int64_t min);
  template <typename E>
  void Enum(const char* key, E, Need need, Allowed<E> allowed = nullptr) {
    Field(key, "string", need, EnumChoices<E>(allowed, "`"));
  }
  template <typename E>
  void Enum(const char* key, const std::optional<E>&, Need need,
            Allowed<E> allowed = nullptr) {
    Field(key, "string", need, EnumChoices<E>(allowed, "`"));
  }
  template <typename T>
  void Object(const char* key, const T&, Need need, const char* label) {
    Field(key, std::string("map (") + label + ")", need, "");
    Add("record", label, static_cast<T*>(nullptr));
  }
  template <typename T>
  void Objects(const char* key, const std::vector<T>&, Need need,
               size_t max_items, const char* label) {
    Field(key, std::string("array of maps (") + label + ")", need,
          "at most " + std::to_string(max_items) + " items");
    Add("record", label, static_cast<T*>(nullptr));
  }

 private:
  template <typename T>
  void Add(const std::string& channel, const std::string& name, T*) {
    if (!described_.insert(channel + "/" + name).second) return;
    current_.push_back(out_->size());
    out_->push_back({channel, name, {}});
    T sample{};
    Fields(*this, sample);
    current_.pop_back();
  }
  void Field(const char* key, std::string type, Need need, std::string range);

  std::vector<MessageSchema>* out_;
  std::vector<size_t> current_;  // records being described, innermost last
  std::set<std::string> described_;
};

// ---- messages chosen by name ----
// A channel's messages are a std::variant; a key ("type", "op", "kind")
// names the alternative, from a table of names in the variant's order.

// The index of `name` in `names`, or -1.
template <size_t N>
int IndexOf(const char* const (&names)[N], std::string_view name) {
  for (size_t i = 0; i < N; ++i) {
    if (name == names[i]) return static_cast<int>(i);
  }
  return -1;
}

// The fields of whichever alternative `message` holds.
template <typename Variant>
void WriteAlternative(FieldWriter* w, const Variant& message) {
  std::visit([w](const auto& m) { w->Body(m); }, message);
}

template <typename Variant, size_t... I>
void ReadAlternative(size_t index, FieldReader& r, Variant* out,
                     std::index_sequence<I...>) {
  ((I == index ? void(*out = r.Record<std::variant_alternative_t<I, Variant>>())
               : void()),
   ...);
}
// Reads alternative `index` of Variant from `r` into `out`.
template <typename Variant>
void ReadAlternative(size_t index, FieldReader& r, Variant* out) {
  ReadAlternative(index, r, out,
                  std::make_index_sequence<std::variant_size_v<Variant>>());
}

template <typename Variant, size_t... I>
void DescribeAlternatives(FieldDescriber* d, const char* channel,
                          const char* const* names, std::index_sequence<I...>) {
  (d->Message<std::variant_alternative_t<I, Variant>>(channel, names[I]), ...);
}
// Describes each alternative of Variant as `channel`/names[i].
template <typename Variant>
void DescribeAlternatives(FieldDescriber* d, const char* channel,
                          const char* const* names) {
  DescribeAlternatives<Variant>(
      d, channel, names,
      std::make_index_sequence<std::variant_size_v<Variant>>());
}

}  // namespace orchestra::broker

#endif  // ORCHESTRA_BROKER_FIELDS_H_
