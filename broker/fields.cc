#include "broker/fields.h"

namespace orchestra::broker {

void FieldWriter::CountMap(const char* key, const Counts& value, Need need) {
  if (need == Need::kWhenSet && value.empty()) return;
  w_->Key(key);
  w_->Map(value.size());
  for (const auto& [name, count] : value) {
    w_->Str(name);
    w_->Int(count);
  }
}

void FieldWriter::Rows(const char* key,
                       const std::vector<std::vector<SqlValue>>& rows,
                       Need need, size_t, size_t) {
  if (need == Need::kWhenSet && rows.empty()) return;
  w_->Key(key);
  w_->Array(rows.size());
  for (const std::vector<SqlValue>& row : rows) {
    w_->Array(row.size());
    for (const SqlValue& value : row) {
      if (const int64_t* n = std::get_if<int64_t>(&value))
        w_->Int(*n);
      else if (const double* x = std::get_if<double>(&value))
        w_->Double(*x);
      else if (const std::string* text = std::get_if<std::string>(&value))
        w_->Str(*text);
      else
        w_->Nil();
    }
  }
}

bool FieldReader::Present(const char* key, Need need) {
  if (!ok()) return false;
  if (need == Need::kNullable && !r_.HasKey(key)) {
    Fail("missing_field", Name(key) + " is required (nil when it has none)");
    return false;
  }
  return true;
}

bool FieldReader::Required(const char* key, Need need) {
  if (need == Need::kRequired && !r_.Has(key)) {
    Fail("missing_field", Name(key) + " is required");
    return false;
  }
  return true;
}

void FieldReader::Switch(const char* key, bool& value, Need need,
                         const char* yes, const char* no) {
  std::string text;
  Str(key, text, need, 64);
  value = (text == yes);
  const bool absent = text.empty() && need != Need::kRequired;
  if (ok() && !value && !absent && text != no)
    Fail("bad_request", Name(key) + " must be " + yes + " or " + no);
}

// A map of names to counts (tasks by state); a count above INT64_MAX would
// read as a negative one.
void FieldReader::CountMap(const char* key, Counts& value, Need need) {
  value.clear();
  if (!Present(key, need) || !Required(key, need)) return;
  const msgpack::object* map = r_.Find(key);
  if (map == nullptr) return;
  if (map->type != msgpack::type::MAP) {
    Fail("bad_request", Name(key) + " must be a map of counts");
    return;
  }
  for (uint32_t i = 0; i < map->via.map.size; ++i) {
    std::string name;
    const msgpack::object& count = map->via.map.ptr[i].val;
    if (!ReadString(map->via.map.ptr[i].key, &name) ||
        count.type != msgpack::type::POSITIVE_INTEGER ||
        count.via.u64 > static_cast<uint64_t>(INT64_MAX)) {
      Fail("bad_request", Name(key) + " must map names to counts");
      value.clear();
      return;
    }
    value[name] = static_cast<int64_t>(count.via.u64);
  }
}

namespace {

// One value of a row; false when it is none of nil, int, float or string.
bool ReadSqlValue(const msgpack::object& object, SqlValue* value) {
  std::string text;
  switch (object.type) {
    case msgpack::type::NIL:
      *value = std::monostate{};
      return true;
    case msgpack::type::POSITIVE_INTEGER:
      if (object.via.u64 > static_cast<uint64_t>(INT64_MAX)) return false;
      *value = static_cast<int64_t>(object.via.u64);
      return true;
    case msgpack::type::NEGATIVE_INTEGER:
      *value = object.via.i64;
      return true;
    case msgpack::type::FLOAT32:
    case msgpack::type::FLOAT64:
      *value = object.via.f64;
      return true;
    default:
      if (!ReadString(object, &text)) return false;
      *value = std::move(text);
      return true;
  }
}

}  // namespace

void FieldReader::Rows(const char* key,
                       std::vector<std::vector<SqlValue>>& rows, Need need,
                       size_t max_rows, size_t max_values) {
  rows.clear();
  if (!Present(key, need)) return;
  for (const msgpack::object* item : r_.Array(key, Wire(need), max_rows)) {
    const std::string row = Name(key) + " row " + std::to_string(rows.size());
    if (item->type != msgpack::type::ARRAY)
      return Fail("bad_request", row + " must be an array");
    if (item->via.array.size > max_values)
      return Fail("too_large", row + " has more than " +
                                   std::to_string(max_values) + " values");
    std::vector<SqlValue> values(item->via.array.size);
    for (uint32_t i = 0; i < item->via.array.size; ++i) {
      if (!ReadSqlValue(item->via.array.ptr[i], &values[i]))
        return Fail("bad_request",
                    row +
                        " holds a value other than nil, an integer, a "
                        "float or a string");
    }
    rows.push_back(std::move(values));
  }
}

// An integer, or "N%" as a string; a string without '%' is refused, so
// what is read writes back the same.
void FieldReader::Limit(const char* key, std::optional<RolloutLimit>& value,
                        Need need, int64_t min) {
  value.reset();
  if (!Present(key, need) || !Required(key, need)) return;
  const msgpack::object* object = r_.Find(key);
  if (object == nullptr) return;
  std::string text;
  RolloutLimit limit;
  bool valid = false;
  if (ReadString(*object, &text)) {
    valid = text.size() <= 8 && ParsePercent(text, min, &limit);
  } else if (object->type == msgpack::type::POSITIVE_INTEGER) {
    limit.value = static_cast<int64_t>(object->via.u64);
    valid = object->via.u64 <= static_cast<uint64_t>(INT64_MAX) &&
            limit.value >= min;
  }
  if (valid) {
    value = limit;
    return;
  }
  Fail("bad_request", Name(key) + " must be an integer from " +
                          std::to_string(min) + " or a string \"N%\" from \"" +
                          std::to_string(min) + "%\" to \"100%\"");
}

namespace {

std::string Bytes(size_t max) {
  return "at most " + std::to_string(max) + " bytes";
}

std::string Span(Range range) {
  auto text = [](int64_t n) {
    if (n == INT64_MAX) return std::string("2^63-1");
    if (n == INT32_MAX) return std::string("2^31-1");
    if (n == INT32_MIN) return std::string("-2^31");
    return std::to_string(n);
  };
  return text(range.min) + " to " + text(range.max);
}

}  // namespace

void FieldDescriber::Field(const char* key, std::string type, Need need,
                           std::string range) {
  (*out_)[current_.back()].fields.push_back(
      {key, std::move(type), need, std::move(range)});
}

void FieldDescriber::Int(const char* key, int64_t, Need need, Range range,
                         int64_t fallback) {
  std::string text = Span(range);
  if (need != Need::kRequired && fallback != 0)
    text += "; default " + std::to_string(fallback);
  Field(key, "int", need, text);
}

void FieldDescriber::OptionalInt(const char* key, const std::optional<int64_t>&,
                                 Need need, Range range) {
  Field(key, "int or nil", need, Span(range));
}

void FieldDescriber::Str(const char* key, const std::string&, Need need,
                         size_t max) {
  Field(key, "string", need, Bytes(max));
}

void FieldDescriber::Switch(const char* key, bool, Need need, const char* yes,
                            const char* no) {
  Field(key, "string", need, "`" + std::string(yes) + "` or `" + no + "`");
}

void FieldDescriber::Time(const char* key, common::TimeMs, Need need) {
  Field(key, "time or nil", need, "ISO 8601 UTC, milliseconds");
}

void FieldDescriber::Strings(const char* key, const StringMap&, Need need,
                             size_t max_entries, size_t max_bytes) {
  Field(key, "map of string to string", need,
        "at most " + std::to_string(max_entries) + " entries, each " +
            Bytes(max_bytes));
}

void FieldDescriber::StringList(const char* key,
                                const std::vector<std::string>&, Need need,
                                size_t max_items, size_t max_bytes) {
  Field(key, "array of strings", need,
        "at most " + std::to_string(max_items) + " items, each " +
            Bytes(max_bytes));
}

void FieldDescriber::CountMap(const char* key, const Counts&, Need need) {
  Field(key, "map of string to int", need, "counts from 0");
}

void FieldDescriber::Rows(const char* key,
                          const std::vector<std::vector<SqlValue>>&, Need need,
                          size_t max_rows, size_t max_values) {
  Field(key, "array of arrays of nil, int, float or string", need,
        "at most " + std::to_string(max_rows) + " rows of at most " +
            std::to_string(max_values) + " values");
}

void FieldDescriber::Limit(const char* key, const std::optional<RolloutLimit>&,
                           Need need, int64_t min) {
  Field(key, "int or string", need,
        Span({min, INT64_MAX}) + ", or `\"" + std::to_string(min) +
            "%\"` to `\"100%\"`");
}

}  // namespace orchestra::broker
