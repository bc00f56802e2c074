#include "tools/bench/spawn_probe.h"

#include <spawn.h>
#include <sys/wait.h>

#include <cerrno>
#include <thread>
#include <vector>

#include "tools/bench/stopwatch.h"

namespace orchestra::bench {

using common::Result;
using common::Status;

Status SpawnProbe::SpawnAndReap(int count) const {
  char* argv[] = {const_cast<char*>(program_.c_str()), nullptr};
  char* envp[] = {nullptr};
  for (int i = 0; i < count; ++i) {
    pid_t pid;
    int rc =
        ::posix_spawn(&pid, program_.c_str(), nullptr, nullptr, argv, envp);
    if (rc != 0) return Status::FromErrno("posix_spawn " + program_, rc);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0) {
      if (errno != EINTR) return Status::FromErrno("waitpid", errno);
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
      return Status::Internal("spawn probe", program_ + " did not exit 0");
  }
  return Status();
}

Result<double> SpawnProbe::Rate(int count, int threads) const {
  std::vector<Status> outcomes(threads);
  std::vector<std::thread> running;
  Stopwatch watch;
  for (int t = 0; t < threads; ++t)
    running.emplace_back(
        [this, count, &outcomes, t] { outcomes[t] = SpawnAndReap(count); });
  for (std::thread& thread : running) thread.join();
  const double seconds = watch.Seconds();
  for (const Status& s : outcomes) {
    if (!s.ok()) return s;
  }
  return count * static_cast<double>(threads) / seconds;
}

}  // namespace orchestra::bench
