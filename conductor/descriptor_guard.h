// DescriptorGuard keeps descriptors in reserve (DescriptorBudget, DESIGN.md
// section 6): a thread of its own reads the accept and close events of the
// conductor's ROUTER sockets and, once the open descriptors near the limit,
// shuts the tcp listeners (broker/listener_gate.h) until a count of
// /proc/self/fd shows them fallen again. Its own thread, because it must
// act within a few of libzmq's accepts, not after a turn of the loop. The
// loop thread creates it, watches its sockets before they bind, starts it,
// logs its reports each turn, and destroys it before the sockets.

#ifndef ORCHESTRA_CONDUCTOR_DESCRIPTOR_GUARD_H_
#define ORCHESTRA_CONDUCTOR_DESCRIPTOR_GUARD_H_

#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "broker/context.h"
#include "broker/endpoint.h"
#include "broker/socket_monitor.h"
#include "common/clock.h"
#include "common/rate_limit.h"
#include "common/result.h"
#include "common/status.h"
#include "common/unique_fd.h"
#include "conductor/descriptor_budget.h"

namespace orchestra::conductor {

// What the guard's thread did or met, for the loop thread to log.
struct DescriptorReport {
  enum class Kind { kPaused, kResumed, kAcceptFailed, kFailed };
  Kind kind = Kind::kFailed;
  int64_t open = 0;   // descriptors open: kPaused, kResumed
  int64_t peak = 0;   // the most open while paused: kResumed
  std::string error;  // kAcceptFailed, kFailed
};

class DescriptorGuard {
 public:
  // A guard for this process's RLIMIT_NOFILE. Unavailable, with the fix,
  // when that is below DescriptorBudget::kMinimumLimit.
  static common::Result<std::unique_ptr<DescriptorGuard>> Create(
      broker::Context* context);
  // Stops the thread and the monitors; the watched sockets must still be
  // open.
  ~DescriptorGuard();
  DescriptorGuard(const DescriptorGuard&) = delete;
  DescriptorGuard& operator=(const DescriptorGuard&) = delete;

  // The listen backlog for a tcp listener that would like `preferred`.
  int Backlog(int preferred) const { return budget_.Backlog(preferred); }
  // Watches `endpoint`, which is about to bind `address` (with `backlog`,
  // when tcp). REQUIRES: before Start(), on the thread owning `endpoint`.
  common::Status Watch(broker::Endpoint* endpoint, const std::string& address,
                       int backlog);
  // Counts the open descriptors, logs the budget and starts the thread.
  common::Status Start();
  // Logs what the thread reported since the last call, at a bounded rate.
  // Called by the loop thread.
  void LogReports(common::TimeMs now);

 private:
  struct Watched {
    broker::Endpoint* endpoint;
    std::unique_ptr<broker::SocketMonitor> monitor;
    bool tcp;
  };

  DescriptorGuard(broker::Context* context, int64_t limit,
                  common::UniqueFd wake);
  void Run();
  void ReadEvents(Watched* watched);
  void Apply(DescriptorBudget::Change change);
  void Report(DescriptorReport report);
  std::vector<DescriptorReport> TakeReports();
  void Log(const DescriptorReport& report, common::TimeMs now);

  broker::Context* context_;
  common::UniqueFd wake_;  // eventfd: written to stop the thread
  std::vector<Watched> watched_;
  // The thread's alone once started:
  DescriptorBudget budget_;
  std::vector<int> listeners_;  // tcp listening sockets, from libzmq
  std::thread thread_;
  std::mutex mu_;  // guards reports_
  std::vector<DescriptorReport> reports_;
  // The loop thread's:
  common::RateLimit pause_log_{10, 60000};  // lines a minute
  common::RateLimit failure_log_{10, 60000};
  bool pause_logged_ = false;  // the resume of a logged pause is logged
};

}  // namespace orchestra::conductor

#endif  // ORCHESTRA_CONDUCTOR_DESCRIPTOR_GUARD_H_
