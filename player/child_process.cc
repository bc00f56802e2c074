// How a score starts. Usually posix_spawn: no shell, argv = {score name},
// an environment built from scratch, stdin /dev/null, stdout and stderr to
// pipes, umask 022, a new process group, default signal dispositions and an
// empty signal mask (the player blocks the signals it reads through a
// signalfd). A score with `user =` needs setgroups/setgid/setuid between
// fork and exec, which posix_spawn cannot do, so it is started with fork
// and a close-on-exec error pipe that carries a failed step's errno back
// to the player. A score that runs in a cgroup of its own (DESIGN.md
// section 16) takes the fork path too, through clone3 with
// CLONE_INTO_CGROUP: the child is in its cgroup from its first
// instruction, so nothing the score starts can be outside it (moving the
// pid after a posix_spawn would let a quick fork escape). Where clone3
// cannot do that (kernel < 5.7), the forked child writes itself into the
// cgroup's cgroup.procs before anything else.
//
// Either way the score runs through the descriptor its scan opened
// (ScoreFile), never by its name, so the file that was checked is the file
// that runs: after a fresh fstat, the child gets that descriptor as fd 3,
// every descriptor above 3 is closed, and it execs "/proc/self/fd/3". One
// exec form for both paths (posix_spawn cannot do execveat), so a score
// sees the same in both. fd 3 stays open across the exec because the
// kernel starts a script's interpreter with the path it was given: for a
// `#!` script $0 (and the interpreter's script argument) is
// "/proc/self/fd/3", which the interpreter opens; what it opens is the
// checked file even if the name was replaced since. So every score finds
// fd 3 open on itself, read-only; nothing else of the player's leaks.
// argv[0] is the score's name.

#include "player/child_process.h"

#include <fcntl.h>
#include <grp.h>
#include <linux/close_range.h>
#include <linux/sched.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/log.h"

