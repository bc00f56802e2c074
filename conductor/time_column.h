// How the conductor's stores (JobStore, PlayerStore) keep a time: ISO 8601
// UTC text, so SQL readers can use julianday() and compare times as
// strings; NULL for none (0).

#ifndef ORCHESTRA_CONDUCTOR_TIME_COLUMN_H_
#define ORCHESTRA_CONDUCTOR_TIME_COLUMN_H_

#include "common/clock.h"
#include "common/sqlite.h"

namespace orchestra::conductor {

// Binds `ms` as text at `index`, or NULL if it is 0.
inline void BindTime(common::Statement* s, int index, common::TimeMs ms) {
  if (ms == 0) {
    s->BindNull(index);
  } else {
    s->Bind(index, common::FormatTime(ms));
  }
}

// The time in `column` of the current row, 0 if NULL.
inline common::TimeMs ColumnTime(const common::Statement& s, int column) {
  common::TimeMs ms = 0;
  if (!s.IsNull(column)) common::ParseTime(s.TextView(column), &ms);
  return ms;
}

}  // namespace orchestra::conductor

#endif  // ORCHESTRA_CONDUCTOR_TIME_COLUMN_H_
