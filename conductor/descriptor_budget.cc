// What the reserve is for, at a limit L (RLIMIT_NOFILE):
//
//   - local audience connections: each ipc accept takes a descriptor, and
//     libzmq 4.3.4 aborts the process when one fails with EMFILE (README,
//     "Known issues"); they cannot be held off as tcp ones can;
//   - the database: SQLite's temporary files (large sorts), and the files
//     a reload reads (players, revoked and audience keys files);
//   - sd_notify's socket, the guard's count of /proc/self/fd;
//   - the connections libzmq accepts between the accept that crossed the
//     pause mark and the moment the guard's thread stops the listeners
//     (microseconds, unless that thread waits for a core).
//
// Everything else (libzmq's mailboxes and epoll, the signalfd, the lock
// and database files, the listeners) is open before the first count. The
// listen queues come on top: a tcp listener keeps its queue of completed
// connections when it stops taking new ones, and libzmq accepts them all.

#include "conductor/descriptor_budget.h"

#include <algorithm>

namespace orchestra::conductor {

namespace {

constexpr int64_t kMinimumReserve = 64;
constexpr int64_t kReserveShare = 16;  // a sixteenth of the limit
constexpr int64_t kBacklogShare = 8;   // a listen queue: an eighth at most

}  // namespace

int64_t DescriptorBudget::reserve() const {
  return std::max(kMinimumReserve, limit_ / kReserveShare);
}

int DescriptorBudget::Backlog(int preferred) const {
  return static_cast<int>(std::max<int64_t>(
      1, std::min<int64_t>(preferred, limit_ / kBacklogShare)));
}

DescriptorBudget::Change DescriptorBudget::Accepted(int fd) {
  open_ = std::max(open_ + 1, int64_t{fd} + 1);
  peak_ = std::max(peak_, open_);
  return Check();
}

void DescriptorBudget::Closed() { open_ = std::max<int64_t>(0, open_ - 1); }

DescriptorBudget::Change DescriptorBudget::Counted(int64_t open) {
  open_ = open;
  peak_ = std::max(peak_, open_);
  if (paused_ && open_ <= resume_at()) {
    paused_ = false;
    return Change::kResume;
  }
  return Check();
}

bool DescriptorBudget::WantsCount() const {
  return paused_ || open_ >= pause_at() / 2;
}

DescriptorBudget::Change DescriptorBudget::Check() {
  if (paused_ || open_ < pause_at()) return Change::kNone;
  paused_ = true;
  peak_ = open_;
  return Change::kPause;
}

}  // namespace orchestra::conductor
