// WaitList holds the audience's pending `wait` requests: who waits for
// which job, until when, and whether it wants progress. It bounds them
// (DESIGN.md section 6: at most kMaxWaitsPerSubmitter per submitter and
// kMaxWaits in all) and indexes them by job and by deadline, so that a
// tick costs what expires, not what waits. Pure data; owned by
// AudienceChannel on the conductor's loop thread.
//
// The bound is per submitter (an audience key, or a local user), which is
// stricter than DESIGN.md's per connection: a client opening connection
// after connection could otherwise take the whole list and leave everyone
// else `busy`.

#ifndef ORCHESTRA_CONDUCTOR_WAIT_LIST_H_
#define ORCHESTRA_CONDUCTOR_WAIT_LIST_H_

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "broker/audience_protocol.h"
#include "common/clock.h"

namespace orchestra::conductor {

constexpr size_t kMaxWaitsPerSubmitter = 10000;
constexpr size_t kMaxWaits = 100000;

// Where a reply goes, and who asked.
struct Caller {
  size_t endpoint = 0;
  std::string peer;  // routing id
  bool request_style = false;
  broker::RequestId req;
  std::string key_name;   // the Curve client's audience key; "" on ipc
  std::string key;        // its public key; "" on ipc
  int64_t epoch = -1;     // the trust epoch that admitted the connection
  int fd = -1;            // the connection's socket, to see it backed up
  std::string submitter;  // "key:NAME" or "uid:UID": whose request it is
  int op = -1;  // the request's broker::AudienceOp index; -1: not understood
};

struct Waiter {
  broker::JobId job = 0;
  Caller caller;
  common::TimeMs deadline = 0;  // monotonic; 0 = none
  bool progress = false;
};

class WaitList {
 public:
  enum class Added { kYes, kSubmitterFull, kFull };

  // Adds `waiter` unless its submitter's share or the whole list is full.
  Added Add(Waiter waiter);

  // Removes and returns the waiters of `job`.
  std::vector<Waiter> TakeJob(broker::JobId job);
  // Removes and returns the waiters whose deadline is at or before `now`.
  std::vector<Waiter> TakeExpired(common::TimeMs now);
  // Removes and returns every waiter for which `drop` is true.
  std::vector<Waiter> TakeIf(const std::function<bool(const Waiter&)>& drop);

  // Jobs that some waiter wants progress of.
  std::vector<broker::JobId> ProgressJobs() const;
  // Calls `fn` for each waiter of `job` that wants progress.
  void ForEachProgress(broker::JobId job,
                       const std::function<void(const Waiter&)>& fn) const;

  size_t size() const { return waiters_.size(); }
  size_t CountOf(const std::string& submitter) const;

 private:
  using Id = uint64_t;
  // Removes waiter `id` from every index and returns it.
  Waiter Remove(Id id);

  Id next_id_ = 1;
  std::map<Id, Waiter> waiters_;
  std::set<std::pair<broker::JobId, Id>> by_job_;
  std::set<std::pair<common::TimeMs, Id>> by_deadline_;
  std::map<broker::JobId, size_t> progress_;  // job -> progress waiters
  std::unordered_map<std::string, size_t> per_submitter_;
};

}  // namespace orchestra::conductor

#endif  // ORCHESTRA_CONDUCTOR_WAIT_LIST_H_
