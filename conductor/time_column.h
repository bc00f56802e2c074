// How the conductor's stores (JobStore, PlayerStore) keep a time: ISO 8601
// UTC text, so SQL readers can use julianday() and compare times as
// strings; NULL for none (0).

#ifndef ORCHESTRA_CONDUCTOR_TIME_COLUMN_H_
#define ORCHESTRA_CONDUCTOR_TIME_COLUMN_H_

#include "common/clock.h"
#include "common/sqlite.h"
#include "conductor/store_query.h"
#include "conductor/store_writes.h"

namespace orchestra::conductor {

// `ms` as a write's parameter: text, or NULL if it is 0.
inline StoreValue TimeValue(common::TimeMs ms) {
  if (ms == 0) return std::monostate();
  return common::FormatTime(ms);
}

// The time in `column` of the current row, 0 if NULL.
inline common::TimeMs ColumnTime(const StoreQuery& s, int column) {
  common::TimeMs ms = 0;
  if (!s.IsNull(column)) common::ParseTime(s.TextView(column), &ms);
  return ms;
}

}  // namespace orchestra::conductor

#endif  // ORCHESTRA_CONDUCTOR_TIME_COLUMN_H_