namespace orchestra::player {

using common::Result;
using common::Status;
using common::UniqueFd;

namespace {

constexpr const char* kPath = "PATH=/usr/bin:/usr/sbin:/bin:/sbin";
constexpr int kScoreFd = 3;
constexpr const char* kScoreExecPath = "/proc/self/fd/3";
constexpr size_t kReadChunk = 65536;
constexpr int kReadsPerCall = 16;  // Then let other work run

struct Pipe {
  UniqueFd read;
  UniqueFd write;
};

Result<Pipe> MakePipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return Status::FromErrno("pipe", errno);
  Pipe pipe{UniqueFd(fds[0]), UniqueFd(fds[1])};
  if (::fcntl(pipe.read.get(), F_SETFL, O_NONBLOCK) != 0)
    return Status::FromErrno("pipe", errno);
  return pipe;
}

// The score's whole environment. The player's own ORC_ variables win over
// a parameter of the same name.
std::vector<std::string> BuildEnvironment(const ScoreRun& run) {
  std::vector<std::string> env = {
      kPath, "ORC_JOB_ID=" + std::to_string(run.job),
      "ORC_TASK_ID=" + std::to_string(run.task), "ORC_PLAYER=" + run.player};
  for (const auto& [key, value] : run.params) {
    if (key == "JOB_ID" || key == "TASK_ID" || key == "PLAYER") {
      common::LogWarning(
          "parameter shadows a player variable task=%lld "
          "key=%s",
          static_cast<long long>(run.task), key.c_str());
      continue;
    }
    env.push_back("ORC_" + key + "=" + value);
  }
  return env;
}

// A NULL-terminated char* array over strings that outlive it.
std::vector<char*> CStrings(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (std::string& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

// What a spawn needs, prepared before fork so the child only makes
// async-signal-safe calls.
struct Launch {
  std::string path;  // The score in the score directory, for messages
  int score_fd = -1;
  std::string dir;
  std::vector<std::string> argv_strings;
  std::vector<std::string> env_strings;
  std::vector<char*> argv;
  std::vector<char*> envp;
  int stdout_fd = -1;
  int stderr_fd = -1;
  bool change_user = false;
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;
  int cgroup_procs_fd = -1;  // Without clone3: the child joins through it
};

Status ResolveUser(const std::string& user, Launch* launch) {
  struct passwd pw;
  struct passwd* found = nullptr;
  std::vector<char> buffer(16384);
  int rc =
      ::getpwnam_r(user.c_str(), &pw, buffer.data(), buffer.size(), &found);
  if (found == nullptr)
    return Status::NotFound("user " + user,
                            rc ? std::strerror(rc) : "no such user");
  launch->uid = pw.pw_uid;
  launch->gid = pw.pw_gid;
  // Already that user (and not root): nothing to change.
  launch->change_user = !(::geteuid() != 0 && pw.pw_uid == ::geteuid());
  int count = 64;
  launch->groups.resize(count);
  if (::getgrouplist(user.c_str(), pw.pw_gid, launch->groups.data(), &count) <
      0) {
    launch->groups.resize(count);
    ::getgrouplist(user.c_str(), pw.pw_gid, launch->groups.data(), &count);
  }
  launch->groups.resize(count);
  return Status();
}

// Where the child failed, written to the error pipe.
struct ChildError {
  int step;  // 0 directory, 1 user, 2 exec, 3 cgroup
  int error;
};

[[noreturn]] void FailInChild(int error_fd, int step) {
  ChildError e{step, errno};
  ssize_t ignored = ::write(error_fd, &e, sizeof(e));
  (void)ignored;
  ::_exit(127);
}

// Puts the score on fd 3, open across exec (dup2 onto itself would keep
// close-on-exec); marks every descriptor above it close-on-exec, which
// keeps the error pipe open until the exec. Async-signal-safe.
bool PlaceScoreFd(int score_fd) {
  if (score_fd == kScoreFd) {
    if (::fcntl(kScoreFd, F_SETFD, 0) != 0) return false;
  } else if (::dup2(score_fd, kScoreFd) != kScoreFd) {
    return false;
  }
  return ::close_range(kScoreFd + 1, ~0U, CLOSE_RANGE_CLOEXEC) == 0;
}

// In the forked child: only async-signal-safe calls from here on.
[[noreturn]] void ExecInChild(const Launch& l, int error_fd) {
  if (l.cgroup_procs_fd >= 0 && ::write(l.cgroup_procs_fd, "0", 1) != 1)
    FailInChild(error_fd, 3);
  ::setpgid(0, 0);
  // Above fd 3, which the score gets, and so never one of the dup2s below.
  if (error_fd <= kScoreFd) error_fd = ::fcntl(error_fd, F_DUPFD_CLOEXEC, 4);
  int null_fd = ::open("/dev/null", O_RDONLY);
  if (null_fd < 0 || ::dup2(null_fd, 0) < 0 || ::dup2(l.stdout_fd, 1) < 0 ||
      ::dup2(l.stderr_fd, 2) < 0)
    FailInChild(error_fd, 2);
  // Raw system calls: glibc's wrappers would also set the ids of every
  // thread glibc believes this process has, and a child made by clone3
  // shares glibc's view of the player's threads.
  if (l.change_user &&
      (::syscall(SYS_setgroups, l.groups.size(), l.groups.data()) != 0 ||
       ::syscall(SYS_setgid, l.gid) != 0 || ::syscall(SYS_setuid, l.uid) != 0))
    FailInChild(error_fd, 1);
  // As the score's user: it gets no directory that user may not enter.
  if (::chdir(l.dir.c_str()) != 0) FailInChild(error_fd, 0);
  ::umask(022);
  // Default dispositions before any signal is let in: a handler of the
  // player's must never run in a child that shares its memory.
  struct sigaction dfl = {};
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) ::sigaction(sig, &dfl, nullptr);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  if (!PlaceScoreFd(l.score_fd)) FailInChild(error_fd, 2);
  ::execve(kScoreExecPath, l.argv.data(), l.envp.data());
  FailInChild(error_fd, 2);
}

#if defined(__x86_64__) && !defined(__SANITIZE_ADDRESS__) && \
    !defined(__SANITIZE_THREAD__)
constexpr bool kSharedSpawn = true;

struct ChildStart {
  const Launch* launch;
  int error_fd;
};

[[noreturn]] void StartChild(void* start) {
  const ChildStart* s = static_cast<const ChildStart*>(start);
  ExecInChild(*s->launch, s->error_fd);
}

// clone3(`args`) whose child runs fn(arg) on the stack `args` names and
// never returns; the parent gets the child's pid or -errno. The child
// starts on its own stack, so it cannot return through the parent's frames
// as a plain syscall() would: hence these few instructions. The child
// keeps r12 and r13 (the kernel copies every register but rax, rcx, r11).
long Clone3Run(struct clone_args* args, void (*fn)(void*), void* arg) {
  long ret;
  register long code asm("r12") = reinterpret_cast<long>(fn);
  register long data asm("r13") = reinterpret_cast<long>(arg);
  asm volatile(
      "syscall\n\t"
      "testq %%rax, %%rax\n\t"
      "jnz 1f\n\t"
      "xorl %%ebp, %%ebp\n\t"
      "movq %%r13, %%rdi\n\t"
      "callq *%%r12\n\t"
      "movl $127, %%edi\n\t"
      "movl %[exit], %%eax\n\t"
      "syscall\n\t"
      "hlt\n\t"
      "1:\n\t"
      : "=a"(ret)
      : "0"(static_cast<long>(SYS_clone3)), "D"(args), "S"(sizeof(*args)),
        "r"(code), "r"(data), [exit] "i"(SYS_exit)
      : "rcx", "r11", "memory", "cc");
  return ret;
}

// The stack children started by SpawnShared() run on until their exec:
// the loop thread is the only one that spawns, and it waits each time.
char* ChildStack(size_t* size) {
  static constexpr size_t kStackBytes = 256 << 10;
  static char* stack = nullptr;
  if (stack == nullptr) {
    void* p = ::mmap(nullptr, kStackBytes, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (p == MAP_FAILED) return nullptr;
    stack = static_cast<char*>(p);
  }
  *size = kStackBytes;
  return stack;
}

// Like vfork: the child shares our memory and we wait (CLONE_VFORK) until
// it has exec'd or failed, so no page table is copied; it starts in cgroup
// `cgroup_fd`. Every signal is blocked around it, so no handler of ours
// runs on the child's stack; the child sets its own mask before exec.
pid_t SpawnShared(int cgroup_fd, const Launch& launch, int error_fd) {
  size_t stack_size = 0;
  char* stack = ChildStack(&stack_size);
  if (stack == nullptr) return -1;
  struct clone_args args = {};
  args.flags = CLONE_VM | CLONE_VFORK | CLONE_INTO_CGROUP;
  args.exit_signal = SIGCHLD;
  args.stack = reinterpret_cast<uint64_t>(stack);
  args.stack_size = stack_size;
  args.cgroup = static_cast<uint64_t>(cgroup_fd);
  ChildStart start{&launch, error_fd};
  sigset_t all, old;
  sigfillset(&all);
  ::pthread_sigmask(SIG_SETMASK, &all, &old);
  const long pid = Clone3Run(&args, StartChild, &start);
  ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
  if (pid < 0) errno = static_cast<int>(-pid);
  return pid < 0 ? -1 : static_cast<pid_t>(pid);
}
#else
constexpr bool kSharedSpawn = false;
pid_t SpawnShared(int, const Launch&, int) {
  errno = ENOSYS;
  return -1;
}
#endif

// fork(), into cgroup `cgroup_fd` (-1: the player's) from the start: clone3
// with CLONE_INTO_CGROUP, or where the kernel lacks it a fork whose child
// joins the cgroup first (through `launch->cgroup_procs_fd`).
pid_t ForkInto(int cgroup_fd, Launch* launch) {
  if (cgroup_fd < 0) return ::fork();
  struct clone_args args = {};
  args.flags = CLONE_INTO_CGROUP;
  args.exit_signal = SIGCHLD;
  args.cgroup = static_cast<uint64_t>(cgroup_fd);
  pid_t pid = static_cast<pid_t>(::syscall(SYS_clone3, &args, sizeof(args)));
  if (pid >= 0 || (errno != ENOSYS && errno != E2BIG)) return pid;
  launch->cgroup_procs_fd =
      ::openat(cgroup_fd, "cgroup.procs", O_WRONLY | O_CLOEXEC);
  if (launch->cgroup_procs_fd < 0) return -1;
  pid = ::fork();
  if (pid == 0) return pid;  // The child writes through it
  const int error = errno;
  ::close(launch->cgroup_procs_fd);
  errno = error;
  return pid;
}

Result<pid_t> ForkExec(Launch& launch, const std::string& user, int cgroup_fd) {
  Result<Pipe> errors = MakePipe();
  if (!errors.ok()) return errors.status();
  pid_t pid = -1;
  if (kSharedSpawn && cgroup_fd >= 0) {
    pid = SpawnShared(cgroup_fd, launch, errors.value().write.get());
    if (pid < 0 && errno != ENOSYS && errno != E2BIG && errno != EINVAL)
      return Status::FromErrno("clone3", errno);
  }
  if (pid < 0) pid = ForkInto(cgroup_fd, &launch);
  if (pid < 0)
    return Status::FromErrno(cgroup_fd < 0 ? "fork" : "clone3", errno);
  if (pid == 0) ExecInChild(launch, errors.value().write.get());
  errors.value().write.Reset();
  ::fcntl(errors.value().read.get(), F_SETFL, 0);  // Wait for exec
  ChildError e{};
  ssize_t n;
  do {
    n = ::read(errors.value().read.get(), &e, sizeof(e));
  } while (n < 0 && errno == EINTR);
  if (n <= 0) return pid;  // EOF: exec succeeded
  int status;
  ::waitpid(pid, &status, 0);
  std::string where = e.step == 0   ? "working directory " + launch.dir
                      : e.step == 1 ? "switch to user " + user
                      : e.step == 3 ? "join the task's cgroup"
                                    : "exec " + launch.path;
  return Status::FromErrno(where, e.error);
}

Result<pid_t> PosixSpawn(const Launch& launch) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, launch.stdout_fd, 1);
  posix_spawn_file_actions_adddup2(&actions, launch.stderr_fd, 2);
  // After the two above: a pipe may be fd 3 in the player. glibc clears
  // close-on-exec when the score's descriptor already is fd 3.
  posix_spawn_file_actions_adddup2(&actions, launch.score_fd, kScoreFd);
  posix_spawn_file_actions_addchdir_np(&actions, launch.dir.c_str());
  posix_spawn_file_actions_addclosefrom_np(&actions, kScoreFd + 1);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP |
                                      POSIX_SPAWN_SETSIGMASK |
                                      POSIX_SPAWN_SETSIGDEF);
  posix_spawnattr_setpgroup(&attr, 0);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  // posix_spawn has no umask attribute; the child copies ours at clone time
  // and only this thread creates files.
  mode_t old_umask = ::umask(022);
  pid_t pid = -1;
  int rc = ::posix_spawn(&pid, kScoreExecPath, &actions, &attr,
                         launch.argv.data(), launch.envp.data());
  ::umask(old_umask);
  posix_spawnattr_destroy(&attr);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return Status::FromErrno("exec " + launch.path, rc);
  return pid;
}

}  // namespace

