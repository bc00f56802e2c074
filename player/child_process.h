// ChildProcess owns one running score: its pid (as a pidfd), its process
// group and the read ends of its stdout and stderr pipes, with what they
// carried so far. The destructor kills the group and reaps the child if it
// still runs, so no score outlives its owner. Owned by PosixProcessRunner.

#ifndef ORCHESTRA_PLAYER_CHILD_PROCESS_H_
#define ORCHESTRA_PLAYER_CHILD_PROCESS_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/unique_fd.h"
#include "player/output_capture.h"
#include "player/process_runner.h"

namespace orchestra::player {

class ChildProcess {
 public:
  // Starts `run` (no shell; see DESIGN.md section 7 for its environment),
  // keeping the last `output_limit` bytes of each stream, in the cgroup
  // whose directory is `cgroup_fd` from its start (-1: the player's). The
  // error says why it could not start (exec failure, unknown user, bad
  // directory).
  static common::Result<std::unique_ptr<ChildProcess>> Spawn(
      const ScoreRun& run, size_t output_limit, int cgroup_fd = -1);

  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // Readable when the main process has exited; -1 once reaped.
  int pid_fd() const { return pid_fd_.get(); }
  // Pipe read ends; -1 once closed.
  int stdout_fd() const { return stdout_.get(); }
  int stderr_fd() const { return stderr_.get(); }

  // Reads what pipe `fd` holds (bounded per call); closes it at EOF.
  void ReadFrom(int fd);
  // Stops waiting for EOF (an escaped process holds a pipe open).
  void ClosePipes();
  // Sends `signal` to the whole process group while it is not reaped.
  void SignalGroup(int signal);
  // After pid_fd() became readable: SIGKILLs whatever is left in the
  // process group, then reaps the main process.
  void Reap();

  bool reaped() const { return !pid_fd_.valid(); }
  bool pipes_closed() const { return !stdout_.valid() && !stderr_.valid(); }
  pid_t pid() const { return pid_; }
  int wait_status() const { return wait_status_; }  // REQUIRES: reaped()
  const OutputCapture& out() const { return out_; }
  const OutputCapture& err() const { return err_; }

 private:
  ChildProcess(pid_t pid, size_t output_limit, bool pipe_interface);

  pid_t pid_;
  common::UniqueFd pid_fd_;
  common::UniqueFd stdout_;
  common::UniqueFd stderr_;
  int wait_status_ = 0;
  OutputCapture out_;
  OutputCapture err_;
};

}  // namespace orchestra::player

#endif  // ORCHESTRA_PLAYER_CHILD_PROCESS_H_
