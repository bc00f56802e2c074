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
  kSkipped,  // never dispatched: the rollout's max_errors ran out
};
constexpr int kTaskStateCount = 13;

enum class JobState { kPending, kOk, kFail, kPartialFail, kCancelled };
constexpr int kJobStateCount = 5;

enum class Scope { kOne, kAll };
constexpr int kScopeCount = 2;

// Why a QUEUED task waits (DESIGN.md section 13), shown in a job record.
enum class WaitReason {
  kPlayerOffline,  // its player is not connected
  kPlayerBusy,     // no free slot on its player
  kRollout,        // the job's max_concurrency is reached
  kEarlierJobs,    // jobs ahead of it hold the slots it could use
};
constexpr int kWaitReasonCount = 4;

const char* TaskStateName(TaskState state);
const char* JobStateName(JobState state);
const char* ScopeName(Scope scope);
const char* WaitReasonName(WaitReason reason);  // "player_offline", ...
bool ParseTaskState(std::string_view text, TaskState* state);
bool ParseJobState(std::string_view text, JobState* state);
bool ParseScope(std::string_view text, Scope* scope);
bool ParseWaitReason(std::string_view text, WaitReason* reason);

// OK, FAIL, TIMEOUT, CANCELLED, UNK_SCORE, HOST_ERROR, LOST, ABORTED,
// EXPIRED, SKIPPED.
bool IsFinal(TaskState state);
// Final states after which a `one` job tries the next eligible player.
bool IsSoft(TaskState state);
// States a player may report in a result (the others are the conductor's).
bool IsPlayerResultState(TaskState state);

}  // namespace orchestra::broker

#endif  // ORCHESTRA_BROKER_STATES_H_