ChildProcess::ChildProcess(pid_t pid, size_t output_limit, bool pipe_interface)
    : pid_(pid),
      out_(output_limit, pipe_interface),
      err_(output_limit, false) {}

Result<std::unique_ptr<ChildProcess>> ChildProcess::Spawn(const ScoreRun& run,
                                                          size_t output_limit,
                                                          int cgroup_fd) {
  if (!run.file) return Status::Internal("score " + run.score, "not opened");
  Status checked = run.file->CheckBeforeRun();
  if (!checked.ok()) return checked;
  run.file->WarnIfReplaced();
  Result<Pipe> out = MakePipe();
  if (!out.ok()) return out.status();
  Result<Pipe> err = MakePipe();
  if (!err.ok()) return err.status();
  struct stat st;
  if (::stat(run.dir.c_str(), &st) != 0)
    return Status::FromErrno("working directory " + run.dir, errno);
  Launch launch;
  launch.path = run.path;
  launch.score_fd = run.file->fd();
  launch.dir = run.dir;
  launch.argv_strings = {run.score};
  launch.env_strings = BuildEnvironment(run);
  launch.argv = CStrings(launch.argv_strings);
  launch.envp = CStrings(launch.env_strings);
  launch.stdout_fd = out.value().write.get();
  launch.stderr_fd = err.value().write.get();
  if (!run.user.empty()) {
    Status s = ResolveUser(run.user, &launch);
    if (!s.ok()) return s;
  }
  Result<pid_t> pid = run.user.empty() && cgroup_fd < 0
                          ? PosixSpawn(launch)
                          : ForkExec(launch, run.user, cgroup_fd);
  if (!pid.ok()) return pid.status();
  std::unique_ptr<ChildProcess> child(
      new ChildProcess(pid.value(), output_limit, run.pipe_interface));
  child->stdout_ = std::move(out.value().read);
  child->stderr_ = std::move(err.value().read);
  child->pid_fd_.Reset(
      static_cast<int>(::syscall(SYS_pidfd_open, pid.value(), 0)));
  if (!child->pid_fd_.valid()) {
    Status s = Status::FromErrno("pidfd_open", errno);
    ::kill(-pid.value(), SIGKILL);
    int status;
    ::waitpid(pid.value(), &status, 0);
    return s;
  }
  return child;
}

