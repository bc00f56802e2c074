// Why a reserve, and why this way (README, "Known issues"): in libzmq
// 4.3.4 an ipc accept that fails with EMFILE aborts the process
// (src/ipc_listener.cpp:325), and a tcp accept that fails with it leaves
// the listening socket readable, so the I/O thread retries it in a loop.
// Unauthenticated tcp connections cost a descriptor each until their
// handshake times out, so anyone who can reach the player port could use
// up the descriptors and have the next local request end the conductor.
//
// libzmq offers no way to stop one listener accepting but zmq_unbind(),
// which also ends every session accepted through it (the listener owns
// them): every connected player would be dropped. So the guard shuts the
// listener's door in the kernel instead (broker/listener_gate.h): new
// connections wait in their SYN back-off, established ones go on. It acts
// on the accept that crosses the pause mark (libzmq's ACCEPTED event names
// the new descriptor, and the kernel hands out the lowest free one, so
// that descriptor + 1 are open), and counts /proc/self/fd once a second
// while paused (or near the mark) to correct its estimate and to open the
// door again.

#include "conductor/descriptor_guard.h"

#include <sys/eventfd.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "broker/listener_gate.h"
#include "broker/poller.h"
#include "common/log.h"
#include "conductor/process_stats.h"

namespace orchestra::conductor {

using common::Result;
using common::Status;

namespace {

constexpr common::TimeMs kCountMs = 1000;
constexpr size_t kMaxReports = 256;  // unlogged; beyond, the oldest go

}  // namespace

DescriptorGuard::DescriptorGuard(broker::Context* context, int64_t limit,
                                 common::UniqueFd wake)
    : context_(context), wake_(std::move(wake)), budget_(limit) {}

Result<std::unique_ptr<DescriptorGuard>> DescriptorGuard::Create(
    broker::Context* context) {
  struct rlimit limit;
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0)
    return Status::FromErrno("RLIMIT_NOFILE", errno);
  const int64_t soft = limit.rlim_cur == RLIM_INFINITY
                           ? INT64_MAX / 2
                           : static_cast<int64_t>(limit.rlim_cur);
  if (soft < DescriptorBudget::kMinimumLimit)
    return Status::Unavailable(
        "RLIMIT_NOFILE",
        "the open file limit " + std::to_string(soft) + " is below " +
            std::to_string(DescriptorBudget::kMinimumLimit) +
            "; raise it (LimitNOFILE= in the unit, ulimit -n)");
  common::UniqueFd wake(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!wake.valid()) return Status::FromErrno("eventfd", errno);
  return std::unique_ptr<DescriptorGuard>(
      new DescriptorGuard(context, soft, std::move(wake)));
}

DescriptorGuard::~DescriptorGuard() {
  if (thread_.joinable()) {
    const uint64_t one = 1;
    if (::write(wake_.get(), &one, sizeof(one)) < 0) {
      // An eventfd write fails only at its maximum count: already woken.
    }
    thread_.join();
  }
  for (Watched& w : watched_) broker::SocketMonitor::Detach(w.endpoint);
}

Status DescriptorGuard::Watch(broker::Endpoint* endpoint,
                              const std::string& address, int backlog) {
  Result<std::unique_ptr<broker::SocketMonitor>> monitor =
      broker::SocketMonitor::Attach(context_, endpoint,
                                    broker::SocketMonitor::kDescriptorEvents);
  if (!monitor.ok()) return monitor.status();
  const bool tcp = address.rfind("tcp://", 0) == 0;
  if (tcp) budget_.AddListener(backlog);
  watched_.push_back({endpoint, std::move(monitor.value()), tcp});
  return Status();
}

Status DescriptorGuard::Start() {
  const int64_t open = CountOpenDescriptors();
  if (open < 0) return Status::FromErrno("/proc/self/fd", errno);
  (void)budget_.Counted(open);
  common::LogInfo(
      "descriptor reserve limit=%lld reserve=%lld pause_at=%lld "
      "resume_at=%lld open=%lld",
      static_cast<long long>(budget_.limit()),
      static_cast<long long>(budget_.reserve()),
      static_cast<long long>(budget_.pause_at()),
      static_cast<long long>(budget_.resume_at()),
      static_cast<long long>(open));
  if (budget_.resume_at() <= open)
    common::LogWarning(
        "descriptor limit leaves no room for peers limit=%lld open=%lld",
        static_cast<long long>(budget_.limit()), static_cast<long long>(open));
  thread_ = std::thread([this] { Run(); });
  return Status();
}

