// A task ends when its main process has been reaped and both pipes reached
// EOF, so a pipe-interface score's last lines are never lost. Once the main
// process exits its process group is killed; a descendant that escaped the
// group may still hold a pipe open, so EOF is awaited for at most the kill
// grace. How it ended becomes its state by the rule of player/task_end.h.
//
// With cgroups (DESIGN.md section 16) the task's cgroup is created before
// the spawn and the score starts inside it (ChildProcess). When the main
// process is reaped, and when the kill grace runs out, cgroup.kill ends
// everything the score started, escaped from its process group or not, so
// pipe EOF follows at once. The result carries the cgroup's cost; the
// cgroup is then removed, or retried on later Collect()s while its killed
// processes are still exiting.

#include "player/posix_process_runner.h"

#include <signal.h>
#include <sys/epoll.h>

#include <cerrno>
#include <cstring>

#include "common/log.h"
#include "player/task_end.h"

namespace orchestra::player {

using broker::TaskId;
using broker::TaskResult;
using broker::TaskState;
using common::Result;
using common::Status;
using common::TimeMs;

namespace {

constexpr int kMaxEvents = 64;

TimeMs Earliest(TimeMs a, TimeMs b) {
  if (a == 0) return b;
  if (b == 0) return a;
  return a < b ? a : b;
}

}  // namespace

Result<std::unique_ptr<PosixProcessRunner>> PosixProcessRunner::Create(
    const RunnerOptions& options) {
  common::UniqueFd epoll(::epoll_create1(EPOLL_CLOEXEC));
  if (!epoll.valid()) return Status::FromErrno("epoll_create1", errno);
  return std::unique_ptr<PosixProcessRunner>(
      new PosixProcessRunner(options, std::move(epoll)));
}

PosixProcessRunner::PosixProcessRunner(const RunnerOptions& options,
                                       common::UniqueFd epoll)
    : options_(options),
      clock_(options.clock ? options.clock : &system_clock_),
      epoll_(std::move(epoll)) {}

PosixProcessRunner::~PosixProcessRunner() {
  for (auto& [task, r] : running_) {
    KillCgroup(task);
    r.child.reset();  // Kills the process group, reaps
    if (options_.cgroups) options_.cgroups->Remove(task, clock_->Monotonic());
  }
}

Status PosixProcessRunner::Start(const ScoreRun& run) {
  if (running_.count(run.task))
    return Status::Conflict("task " + std::to_string(run.task),
                            "is already running");
  common::UniqueFd cgroup;
  if (options_.cgroups) {
    Result<common::UniqueFd> created =
        options_.cgroups->Create(run.task, run.score, run.limits);
    if (!created.ok()) return created.status();
    cgroup = std::move(created.value());
  }
  Result<std::unique_ptr<ChildProcess>> child =
      ChildProcess::Spawn(run, options_.output_limit, cgroup.get());
  if (!child.ok() && options_.cgroups)
    options_.cgroups->Remove(run.task, clock_->Monotonic());
  if (!child.ok()) return child.status();
  Running r;
  r.run = run;
  r.child = std::move(child.value());
  r.started_at = clock_->Now();
  if (run.timeout_ms > 0) r.limit_at = clock_->Monotonic() + run.timeout_ms;
  // Closing a descriptor drops it from the epoll set: none is duplicated.
  Watch(r.child->pid_fd(), run.task);
  Watch(r.child->stdout_fd(), run.task);
  Watch(r.child->stderr_fd(), run.task);
  common::LogDebug("score spawned task=%lld pid=%d",
                   static_cast<long long>(run.task), r.child->pid());
  running_.emplace(run.task, std::move(r));
  return Status();
}

void PosixProcessRunner::Watch(int fd, TaskId task) {
  struct epoll_event event = {};
  event.events = EPOLLIN;
  event.data.fd = fd;
  if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &event) != 0)
    common::LogError("epoll_ctl failed task=%lld error=%s",
                     static_cast<long long>(task), std::strerror(errno));
  fd_owner_[fd] = task;
}

void PosixProcessRunner::Stop(TaskId task, TaskState outcome) {
  auto it = running_.find(task);
  if (it == running_.end() || it->second.child->reaped()) return;
  Terminate(&it->second, outcome, clock_->Monotonic());
}

void PosixProcessRunner::Terminate(Running* r, TaskState outcome, TimeMs now) {
  if (r->stopped_as) return;  // Already on its way out
  r->stopped_as = outcome;
  r->child->SignalGroup(SIGTERM);
  r->kill_at = now + options_.kill_grace_ms;
}

