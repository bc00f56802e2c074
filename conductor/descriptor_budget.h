// DescriptorBudget decides, from the process's descriptor limit, when the
// conductor stops taking tcp connections and when it takes them again, so
// that descriptors stay in reserve for what must not fail (an ipc accept,
// the database, a reload). Pure logic: DescriptorGuard feeds it the accept
// and close events of the conductor's sockets and counts of its open
// descriptors, and acts on its answers. Not thread-safe.

#ifndef ORCHESTRA_CONDUCTOR_DESCRIPTOR_BUDGET_H_
#define ORCHESTRA_CONDUCTOR_DESCRIPTOR_BUDGET_H_

#include <cstdint>

namespace orchestra::conductor {

class DescriptorBudget {
 public:
  enum class Change { kNone, kPause, kResume };

  // Below this limit the conductor does not start: its reserve and the
  // listen queues would leave too few descriptors for peers.
  static constexpr int64_t kMinimumLimit = 256;

  // `limit` is RLIMIT_NOFILE (its soft value, which the kernel enforces).
  explicit DescriptorBudget(int64_t limit) : limit_(limit) {}

  // The listen backlog for a tcp listener that would like `preferred`: at
  // most an eighth of the limit, as a full queue is accepted even after
  // accepting stops.
  int Backlog(int preferred) const;
  // A tcp listener with `backlog` is bound: the kernel may complete up to
  // backlog + 1 connections that are accepted after accepting stops, so
  // the pause mark moves down by as many.
  void AddListener(int backlog) { queued_ += backlog + 1; }

  // A connection was accepted on descriptor `fd`: every lower descriptor
  // is in use (the kernel hands out the lowest free one). kPause when the
  // open descriptors reach pause_at().
  Change Accepted(int fd);
  // A connection's descriptor was closed.
  void Closed();
  // The open descriptors were counted: `open`. kResume when paused and
  // they fell to resume_at(); kPause when they reached pause_at().
  Change Counted(int64_t open);
  // True when a count is worth its cost: while paused, or once the open
  // descriptors may be past half the pause mark.
  bool WantsCount() const;

  int64_t limit() const { return limit_; }
  // Always free for what must not fail: max(64, limit / 16).
  int64_t reserve() const;
  // Accepting stops here, so that the listen queues, accepted after that,
  // still leave the reserve free.
  int64_t pause_at() const { return limit_ - reserve() - queued_; }
  // And starts again here.
  int64_t resume_at() const { return pause_at() - reserve(); }
  int64_t open() const { return open_; }  // the estimate
  // The most open since accepting last stopped: how far into the reserve
  // the accepts went before the listeners were shut.
  int64_t peak() const { return peak_; }
  bool paused() const { return paused_; }

 private:
  Change Check();

  const int64_t limit_;
  int64_t queued_ = 0;  // connections the listen queues may hold
  int64_t open_ = 0;    // last count, plus accepts, less closes since
  int64_t peak_ = 0;
  bool paused_ = false;
};

}  // namespace orchestra::conductor

#endif  // ORCHESTRA_CONDUCTOR_DESCRIPTOR_BUDGET_H_
