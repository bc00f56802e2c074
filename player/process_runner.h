// ProcessRunner starts scores and reports how they ended. Abstract so the
// Player loop can be tested without processes (test/fake_process_runner.h);
// PosixProcessRunner is the real one. Used by one thread, the player loop.

#ifndef ORCHESTRA_PLAYER_PROCESS_RUNNER_H_
#define ORCHESTRA_PLAYER_PROCESS_RUNNER_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "broker/protocol.h"
#include "broker/states.h"
#include "common/clock.h"
#include "common/status.h"
#include "player/score_file.h"
#include "player/task_cgroups.h"

namespace orchestra::player {

// One run of a score: everything needed to start it.
struct ScoreRun {
  broker::TaskId task = 0;
  broker::JobId job = 0;
  std::string score;            // argv[0]
  std::string path;             // The score in the score directory (messages)
  broker::StringMap params;     // Each becomes ORC_<key>
  std::string player;           // ORC_PLAYER
  bool pipe_interface = false;  // stdout key=value lines fill `response`
  std::string dir = "/";        // Working directory
  std::string user;             // Run as this user; empty: the player's own
  int64_t timeout_ms = 0;       // 0: no limit
  CgroupLimits limits;          // NAME.conf `memory max`, `tasks max`
  // What runs: the file the scan opened and checked, never `path` again.
  std::shared_ptr<const ScoreFile> file;
};

class ProcessRunner {
 public:
  virtual ~ProcessRunner() = default;

  // Starts `run.file` in its own process group. On failure nothing runs and
  // the error (with the errno text) says why; the task is then HOST_ERROR.
  virtual common::Status Start(const ScoreRun& run) = 0;

  // Stops the running task `task`: SIGTERM to its process group, SIGKILL
  // after the kill grace. It then ends in `outcome` (kCancelled, kLost).
  // No effect on a task that is not running.
  virtual void Stop(broker::TaskId task, broker::TaskState outcome) = 0;

  // A descriptor that becomes readable when Collect() has work, or -1.
  virtual int fd() const = 0;

  // Monotonic time of the next deadline Collect() must see; 0 for none.
  virtual common::TimeMs NextDeadline() const = 0;

  // Reads output, enforces time limits and returns the tasks that ended
  // since the last call, results complete. Never blocks.
  virtual std::vector<broker::TaskResult> Collect() = 0;

  // Tasks started and not yet returned by Collect().
  virtual size_t running() const = 0;
};

}  // namespace orchestra::player

#endif  // ORCHESTRA_PLAYER_PROCESS_RUNNER_H_