void PosixProcessRunner::KillCgroup(TaskId task) {
  if (options_.cgroups) options_.cgroups->Kill(task);
}

TimeMs PosixProcessRunner::NextDeadline() const {
  TimeMs next = options_.cgroups ? options_.cgroups->NextRetry() : 0;
  for (const auto& [task, r] : running_) {
    if (!r.child->reaped()) {
      if (!r.stopped_as) next = Earliest(next, r.limit_at);
      next = Earliest(next, r.kill_at);
    } else if (!r.child->pipes_closed()) {
      next = Earliest(next, r.eof_by);
    }
  }
  return next;
}

std::vector<TaskResult> PosixProcessRunner::Collect() {
  TimeMs now = clock_->Monotonic();
  HandleEvents(now);
  if (options_.cgroups) options_.cgroups->RetryRemovals(now);
  std::vector<TaskResult> done;
  for (auto it = running_.begin(); it != running_.end();) {
    EnforceDeadlines(&it->second, now);
    const ChildProcess& child = *it->second.child;
    if (!child.reaped() || !child.pipes_closed()) {
      ++it;
      continue;
    }
    done.push_back(MakeResult(it->second));
    if (options_.cgroups) options_.cgroups->Remove(it->first, now);
    it = running_.erase(it);
  }
  return done;
}

void PosixProcessRunner::HandleEvents(TimeMs now) {
  struct epoll_event events[kMaxEvents];
  int n = ::epoll_wait(epoll_.get(), events, kMaxEvents, 0);
  for (int i = 0; i < n; ++i) {
    const int fd = events[i].data.fd;
    auto owner = fd_owner_.find(fd);
    if (owner == fd_owner_.end()) continue;
    auto it = running_.find(owner->second);
    if (it == running_.end()) continue;
    ChildProcess* child = it->second.child.get();
    if (fd == child->pid_fd()) {
      child->Reap();
      if (child->reaped()) it->second.eof_by = now + options_.kill_grace_ms;
      if (child->reaped()) KillCgroup(it->first);
    } else {
      child->ReadFrom(fd);
    }
    if (fd != child->pid_fd() && fd != child->stdout_fd() &&
        fd != child->stderr_fd())
      fd_owner_.erase(owner);  // Closed: no longer watched
  }
}

void PosixProcessRunner::EnforceDeadlines(Running* r, TimeMs now) {
  ChildProcess* child = r->child.get();
  const long long task = static_cast<long long>(r->run.task);
  if (!child->reaped() && !r->stopped_as && r->limit_at && now >= r->limit_at) {
    common::LogInfo("task timed out task=%lld score=%s limit_ms=%lld", task,
                    r->run.score.c_str(),
                    static_cast<long long>(r->run.timeout_ms));
    Terminate(r, TaskState::kTimeout, now);
  }
  if (!child->reaped() && r->kill_at && now >= r->kill_at) {
    common::LogWarning("task killed after grace task=%lld score=%s", task,
                       r->run.score.c_str());
    child->SignalGroup(SIGKILL);
    KillCgroup(r->run.task);
    r->kill_at = 0;
  }
  if (child->reaped() && !child->pipes_closed() && now >= r->eof_by) {
    common::LogWarning(
        "output still held open after exit task=%lld "
        "score=%s",
        task, r->run.score.c_str());
    for (int fd : {child->stdout_fd(), child->stderr_fd()}) fd_owner_.erase(fd);
    child->ClosePipes();
  }
}

TaskResult PosixProcessRunner::MakeResult(const Running& r) const {
  const ChildProcess& child = *r.child;
  TaskEnd end = TaskEnd::FromWaitStatus(child.wait_status(), r.stopped_as);
  TaskCost cost;
  if (options_.cgroups) cost = options_.cgroups->Cost(r.run.task);
  if (cost.out_of_memory) end.out_of_memory = r.run.limits.memory_max_text;
  TaskResult result = ResultFor(r.run.task, end);
  result.cpu_us = cost.cpu_us;
  result.memory_peak_bytes = cost.memory_peak_bytes;
  result.started_at = r.started_at;
  result.finished_at = clock_->Now();
  result.stdout_text = child.out().Tail(&result.stdout_truncated);
  result.stderr_text = child.err().Tail(&result.stderr_truncated);
  result.response = child.out().response();
  if (child.out().dropped_lines() > 0)
    common::LogWarning("response lines dropped task=%lld count=%zu",
                       static_cast<long long>(r.run.task),
                       child.out().dropped_lines());
  return result;
}

}  // namespace orchestra::player
