// The cgroup v2 interface files used, all relative to a task's directory:
// cgroup.kill (kernel >= 5.14; else SIGKILL to each pid of cgroup.procs
// until it is empty, no freezer), cgroup.events ("populated 0" once the
// last process has exited, which rmdir needs; a change wakes poll() with
// POLLPRI), cpu.stat (usage_usec, in every cgroup), memory.peak and
// memory.events (oom_kill) where the memory controller is on, memory.max
// and pids.max for the limits. A controller can be enabled for the task
// cgroups only if the base offers it (its cgroup.controllers) and the base
// holds no process itself (cgroup v2's no-internal-process rule), which is
// why the player lives in `player` beside the tasks.
//
// Removal never blocks the loop: rmdir fails with EBUSY while the killed
// processes are still exiting, so it is retried every kRetryMs, at most
// kMaxAttempts times; what is still there then is cleaned at the next
// start (CleanLeftovers). Files are written with O_CREAT so that a test's
// plain directory takes them; on the cgroup filesystem they exist or the
// write fails.

#include "player/task_cgroups.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <sstream>

#include "common/log.h"
#include "common/text.h"

namespace orchestra::player {

using broker::TaskId;
using common::Result;
using common::Status;
using common::TimeMs;
using common::UniqueFd;

namespace {

constexpr TimeMs kRetryMs = 20;
constexpr int kMaxAttempts = 500;  // 10 s of retries
constexpr int kKillRounds = 100;   // Sweeps of cgroup.procs without cgroup.kill
constexpr TimeMs kFinalWaitMs = 1000;
constexpr const char* kPlayerChild = "player";

std::string TaskName(TaskId task) { return "task-" + std::to_string(task); }

// The content of `name` in directory `dir_fd`, or nullopt.
std::optional<std::string> ReadAt(int dir_fd, const char* name) {
  UniqueFd fd(::openat(dir_fd, name, O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return std::nullopt;
  std::string text;
  char buffer[4096];
  for (;;) {
    ssize_t n = ::read(fd.get(), buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return std::nullopt;
    if (n == 0) return text;
    text.append(buffer, static_cast<size_t>(n));
  }
}

// Writes `text` into `name` in `dir_fd`; 0 or the errno.
int WriteAt(int dir_fd, const char* name, const std::string& text) {
  UniqueFd fd(::openat(dir_fd, name, O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
  if (!fd.valid()) return errno;
  ssize_t n = ::write(fd.get(), text.data(), text.size());
  if (n < 0) return errno;
  return n == static_cast<ssize_t>(text.size()) ? 0 : EIO;
}

// The number after `key` on its line of a flat-keyed file ("key value").
std::optional<int64_t> KeyedValue(const std::string& text,
                                  const std::string& key) {
  std::istringstream in(text);
  std::string name;
  long long value;
  while (in >> name >> value)
    if (name == key) return value;
  return std::nullopt;
}

bool HasWord(const std::string& list, const std::string& word) {
  std::istringstream in(list);
  for (std::string w; in >> w;)
    if (w == word) return true;
  return false;
}

// Waits at most `wait_ms` for cgroup `dir_fd` to hold no process. True
// when empty (or when there is no cgroup.events to tell).
bool WaitEmpty(int dir_fd, TimeMs wait_ms) {
  UniqueFd events(::openat(dir_fd, "cgroup.events", O_RDONLY | O_CLOEXEC));
  if (!events.valid()) return true;
  const auto give_up =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(wait_ms);
  for (;;) {
    char buffer[256];
    ssize_t n = ::pread(events.get(), buffer, sizeof(buffer) - 1, 0);
    if (n <= 0) return true;
    if (KeyedValue(std::string(buffer, n), "populated").value_or(0) == 0)
      return true;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        give_up - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    struct pollfd item = {events.get(), POLLPRI, 0};
    ::poll(&item, 1, static_cast<int>(left.count()));
  }
}

// Kills every process in cgroup `dir_fd`.
void KillAll(int dir_fd) {
  if (WriteAt(dir_fd, "cgroup.kill", "1") == 0) return;
  for (int round = 0; round < kKillRounds; ++round) {
    std::optional<std::string> procs = ReadAt(dir_fd, "cgroup.procs");
    if (!procs || procs->empty()) return;
    std::istringstream in(*procs);
    for (pid_t pid; in >> pid;) ::kill(pid, SIGKILL);
  }
}

// "0::/PATH" of /proc/self/cgroup: the player's cgroup v2, or "".
std::string OwnCgroup(const std::string& proc) {
  std::optional<std::string> text;
  UniqueFd dir(::open(proc.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir.valid()) text = ReadAt(dir.get(), "self/cgroup");
  std::istringstream in(text.value_or(""));
  for (std::string line; std::getline(in, line);)
    if (line.rfind("0::", 0) == 0) return line.substr(3);
  return "";
}

// Where the cgroup2 filesystem is mounted (mountinfo), or "".
std::string Cgroup2Mount(const std::string& proc) {
  UniqueFd dir(::open(proc.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  std::optional<std::string> text;
  if (dir.valid()) text = ReadAt(dir.get(), "self/mountinfo");
  std::istringstream in(text.value_or(""));
  for (std::string line; std::getline(in, line);) {
    const size_t dash = line.find(" - ");
    if (dash == std::string::npos) continue;
    std::istringstream after(line.substr(dash + 3));
    std::string type;
    after >> type;
    if (type != "cgroup2") continue;
    std::istringstream fields(line.substr(0, dash));
    std::string id, parent, device, root, mount;
    fields >> id >> parent >> device >> root >> mount;
    return mount;
  }
  return "";
}

// `cgroup = auto`: the player's own cgroup v2 if it is delegated.
std::string AutoBase(const std::string& proc, std::string* why_not) {
  const std::string own = OwnCgroup(proc);
  const std::string mount = Cgroup2Mount(proc);
  if (own.empty() || mount.empty()) {
    *why_not = "no cgroup v2 hierarchy (" + proc + "/self/cgroup, " + proc +
               "/self/mountinfo)";
    return "";
  }
  if (own == "/") {
    *why_not =
        "the player is in the root cgroup v2, which is not delegated to it "
        "(run it under systemd with Delegate=yes, or set cgroup = PATH)";
    return "";
  }
  const std::string base = mount + own;
  const std::string player = base + "/" + kPlayerChild;
  if (::mkdir(player.c_str(), 0755) != 0 && errno != EEXIST) {
    *why_not = "cannot create a cgroup in " + base + ": " +
               std::strerror(errno) + " (not delegated: Delegate=yes)";
    return "";
  }
  return base;
}

// `cgroup = PATH`: created if missing; must be on the cgroup2 filesystem.
Result<std::string> ExplicitBase(const std::string& path) {
  if (::mkdir(path.c_str(), 0755) != 0 && errno != EEXIST)
    return Status::FromErrno("cgroup " + path, errno);
  struct statfs fs;
  if (::statfs(path.c_str(), &fs) != 0)
    return Status::FromErrno("cgroup " + path, errno);
  if (fs.f_type != CGROUP2_SUPER_MAGIC)
    return Status::InvalidArgument("cgroup " + path,
                                   "not in a cgroup v2 hierarchy");
  return path;
}

}  // namespace

Result<std::string> FindCgroupBase(const std::string& setting,
                                   const std::string& proc,
                                   std::string* why_not) {
  if (setting == "off") {
    *why_not = "cgroup = off in player.conf";
    return std::string();
  }
  if (setting == "auto") return AutoBase(proc, why_not);
  return ExplicitBase(setting);
}

Result<std::unique_ptr<TaskCgroups>> TaskCgroups::Open(
    const std::string& base) {
  UniqueFd fd(::open(base.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) return Status::FromErrno("cgroup " + base, errno);
  std::optional<std::string> offered = ReadAt(fd.get(), "cgroup.controllers");
  if (!offered)
    return Status::InvalidArgument("cgroup " + base,
                                   "has no cgroup.controllers: not a cgroup");
  return std::unique_ptr<TaskCgroups>(
      new TaskCgroups(base, std::move(fd), *offered));
}

TaskCgroups::TaskCgroups(std::string base, UniqueFd base_fd,
                         std::string offered)
    : base_(std::move(base)),
      base_fd_(std::move(base_fd)),
      offered_(std::move(offered)) {
  for (auto [name, problem] :
       {std::pair{"memory", &memory_problem_}, {"pids", &pids_problem_}}) {
    *problem = HasWord(offered_, name)
                   ? std::string("the controller is not enabled yet")
                   : "the " + std::string(name) +
                         " controller is not available in " + base_ +
                         " (not in its cgroup.controllers)";
  }
}

TaskCgroups::~TaskCgroups() {
  for (const auto& [task, removal] : removals_) {
    UniqueFd dir(::openat(base_fd_.get(), TaskName(task).c_str(),
                          O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (dir.valid()) KillAll(dir.get());
    if (dir.valid()) WaitEmpty(dir.get(), kFinalWaitMs);
    if (!TryRemove(TaskName(task)))
      common::LogWarning("task cgroup not removed task=%lld dir=%s",
                         static_cast<long long>(task), TaskPath(task).c_str());
  }
}

Status TaskCgroups::AdoptPlayer(pid_t pid) {
  if (::mkdirat(base_fd_.get(), kPlayerChild, 0755) != 0 && errno != EEXIST)
    return Status::FromErrno("cgroup " + base_ + "/" + kPlayerChild, errno);
  UniqueFd dir(::openat(base_fd_.get(), kPlayerChild,
                        O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  int error = dir.valid()
                  ? WriteAt(dir.get(), "cgroup.procs", std::to_string(pid))
                  : errno;
  if (error != 0)
    return Status::FromErrno(
        "cgroup " + base_ + "/" + kPlayerChild + "/cgroup.procs", error);
  return Status();
}

void TaskCgroups::EnableControllers() {
  std::string wanted;
  for (auto [name, problem] :
       {std::pair{"memory", &memory_problem_}, {"pids", &pids_problem_}}) {
    if (HasWord(offered_, name))
      wanted += std::string(wanted.empty() ? "+" : " +") + name;
  }
  int error = wanted.empty()
                  ? 0
                  : WriteAt(base_fd_.get(), "cgroup.subtree_control", wanted);
  for (auto [name, problem] :
       {std::pair{"memory", &memory_problem_}, {"pids", &pids_problem_}}) {
    if (!HasWord(offered_, name)) continue;
    *problem =
        error == 0
            ? ""
            : "enabling it in " + base_ +
                  "/cgroup.subtree_control failed: " + std::strerror(error);
  }
  for (auto [name, problem] :
       {std::pair{"memory", &memory_problem_}, {"pids", &pids_problem_}}) {
    if (!problem->empty())
      common::LogInfo("cgroup controller off controller=%s reason=%s", name,
                      common::LogQuote(*problem).c_str());
  }
}

Result<UniqueFd> TaskCgroups::Create(TaskId task, const std::string& score,
                                     const CgroupLimits& limits) {
  const std::string name = TaskName(task);
  removals_.erase(task);
  if (::mkdirat(base_fd_.get(), name.c_str(), 0755) != 0) {
    if (errno != EEXIST) return Status::FromErrno("cgroup " + name, errno);
    common::LogWarning("task cgroup already there, emptied task=%lld",
                       static_cast<long long>(task));
    Kill(task);
  }
  UniqueFd dir(::openat(base_fd_.get(), name.c_str(),
                        O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir.valid()) return Status::FromErrno("cgroup " + name, errno);
  ApplyLimits(dir.get(), score, limits);
  return dir;
}

void TaskCgroups::ApplyLimits(int dir_fd, const std::string& score,
                              const CgroupLimits& limits) {
  if (limits.memory_max) {
    if (!memory_on())
      LogUnapplied(score, "memory max", memory_problem_);
    else if (int e = WriteAt(dir_fd, "memory.max",
                             std::to_string(*limits.memory_max)))
      LogUnapplied(score, "memory max", std::strerror(e));
  }
  if (limits.tasks_max) {
    if (!pids_on())
      LogUnapplied(score, "tasks max", pids_problem_);
    else if (int e =
                 WriteAt(dir_fd, "pids.max", std::to_string(*limits.tasks_max)))
      LogUnapplied(score, "tasks max", std::strerror(e));
  }
}

void TaskCgroups::LogUnapplied(const std::string& score, const char* key,
                               const std::string& why) {
  if (!logged_.insert(score + " " + key).second) return;
  common::LogWarning("score limit not applied score=%s key=\"%s\" reason=%s",
                     score.c_str(), key, common::LogQuote(why).c_str());
}

void TaskCgroups::Kill(TaskId task) {
  UniqueFd dir(::openat(base_fd_.get(), TaskName(task).c_str(),
                        O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir.valid()) KillAll(dir.get());
}

TaskCost TaskCgroups::Cost(TaskId task) const {
  TaskCost cost;
  UniqueFd dir(::openat(base_fd_.get(), TaskName(task).c_str(),
                        O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir.valid()) return cost;
  if (std::optional<std::string> stat = ReadAt(dir.get(), "cpu.stat"))
    cost.cpu_us = KeyedValue(*stat, "usage_usec");
  if (!memory_on()) return cost;
  if (std::optional<std::string> peak = ReadAt(dir.get(), "memory.peak")) {
    int64_t bytes = 0;
    if (common::ParseInt64(common::Trim(*peak), 0, INT64_MAX, &bytes))
      cost.memory_peak_bytes = bytes;
  }
  if (std::optional<std::string> events = ReadAt(dir.get(), "memory.events"))
    cost.out_of_memory = KeyedValue(*events, "oom_kill").value_or(0) > 0;
  return cost;
}

void TaskCgroups::Remove(TaskId task, TimeMs now) {
  if (TryRemove(TaskName(task))) return;
  removals_[task] = Removal{1, now + kRetryMs};
}

void TaskCgroups::RetryRemovals(TimeMs now) {
  for (auto it = removals_.begin(); it != removals_.end();) {
    Removal& r = it->second;
    if (now < r.next_at) {
      ++it;
      continue;
    }
    Kill(it->first);
    if (TryRemove(TaskName(it->first))) {
      it = removals_.erase(it);
    } else if (++r.attempts >= kMaxAttempts) {
      common::LogWarning(
          "task cgroup still busy, left for the next start task=%lld",
          static_cast<long long>(it->first));
      it = removals_.erase(it);
    } else {
      r.next_at = now + kRetryMs;
      ++it;
    }
  }
}

TimeMs TaskCgroups::NextRetry() const {
  TimeMs next = 0;
  for (const auto& [task, r] : removals_)
    if (next == 0 || r.next_at < next) next = r.next_at;
  return next;
}

// True when gone; false while busy. Any other failure is logged and given
// up on (the next start cleans it).
bool TaskCgroups::TryRemove(const std::string& name) {
  if (::unlinkat(base_fd_.get(), name.c_str(), AT_REMOVEDIR) == 0 ||
      errno == ENOENT)
    return true;
  if (errno == EBUSY) return false;
  common::LogWarning("task cgroup not removed dir=%s/%s error=%s",
                     base_.c_str(), name.c_str(), std::strerror(errno));
  return true;
}

size_t TaskCgroups::CleanLeftovers(const std::set<TaskId>& started,
                                   TimeMs wait_ms) {
  std::vector<std::string> names;
  if (DIR* dir = ::opendir(base_.c_str())) {
    while (struct dirent* entry = ::readdir(dir))
      if (std::strncmp(entry->d_name, "task-", 5) == 0)
        names.push_back(entry->d_name);
    ::closedir(dir);
  }
  size_t removed = 0;
  for (const std::string& name : names) {
    int64_t id = 0;
    const bool ours = common::ParseInt64(name.substr(5), 1, INT64_MAX, &id) &&
                      started.count(static_cast<TaskId>(id)) > 0;
    UniqueFd dir(::openat(base_fd_.get(), name.c_str(),
                          O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dir.valid()) continue;
    KillAll(dir.get());
    WaitEmpty(dir.get(), wait_ms);
    const bool gone = TryRemove(name) &&
                      ::faccessat(base_fd_.get(), name.c_str(), F_OK, 0) != 0;
    if (gone) ++removed;
    if (ours)
      common::LogInfo("task cgroup of a lost task cleaned dir=%s/%s",
                      base_.c_str(), name.c_str());
    else
      common::LogWarning(
          "leftover task cgroup cleaned dir=%s/%s reason=\"not in the "
          "journal\"",
          base_.c_str(), name.c_str());
  }
  return removed;
}

std::string TaskCgroups::TaskPath(TaskId task) const {
  return base_ + "/" + TaskName(task);
}

}  // namespace orchestra::player
