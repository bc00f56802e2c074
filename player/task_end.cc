// The rule, case by case (DESIGN.md section 5):
//
//   how it ended          the player stopped it for   state        fields
//   exit 0                -                           OK           exit_code
//   exit n > 0            -                           FAIL         exit_code
//   killed by signal s    -                           FAIL         signal
//   exit or signal        TIMEOUT / CANCELLED         that state   either
//   exit or signal        LOST (player stopping)      LOST         either,
//                                                                  error
//   out of memory         -                           FAIL         either,
//                                                                  error
//   spawn failed          -                           HOST_ERROR   error
//   player restarted      -                           LOST         error

#include "player/task_end.h"

#include <sys/wait.h>

namespace orchestra::player {

using broker::TaskResult;
using broker::TaskState;

namespace {

constexpr const char* kStoppedError = "player stopped while the score ran";
constexpr const char* kRestartedError = "player restarted while the score ran";

}  // namespace

TaskEnd TaskEnd::FromWaitStatus(int wait_status,
                                std::optional<TaskState> stopped_for) {
  if (WIFEXITED(wait_status))
    return Exited(WEXITSTATUS(wait_status), stopped_for);
  return Signalled(WTERMSIG(wait_status), stopped_for);
}

TaskEnd TaskEnd::Exited(int code, std::optional<TaskState> stopped_for) {
  return TaskEnd{How::kExited, code, stopped_for, "", {}};
}

TaskEnd TaskEnd::Signalled(int signal, std::optional<TaskState> stopped_for) {
  return TaskEnd{How::kSignalled, signal, stopped_for, "", {}};
}

TaskEnd TaskEnd::NotStarted(std::string error) {
  return TaskEnd{How::kNotStarted, 0, std::nullopt, std::move(error), {}};
}

TaskEnd TaskEnd::PlayerRestarted() {
  return TaskEnd{How::kPlayerRestarted, 0, std::nullopt, "", {}};
}

TaskResult ResultFor(broker::TaskId task, const TaskEnd& end) {
  TaskResult result;
  result.task = task;
  switch (end.how) {
    case TaskEnd::How::kNotStarted:
      result.state = TaskState::kHostError;
      result.error = end.error;
      return result;
    case TaskEnd::How::kPlayerRestarted:
      result.state = TaskState::kLost;
      result.error = kRestartedError;
      return result;
    case TaskEnd::How::kExited:
      result.exit_code = end.number;
      break;
    case TaskEnd::How::kSignalled:
      result.signal = end.number;
      break;
  }
  if (end.stopped_for) {
    result.state = *end.stopped_for;
    if (result.state == TaskState::kLost) result.error = kStoppedError;
  } else if (end.out_of_memory) {
    result.state = TaskState::kFail;
    result.error = end.out_of_memory->empty() ? "out of memory"
                                              : "out of memory (memory max " +
                                                    *end.out_of_memory + ")";
  } else {
    result.state = result.exit_code == 0 ? TaskState::kOk : TaskState::kFail;
  }
  return result;
}

}  // namespace orchestra::player
