// The states of DESIGN.md section 5 and the scope of a job, with their wire
// names ("QUEUED", "PARTIAL_FAIL", "one"). Shared by the codecs, the
// conductor and the tools, so one word means one thing everywhere.

#ifndef ORCHESTRA_BROKER_STATES_H_
#define ORCHESTRA_BROKER_STATES_H_

#include <string_view>

namespace orchestra::broker {

enum class TaskState {
  kQueued,      // waiting for a free slot on an eligible, connected player
  kDispatched,  // sent, not yet accepted
  kRunning,     // accepted by the player
  kOk,
  kFail,
  kTimeout,
  kCancelled,
  kUnkScore,
  kHostError,
  kLost,
  kAborted,
  kExpired,
};
constexpr int kTaskStateCount = 12;

enum class JobState { kPending, kOk, kFail, kPartialFail, kCancelled };
constexpr int kJobStateCount = 5;

enum class Scope { kOne, kAll };
constexpr int kScopeCount = 2;

const char* TaskStateName(TaskState state);
const char* JobStateName(JobState state);
const char* ScopeName(Scope scope);
bool ParseTaskState(std::string_view text, TaskState* state);
bool ParseJobState(std::string_view text, JobState* state);
bool ParseScope(std::string_view text, Scope* scope);

// OK, FAIL, TIMEOUT, CANCELLED, UNK_SCORE, HOST_ERROR, LOST, ABORTED, EXPIRED.
bool IsFinal(TaskState state);
// Final states after which a `one` job tries the next eligible player.
bool IsSoft(TaskState state);
// States a player may report in a result (the others are the conductor's).
bool IsPlayerResultState(TaskState state);

}  // namespace orchestra::broker

#endif  // ORCHESTRA_BROKER_STATES_H_
