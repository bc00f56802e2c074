#include "tools/bench/conductor_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <regex>
#include <sstream>
#include <thread>

#include "common/files.h"

namespace orchestra::bench {

using common::Result;
using common::Status;

ConductorProcess::ConductorProcess(std::string binary, std::string dir)
    : ConductorProcess(std::move(binary), dir, dir) {}

ConductorProcess::ConductorProcess(std::string binary, std::string dir,
                                   std::string shared)
    : binary_(std::move(binary)),
      dir_(std::move(dir)),
      shared_(std::move(shared)),
      database_path_(dir_ + "/conductor.db") {}

ConductorProcess::~ConductorProcess() { Kill(); }

std::string ConductorProcess::audience_endpoint() const {
  return "ipc://" + dir_ + "/conductor.sock";
}

size_t ConductorProcess::LogSize() const {
  struct stat st;
  const std::string path = dir_ + "/conductor.log";
  return ::stat(path.c_str(), &st) == 0 ? static_cast<size_t>(st.st_size) : 0;
}

Status ConductorProcess::Launch(const std::string& extra, size_t* mark) {
  const std::string endpoint =
      player_endpoint_.empty() ? "tcp://127.0.0.1:*" : player_endpoint_;
  const std::string config =
      "# written by orchestra-bench-load\n"
      "player endpoint = " +
      endpoint +
      "\n"
      "audience endpoint = " +
      audience_endpoint() +
      "\n"
      "conductor secret key = " +
      shared_ +
      "/keys/conductor.key\n"
      "player file path = " +
      shared_ +
      "/players\n"
      "database path = " +
      database_path_ +
      "\n"
      "retention days = 0\n" +
      (extra.find("http endpoint") == std::string::npos
           ? "http endpoint = 127.0.0.1:0\n"
           : "") +
      extra;
  Status s =
      common::WriteFileAtomically(dir_ + "/conductor.conf", config, 0644);
  if (!s.ok()) return s;
  *mark = LogSize();
  const std::string log = dir_ + "/conductor.log";
  std::fflush(nullptr);
  pid_ = ::fork();
  if (pid_ < 0) return Status::FromErrno("fork", errno);
  if (pid_ == 0) {
    int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) ::dup2(fd, 2);
    const std::string conf = dir_ + "/conductor.conf";
    ::execl(binary_.c_str(), binary_.c_str(), "--config", conf.c_str(),
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  return Status();
}

Status ConductorProcess::Start(const std::string& extra) {
  size_t mark = 0;
  Status s = Launch(extra, &mark);
  if (!s.ok()) return s;
  // The active conductor's own line ("key="): a conductor of a cell binds
  // once more (" standby=true") while it stands by.
  Result<std::string> bound = WaitForLog(
      "bound endpoint=(tcp://[0-9.]+:[0-9]+) role=players key=", mark, 30000);
  if (!bound.ok()) return bound.status();
  player_endpoint_ = bound.value();
  return WaitForLog("started players=", mark, 30000).status();
}

Status ConductorProcess::StartStandby(const std::string& extra) {
  size_t mark = 0;
  Status s = Launch(extra, &mark);
  if (!s.ok()) return s;
  return WaitForLog("cell joined id=", mark, 30000).status();
}

Status ConductorProcess::Stop() {
  if (pid_ <= 0) return Status();
  ::kill(pid_, SIGTERM);
  // A conductor of a cell whose peers are gone may wait on its store:
  // after 30 s, SIGKILL.
  int status = 0;
  bool killed = false;
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (::waitpid(pid_, &status, WNOHANG) == 0) {
    if (!killed && std::chrono::steady_clock::now() > deadline) {
      ::kill(pid_, SIGKILL);
      killed = true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  pid_ = -1;
  if (killed)
    return Status::Internal(
        "conductor", "did not stop in 30 s (see " + dir_ + "/conductor.log)");
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    return Status::Internal(
        "conductor", "did not stop cleanly (see " + dir_ + "/conductor.log)");
  return Status();
}

void ConductorProcess::Kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

Result<std::string> ConductorProcess::WaitForLog(const std::string& regex,
                                                 size_t from,
                                                 int timeout_ms) const {
  const std::regex pattern(regex);
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    Result<std::string> text =
        common::ReadFile(dir_ + "/conductor.log", size_t{1} << 30);
    if (text.ok() && text.value().size() > from) {
      std::smatch match;
      const std::string tail = text.value().substr(from);
      if (std::regex_search(tail, match, pattern))
        return match.size() > 1 ? match[1].str() : match[0].str();
    }
    if (pid_ > 0 && ::waitpid(pid_, nullptr, WNOHANG) == pid_) {
      const_cast<ConductorProcess*>(this)->pid_ = -1;
      return Status::Unavailable("conductor",
                                 "exited (see " + dir_ + "/conductor.log)");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return Status::Unavailable("conductor", "no '" + regex + "' in its log");
}

Result<int64_t> ConductorProcess::ResidentBytes() const {
  Result<std::string> status =
      common::ReadFile("/proc/" + std::to_string(pid_) + "/status");
  if (!status.ok()) return status.status();
  std::istringstream in(status.value());
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0)
      return static_cast<int64_t>(std::stoll(line.substr(6))) * 1024;
  }
  return Status::NotFound("conductor", "no VmRSS");
}

Result<double> ConductorProcess::CpuSeconds() const {
  return ProcessCpuSeconds(pid_);
}

Result<double> ProcessCpuSeconds(pid_t pid) {
  Result<std::string> stat =
      common::ReadFile("/proc/" + std::to_string(pid) + "/stat");
  if (!stat.ok()) return stat.status();
  // Fields after the command name (which may hold spaces): state is 3rd,
  // utime the 14th and stime the 15th.
  const std::string& text = stat.value();
  std::istringstream in(text.substr(text.rfind(')') + 2));
  std::string field;
  long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && in >> field; ++i) {
    if (i == 14) utime = std::stoll(field);
    if (i == 15) stime = std::stoll(field);
  }
  return static_cast<double>(utime + stime) /
         static_cast<double>(::sysconf(_SC_CLK_TCK));
}

}  // namespace orchestra::bench
