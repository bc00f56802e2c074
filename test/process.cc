#include "test/process.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

extern char** environ;

namespace orchestra::test {

namespace {

std::vector<char*> Argv(const std::string& program,
                        const std::vector<std::string>& args) {
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(program.c_str()));
  for (const std::string& arg : args)
    argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  return argv;
}

// Polls `fd` until it closes or `deadline`; appends what it reads to `out`.
bool Drain(int fd, std::string* out,
           std::chrono::steady_clock::time_point deadline) {
  char buf[65536];
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    struct pollfd p = {fd, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n <= 0) return true;
    out->append(buf, static_cast<size_t>(n));
  }
}

// Our environment with `extra` ("NAME=value") added or overriding.
class Environment {
 public:
  explicit Environment(const std::vector<std::string>& extra) {
    for (char** e = environ; *e != nullptr; ++e) {
      const std::string entry(*e);
      const std::string name = entry.substr(0, entry.find('=') + 1);
      bool overridden = false;
      for (const std::string& x : extra) overridden |= x.rfind(name, 0) == 0;
      if (!overridden) strings_.push_back(entry);
    }
    strings_.insert(strings_.end(), extra.begin(), extra.end());
    for (std::string& e : strings_) pointers_.push_back(e.data());
    pointers_.push_back(nullptr);
  }
  char** get() { return pointers_.data(); }

 private:
  std::vector<std::string> strings_;
  std::vector<char*> pointers_;
};

}  // namespace

std::string SanitizerReport(const std::string& log) {
  size_t first = std::string::npos;
  for (const char* mark : {"ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                           "runtime error:", "WARNING: ThreadSanitizer"})
    first = std::min(first, log.find(mark));
  if (first == std::string::npos) return "";
  const size_t line = log.rfind('\n', first);
  return log.substr(line == std::string::npos ? 0 : line + 1, 8192);
}

std::string BinaryDir() {
  char path[4096];
  ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 1);
  if (n <= 0) return "bin";
  std::string exe(path, static_cast<size_t>(n));
  return exe.substr(0, exe.rfind('/'));
}

namespace {

// Starts `program` as Process does, under RLIMIT_NOFILE `limit`:
// posix_spawn cannot set a limit, so fork, and between fork and exec only
// async-signal-safe calls. The child's pid, or 0.
pid_t SpawnWithFileLimit(const char* program, char** argv, char** env,
                         int log_fd, int limit) {
  const pid_t pid = fork();
  if (pid != 0) return pid < 0 ? 0 : pid;
  const int null_fd = open("/dev/null", O_RDWR);
  const struct rlimit files = {static_cast<rlim_t>(limit),
                               static_cast<rlim_t>(limit)};
  if (null_fd < 0 || dup2(null_fd, 0) < 0 || dup2(null_fd, 1) < 0 ||
      dup2(log_fd, 2) < 0 || setrlimit(RLIMIT_NOFILE, &files) != 0)
    _exit(127);
  execve(program, argv, env);
  _exit(127);
}

}  // namespace

Process::Process(const std::string& program,
                 const std::vector<std::string>& args,
                 const std::vector<std::string>& extra_env, int open_file_limit)
    : program_(program) {
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) return;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], 2);
  std::vector<char*> argv = Argv(program, args);
  std::vector<std::string> env_entries = extra_env;
  for (std::string& entry : env_entries) {
    struct stat st;
    if (entry == "JOURNAL_STREAM=stderr" && fstat(pipe_fds[1], &st) == 0)
      entry = "JOURNAL_STREAM=" + std::to_string(st.st_dev) + ":" +
              std::to_string(st.st_ino);
  }
  Environment env(env_entries);
  if (open_file_limit > 0) {
    pid_ = SpawnWithFileLimit(program.c_str(), argv.data(), env.get(),
                              pipe_fds[1], open_file_limit);
  } else if (posix_spawn(&pid_, program.c_str(), &actions, nullptr, argv.data(),
                         env.get()) != 0) {
    pid_ = 0;
  }
  posix_spawn_file_actions_destroy(&actions);
  close(pipe_fds[1]);
  if (pid_ <= 0) {
    close(pipe_fds[0]);
    return;
  }
  reader_ = std::thread([this, fd = pipe_fds[0]] { ReadLog(fd); });
}

