// StoreHealth says whether the conductor's store takes writes (DESIGN.md
// section 15): a failed write or commit makes it unwritable, a retry that
// commits makes it writable again. It words what refused requests are told
// and reports which changes deserve a log line (one a change). Pure logic;
// owned by the conductor's loop thread.

#ifndef ORCHESTRA_CONDUCTOR_STORE_HEALTH_H_
#define ORCHESTRA_CONDUCTOR_STORE_HEALTH_H_

#include <string>

#include "common/clock.h"
#include "common/status.h"

namespace orchestra::conductor {

// How often an unwritable store is tried again.
constexpr common::TimeMs kStoreRetryMs = 1000;

class StoreHealth {
 public:
  // A write or commit failed with `error` at `now` (monotonic). True when
  // the store was writable until then: a change to log.
  bool Failed(const common::Status& error, common::TimeMs now);
  // A retry committed. True when the store was unwritable until then.
  bool Recovered();

  bool writable() const { return writable_; }
  // While unwritable: what went wrong, as a reply says it
  // ("database: disk full").
  const std::string& reason() const { return reason_; }
  // While unwritable: since when (monotonic).
  common::TimeMs failed_at() const { return failed_at_; }

  // "database: " and what went wrong, without the file's path.
  static std::string Describe(const common::Status& error);

 private:
  bool writable_ = true;
  std::string reason_;
  common::TimeMs failed_at_ = 0;
};

}  // namespace orchestra::conductor

#endif  // ORCHESTRA_CONDUCTOR_STORE_HEALTH_H_
