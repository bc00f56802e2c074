#include "conductor/job_rules.h"

namespace orchestra::conductor {

using broker::JobRecord;
using broker::JobState;
using broker::Scope;
using broker::TaskRecord;
using broker::TaskState;

std::vector<std::string> EligiblePlayers(const JobRecord& job) {
  std::set<std::string> failed;
  for (const TaskRecord& task : job.tasks) {
    if (broker::IsSoft(task.state) && !task.player.empty())
      failed.insert(task.player);
  }
  std::vector<std::string> eligible;
  for (const std::string& player : job.players) {
    if (!failed.count(player)) eligible.push_back(player);
  }
  return eligible;
}

namespace {

JobState EvaluateAll(const JobRecord& job) {
  size_t ok = 0;
  for (const TaskRecord& task : job.tasks) {
    if (!broker::IsFinal(task.state)) return JobState::kPending;
    if (task.state == TaskState::kOk) ++ok;
  }
  if (ok == job.tasks.size()) return JobState::kOk;
  return ok == 0 ? JobState::kFail : JobState::kPartialFail;
}

JobState EvaluateOne(const JobRecord& job) {
  for (const TaskRecord& task : job.tasks) {
    if (task.state == TaskState::kOk) return JobState::kOk;
  }
  for (const TaskRecord& task : job.tasks) {
    // A hard failure ends the job (the original left it PENDING for ever).
    if (broker::IsFinal(task.state) && !broker::IsSoft(task.state))
      return JobState::kFail;
  }
  for (const TaskRecord& task : job.tasks) {
    if (!broker::IsFinal(task.state)) return JobState::kPending;
  }
  return JobState::kFail;  // Every attempt failed softly; nobody is left.
}

}  // namespace

JobState EvaluateJob(const JobRecord& job, bool cancelled) {
  JobState state =
      job.scope == Scope::kAll ? EvaluateAll(job) : EvaluateOne(job);
  if (cancelled && state != JobState::kPending) return JobState::kCancelled;
  return state;
}

}  // namespace orchestra::conductor
