// PosixProcessRunner is the real ProcessRunner: it starts each score as a
// ChildProcess and watches all of them through one epoll descriptor (the
// pidfds and output pipes), which the player loop polls. Time limits and
// stops send SIGTERM to the process group and SIGKILL after the kill grace.
// Given TaskCgroups, each task runs in a cgroup of its own, killed whole
// when the score's main process ends and then removed. Used by the player
// loop thread only.

#ifndef ORCHESTRA_PLAYER_POSIX_PROCESS_RUNNER_H_
#define ORCHESTRA_PLAYER_POSIX_PROCESS_RUNNER_H_

#include <map>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "common/unique_fd.h"
#include "player/child_process.h"
#include "player/process_runner.h"
#include "player/task_cgroups.h"

namespace orchestra::player {

struct RunnerOptions {
  size_t output_limit = 65536;           // Bytes kept per output stream
  common::TimeMs kill_grace_ms = 5000;   // SIGTERM to SIGKILL; also how long
                                         // to wait for EOF after an exit
  const common::Clock* clock = nullptr;  // Null: the system clock
  TaskCgroups* cgroups = nullptr;  // Null: process groups only; outlives us
};

class PosixProcessRunner : public ProcessRunner {
 public:
  static common::Result<std::unique_ptr<PosixProcessRunner>> Create(
      const RunnerOptions& options);
  // Kills what still runs (its cgroup too) and reaps it.
  ~PosixProcessRunner() override;

  common::Status Start(const ScoreRun& run) override;
  void Stop(broker::TaskId task, broker::TaskState outcome) override;
  int fd() const override { return epoll_.get(); }
  common::TimeMs NextDeadline() const override;
  std::vector<broker::TaskResult> Collect() override;
  size_t running() const override { return running_.size(); }

 private:
  struct Running {
    ScoreRun run;
    std::unique_ptr<ChildProcess> child;
    common::TimeMs started_at = 0;  // Wall clock
    common::TimeMs limit_at = 0;    // Monotonic; 0: no limit
    common::TimeMs kill_at = 0;     // SIGKILL due; 0: none
    common::TimeMs eof_by = 0;      // Stop waiting for pipe EOF; 0: none
    std::optional<broker::TaskState> stopped_as;  // The player stopped it
  };

  PosixProcessRunner(const RunnerOptions& options, common::UniqueFd epoll);
  void Watch(int fd, broker::TaskId task);
  void HandleEvents(common::TimeMs now);
  void EnforceDeadlines(Running* r, common::TimeMs now);
  void Terminate(Running* r, broker::TaskState outcome, common::TimeMs now);
  void KillCgroup(broker::TaskId task);
  broker::TaskResult MakeResult(const Running& r) const;

  RunnerOptions options_;
  common::SystemClock system_clock_;
  const common::Clock* clock_;
  common::UniqueFd epoll_;
  std::map<broker::TaskId, Running> running_;
  std::unordered_map<int, broker::TaskId> fd_owner_;  // Watched fds
};

}  // namespace orchestra::player

#endif  // ORCHESTRA_PLAYER_POSIX_PROCESS_RUNNER_H_
