#include "broker/states.h"

namespace orchestra::broker {

namespace {

constexpr const char* kTaskStateNames[kTaskStateCount] = {
    "QUEUED",  "DISPATCHED", "RUNNING",   "OK",         "FAIL",
    "TIMEOUT", "CANCELLED",  "UNK_SCORE", "HOST_ERROR", "LOST",
    "ABORTED", "EXPIRED",    "SKIPPED"};

constexpr const char* kJobStateNames[kJobStateCount] = {
    "PENDING", "OK", "FAIL", "PARTIAL_FAIL", "CANCELLED"};

constexpr const char* kWaitReasonNames[kWaitReasonCount] = {
    "player_offline", "player_busy", "rollout", "earlier_jobs"};

}  // namespace

const char* TaskStateName(TaskState state) {
  return kTaskStateNames[static_cast<int>(state)];
}

const char* JobStateName(JobState state) {
  return kJobStateNames[static_cast<int>(state)];
}

const char* ScopeName(Scope scope) {
  return scope == Scope::kOne ? "one" : "all";
}

const char* WaitReasonName(WaitReason reason) {
  return kWaitReasonNames[static_cast<int>(reason)];
}

bool ParseTaskState(std::string_view text, TaskState* state) {
  for (int i = 0; i < kTaskStateCount; ++i) {
    if (text == kTaskStateNames[i]) {
      *state = static_cast<TaskState>(i);
      return true;
    }
  }
  return false;
}

bool ParseJobState(std::string_view text, JobState* state) {
  for (int i = 0; i < kJobStateCount; ++i) {
    if (text == kJobStateNames[i]) {
      *state = static_cast<JobState>(i);
      return true;
    }
  }
  return false;
}

bool ParseScope(std::string_view text, Scope* scope) {
  if (text == "one") {
    *scope = Scope::kOne;
  } else if (text == "all") {
    *scope = Scope::kAll;
  } else {
    return false;
  }
  return true;
}

bool ParseWaitReason(std::string_view text, WaitReason* reason) {
  for (int i = 0; i < kWaitReasonCount; ++i) {
    if (text == kWaitReasonNames[i]) {
      *reason = static_cast<WaitReason>(i);
      return true;
    }
  }
  return false;
}

bool IsFinal(TaskState state) {
  return state != TaskState::kQueued && state != TaskState::kDispatched &&
         state != TaskState::kRunning;
}

bool IsSoft(TaskState state) {
  return state == TaskState::kUnkScore || state == TaskState::kHostError ||
         state == TaskState::kAborted || state == TaskState::kExpired;
}

bool IsPlayerResultState(TaskState state) {
  switch (state) {
    case TaskState::kOk:
    case TaskState::kFail:
    case TaskState::kTimeout:
    case TaskState::kCancelled:
    case TaskState::kUnkScore:
    case TaskState::kHostError:
    case TaskState::kLost:
      return true;
    default:
      return false;
  }
}

}  // namespace orchestra::broker
