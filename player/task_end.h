// TaskEnd says how a score's run ended, as far as the player knows, and
// ResultFor() is the one rule that turns that into the task's final state
// and its result's exit_code, signal and error (DESIGN.md section 5).
// Pure: no processes, no clock. Used by PosixProcessRunner (a process's
// end) and TaskBoard (a spawn that failed, a run a restart cut short).

#ifndef ORCHESTRA_PLAYER_TASK_END_H_
#define ORCHESTRA_PLAYER_TASK_END_H_

#include <optional>
#include <string>

#include "broker/protocol.h"

namespace orchestra::player {

struct TaskEnd {
  enum class How {
    kExited,           // The main process exited with status `number`
    kSignalled,        // Signal `number` killed the main process
    kNotStarted,       // The spawn failed (exec, user, directory): `error`
    kPlayerRestarted,  // It ran when the player last stopped: end unknown
  };

  // From a status waitpid() gave for a process that ended.
  static TaskEnd FromWaitStatus(int wait_status,
                                std::optional<broker::TaskState> stopped_for);
  static TaskEnd Exited(int code,
                        std::optional<broker::TaskState> stopped_for = {});
  static TaskEnd Signalled(int signal,
                           std::optional<broker::TaskState> stopped_for = {});
  static TaskEnd NotStarted(std::string error);
  static TaskEnd PlayerRestarted();

  How how = How::kExited;
  int number = 0;  // The exit status or the signal
  // Set when the player signalled the process itself, to the state it
  // stopped it for: kTimeout (its time limit ran out), kCancelled (the
  // audience cancelled it) or kLost (the player is stopping).
  std::optional<broker::TaskState> stopped_for;
  std::string error;  // kNotStarted: why
  // Set when the kernel killed a process of the run for memory (its
  // cgroup's oom_kill): the `memory max` NAME.conf gave, or "".
  std::optional<std::string> out_of_memory;
};

// The result of task `task` that ended as `end` says: its state, exit_code,
// signal and error; the other fields are left for the caller. A run the
// player stopped ends in the state it was stopped for, however its process
// then ended; otherwise a run the kernel killed for memory is FAIL with
// error "out of memory (memory max 256M)", exit 0 OK and any other end FAIL.
broker::TaskResult ResultFor(broker::TaskId task, const TaskEnd& end);

}  // namespace orchestra::player

#endif  // ORCHESTRA_PLAYER_TASK_END_H_
