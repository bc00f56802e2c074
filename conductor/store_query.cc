// A remote query keeps its parameters until the first Step() sends them,
// then holds every row that came back (bounded by the engine's client).
// Columns read as SQLite would coerce them: an integer column read as text
// is its decimal digits, a text column read as an integer its leading
// number.

#include "conductor/store_query.h"

#include <cstdlib>

namespace orchestra::conductor {

using common::Result;
using common::Status;

namespace {

void Put(std::vector<StoreValue>* params, int index, StoreValue value) {
  if (index < 1) return;
  const size_t i = static_cast<size_t>(index - 1);
  if (params->size() <= i) params->resize(i + 1);
  (*params)[i] = std::move(value);
}

const StoreValue kNull;

}  // namespace

StoreQuery& StoreQuery::Bind(int index, int64_t value) {
  if (!remote_)
    local_.Bind(index, value);
  else
    Put(&params_, index, value);
  return *this;
}

StoreQuery& StoreQuery::Bind(int index, std::string_view text) {
  if (!remote_)
    local_.Bind(index, text);
  else
    Put(&params_, index, std::string(text));
  return *this;
}

StoreQuery& StoreQuery::Bind(int index, const std::optional<int64_t>& value) {
  return value ? Bind(index, *value) : BindNull(index);
}

StoreQuery& StoreQuery::BindNull(int index) {
  if (!remote_)
    local_.BindNull(index);
  else
    Put(&params_, index, std::monostate());
  return *this;
}

Result<bool> StoreQuery::Step() {
  if (!remote_) return local_.Step();
  if (!ran_) {
    Result<StoreRows> rows = (*remote_)(sql_, params_);
    if (!rows.ok()) {
      Reset();
      return rows.status();
    }
    result_ = std::move(rows.value());
    next_ = 0;
    ran_ = true;
  }
  if (next_ >= result_.rows.size()) return false;
  ++next_;
  return true;
}

void StoreQuery::Reset() {
  if (!remote_) {
    local_.Reset();
    return;
  }
  params_.clear();
  result_ = StoreRows();
  next_ = 0;
  ran_ = false;
}

const StoreValue* StoreQuery::Cell(int column) const {
  if (next_ == 0 || next_ > result_.rows.size() || column < 0) return &kNull;
  const std::vector<StoreValue>& row = result_.rows[next_ - 1];
  if (static_cast<size_t>(column) >= row.size()) return &kNull;
  return &row[static_cast<size_t>(column)];
}

bool StoreQuery::IsNull(int column) const {
  if (!remote_) return local_.IsNull(column);
  return std::holds_alternative<std::monostate>(*Cell(column));
}

int64_t StoreQuery::Int(int column) const {
  if (!remote_) return local_.Int(column);
  const StoreValue* v = Cell(column);
  if (const int64_t* n = std::get_if<int64_t>(v)) return *n;
  if (const double* d = std::get_if<double>(v)) return static_cast<int64_t>(*d);
  if (const std::string* t = std::get_if<std::string>(v))
    return std::strtoll(t->c_str(), nullptr, 10);
  return 0;
}

std::string StoreQuery::Text(int column) const {
  return std::string(TextView(column));
}

std::string_view StoreQuery::TextView(int column) const {
  if (!remote_) return local_.TextView(column);
  const StoreValue* v = Cell(column);
  if (const std::string* t = std::get_if<std::string>(v)) return *t;
  if (std::holds_alternative<std::monostate>(*v)) return std::string_view();
  // A number read as text: kept until the next step, as SQLite keeps it.
  auto* self = const_cast<StoreQuery*>(this);
  StoreValue& cell = self->result_.rows[next_ - 1][static_cast<size_t>(column)];
  if (const int64_t* n = std::get_if<int64_t>(v))
    cell = std::to_string(*n);
  else
    cell = std::to_string(std::get<double>(*v));
  return std::get<std::string>(cell);
}

std::optional<int64_t> StoreQuery::OptionalInt(int column) const {
  if (IsNull(column)) return std::nullopt;
  return Int(column);
}

StoreValue StoreQuery::Value(int column) const {
  if (remote_) return *Cell(column);
  if (local_.IsNull(column)) return std::monostate();
  if (local_.IsInteger(column)) return local_.Int(column);
  if (local_.IsReal(column)) return local_.Real(column);
  return local_.Text(column);
}

int StoreQuery::ColumnCount() const {
  if (!remote_) return local_.ColumnCount();
  return static_cast<int>(result_.columns.size());
}

std::string StoreQuery::ColumnName(int column) const {
  if (!remote_) return local_.ColumnName(column);
  if (column < 0 || static_cast<size_t>(column) >= result_.columns.size())
    return "";
  return result_.columns[static_cast<size_t>(column)];
}

}  // namespace orchestra::conductor