void DescriptorGuard::Run() {
  common::SystemClock clock;
  common::TimeMs next_count = clock.Monotonic() + kCountMs;
  broker::Poller poller;
  for (;;) {
    poller.Clear();
    const size_t wake = poller.AddFd(wake_.get());
    for (Watched& w : watched_) poller.AddSocket(w.monitor->handle());
    Status s = poller.Wait(
        std::max<common::TimeMs>(0, next_count - clock.Monotonic()));
    if (!s.ok()) {  // Only at shutdown (ETERM); not worth a retry loop
      Report({DescriptorReport::Kind::kFailed, 0, 0, s.ToString()});
      return;
    }
    if (poller.IsReady(wake)) return;
    for (Watched& w : watched_) ReadEvents(&w);
    const common::TimeMs now = clock.Monotonic();
    if (now < next_count) continue;
    next_count = now + kCountMs;
    if (!budget_.WantsCount()) continue;
    const int64_t open = CountOpenDescriptors();
    if (open >= 0) Apply(budget_.Counted(open));
  }
}

void DescriptorGuard::ReadEvents(Watched* watched) {
  int event = 0, value = 0;
  while (watched->monitor->TryRead(&event, &value)) {
    if (broker::SocketMonitor::IsAccepted(event)) {
      Apply(budget_.Accepted(value));
    } else if (broker::SocketMonitor::IsDisconnected(event)) {
      budget_.Closed();
    } else if (broker::SocketMonitor::IsAcceptFailed(event)) {
      Report(
          {DescriptorReport::Kind::kAcceptFailed, 0, 0, std::strerror(value)});
    } else if (broker::SocketMonitor::IsListening(event) && watched->tcp) {
      listeners_.push_back(value);
      if (budget_.paused()) Apply(DescriptorBudget::Change::kPause);
    }
  }
}

void DescriptorGuard::Apply(DescriptorBudget::Change change) {
  if (change == DescriptorBudget::Change::kNone) return;
  const bool pause = change == DescriptorBudget::Change::kPause;
  for (int fd : listeners_) {
    Status s = pause ? broker::ShutListener(fd) : broker::OpenListener(fd);
    if (!s.ok()) Report({DescriptorReport::Kind::kFailed, 0, 0, s.ToString()});
  }
  Report({pause ? DescriptorReport::Kind::kPaused
                : DescriptorReport::Kind::kResumed,
          budget_.open(), budget_.peak(), ""});
}

void DescriptorGuard::Report(DescriptorReport report) {
  std::lock_guard<std::mutex> lock(mu_);
  if (reports_.size() >= kMaxReports) reports_.erase(reports_.begin());
  reports_.push_back(std::move(report));
}

std::vector<DescriptorReport> DescriptorGuard::TakeReports() {
  std::lock_guard<std::mutex> lock(mu_);
  return std::exchange(reports_, {});
}

void DescriptorGuard::LogReports(common::TimeMs now) {
  for (const DescriptorReport& report : TakeReports()) Log(report, now);
}

void DescriptorGuard::Log(const DescriptorReport& report, common::TimeMs now) {
  const long long limit = budget_.limit();
  const long long open = report.open;
  switch (report.kind) {
    case DescriptorReport::Kind::kPaused:
      pause_logged_ = pause_log_.Allow(now);
      if (pause_logged_)
        common::LogWarning(
            "descriptor limit near: not accepting connections open=%lld "
            "limit=%lld suppressed=%lld",
            open, limit, static_cast<long long>(pause_log_.TakeSuppressed()));
      break;
    case DescriptorReport::Kind::kResumed:
      if (pause_logged_)
        common::LogInfo(
            "accepting connections again open=%lld limit=%lld peak=%lld", open,
            limit, static_cast<long long>(report.peak));
      pause_logged_ = false;
      break;
    case DescriptorReport::Kind::kAcceptFailed:
    case DescriptorReport::Kind::kFailed:
      if (failure_log_.Allow(now))
        common::LogWarning("%s error=%s",
                           report.kind == DescriptorReport::Kind::kAcceptFailed
                               ? "accept failed"
                               : "descriptor guard failed",
                           common::LogQuote(report.error).c_str());
      break;
  }
}

}  // namespace orchestra::conductor