ChildProcess::~ChildProcess() {
  if (reaped()) return;
  ::kill(-pid_, SIGKILL);
  int status;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
}

void ChildProcess::ReadFrom(int fd) {
  UniqueFd& pipe = fd == stdout_.get() ? stdout_ : stderr_;
  OutputCapture& capture = fd == stdout_.get() ? out_ : err_;
  if (!pipe.valid() || pipe.get() != fd) return;
  char buffer[kReadChunk];
  for (int i = 0; i < kReadsPerCall; ++i) {
    ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n > 0) {
      capture.Append(std::string_view(buffer, static_cast<size_t>(n)));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return;
    capture.Finish();  // EOF or a read error: the stream is over
    pipe.Reset();
    return;
  }
}

void ChildProcess::ClosePipes() {
  if (stdout_.valid()) out_.Finish();
  if (stderr_.valid()) err_.Finish();
  stdout_.Reset();
  stderr_.Reset();
}

void ChildProcess::SignalGroup(int signal) {
  if (!reaped()) ::kill(-pid_, signal);
}

void ChildProcess::Reap() {
  if (reaped()) return;
  siginfo_t info = {};
  if (::waitid(P_PID, pid_, &info, WEXITED | WNOHANG | WNOWAIT) != 0 ||
      info.si_pid == 0)
    return;  // Not exited yet
  // The main process is a zombie, so its group id cannot be reused yet.
  ::kill(-pid_, SIGKILL);
  while (::waitpid(pid_, &wait_status_, 0) < 0 && errno == EINTR) {
  }
  pid_fd_.Reset();
}

}  // namespace orchestra::player