Process::~Process() {
  if (pid_ > 0 && !reaped_) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  if (reader_.joinable()) reader_.join();
  const std::string report = SanitizerReport(log_);
  if (!report.empty())
    ADD_FAILURE() << program_ << " (pid " << pid_
                  << ") made a sanitizer report:\n"
                  << report;
}

void Process::ReadLog(int fd) {
  char buf[8192];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    std::lock_guard<std::mutex> lock(mu_);
    log_.append(buf, static_cast<size_t>(n));
    changed_.notify_all();
  }
  close(fd);
  std::lock_guard<std::mutex> lock(mu_);
  log_closed_ = true;
  changed_.notify_all();
}

std::optional<std::string> Process::WaitForLog(
    const std::string& pattern, std::chrono::milliseconds timeout,
    size_t from) {
  const std::regex re(pattern);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    std::smatch match;
    std::string tail = log_.substr(std::min(from, log_.size()));
    if (std::regex_search(tail, match, re))
      return match.size() > 1 ? match[1].str() : match[0].str();
    if (log_closed_) return std::nullopt;
    if (changed_.wait_until(lock, deadline) == std::cv_status::timeout) {
      tail = log_.substr(std::min(from, log_.size()));
      if (std::regex_search(tail, match, re))
        return match.size() > 1 ? match[1].str() : match[0].str();
      return std::nullopt;
    }
  }
}

size_t Process::CountLog(const std::string& pattern) {
  const std::regex re(pattern);
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<size_t>(
      std::distance(std::sregex_iterator(log_.begin(), log_.end(), re),
                    std::sregex_iterator()));
}

std::string Process::Log() {
  std::lock_guard<std::mutex> lock(mu_);
  return log_;
}

size_t Process::LogSize() {
  std::lock_guard<std::mutex> lock(mu_);
  return log_.size();
}

void Process::Signal(int signal) {
  if (pid_ > 0 && !reaped_) kill(pid_, signal);
}

std::optional<int> Process::Wait(std::chrono::milliseconds timeout) {
  if (reaped_) return status_;
  // A pidfd becomes readable when the process exits: wait on that event,
  // then for the log pipe to close (a child may hold it a moment longer),
  // so the log is complete when Wait() returns.
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  bool exited = false;
  int pid_fd = static_cast<int>(syscall(SYS_pidfd_open, pid_, 0));
  if (pid_fd >= 0) {
    struct pollfd item = {pid_fd, POLLIN, 0};
    exited = poll(&item, 1, static_cast<int>(timeout.count())) == 1;
    close(pid_fd);
  }
  if (exited) {
    std::unique_lock<std::mutex> lock(mu_);
    changed_.wait_until(lock, deadline, [this] { return log_closed_; });
  }
  int status = 0;
  pid_t r = waitpid(pid_, &status, exited ? 0 : WNOHANG);
  if (r != pid_) return std::nullopt;
  reaped_ = true;
  status_ = status;
  return status;
}

CommandResult RunCommand(const std::string& program,
                         const std::vector<std::string>& args,
                         std::chrono::milliseconds timeout,
                         const std::vector<std::string>& extra_env) {
  CommandResult result;
  int out_pipe[2], err_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0) return result;
  if (pipe2(err_pipe, O_CLOEXEC) != 0) return result;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);
  Environment env(extra_env);
  std::vector<char*> argv = Argv(program, args);
  pid_t pid = 0;
  int rc = posix_spawn(&pid, program.c_str(), &actions, nullptr, argv.data(),
                       env.get());
  posix_spawn_file_actions_destroy(&actions);
  close(out_pipe[1]);
  close(err_pipe[1]);
  if (rc == 0) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::thread err_reader([&] { Drain(err_pipe[0], &result.err, deadline); });
    bool done = Drain(out_pipe[0], &result.out, deadline);
    err_reader.join();
    if (!done) kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    if (done && WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
    const std::string report = SanitizerReport(result.err);
    if (!report.empty())
      ADD_FAILURE() << program << " made a sanitizer report:\n" << report;
  }
  close(out_pipe[0]);
  close(err_pipe[0]);
  return result;
}

}  // namespace orchestra::test
