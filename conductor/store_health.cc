#include "conductor/store_health.h"

namespace orchestra::conductor {

bool StoreHealth::Failed(const common::Status& error, common::TimeMs now) {
  reason_ = Describe(error);
  if (!writable_) return false;
  writable_ = false;
  failed_at_ = now;
  return true;
}

bool StoreHealth::Recovered() {
  if (writable_) return false;
  writable_ = true;
  reason_.clear();
  failed_at_ = 0;
  return true;
}

// The path stays in the log; the audience hears only what happened.
std::string StoreHealth::Describe(const common::Status& error) {
  const std::string_view what = error.what();
  return "database: " + (what.empty() ? error.message() : std::string(what));
}

}  // namespace orchestra::conductor
