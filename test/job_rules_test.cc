// Tests for conductor/job_rules.h: which players a `one` job may still try,
// and a job's state from its tasks (DESIGN.md section 5), including the
// original's `one` job that stayed PENDING for ever (DESIGN.md 12.1).

#include "conductor/job_rules.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace orchestra::conductor {
namespace {

using broker::JobRecord;
using broker::JobState;
using broker::Scope;
using broker::TaskRecord;
using broker::TaskState;

class JobRulesTest : public testing::Test {
 protected:
  // A job of `scope` over `players` with no tasks yet.
  static JobRecord Job(Scope scope, std::vector<std::string> players) {
    JobRecord job;
    job.scope = scope;
    job.players = std::move(players);
    return job;
  }
  static void AddTask(JobRecord* job, const std::string& player,
                      TaskState state) {
    TaskRecord task;
    task.task = static_cast<broker::TaskId>(job->tasks.size() + 1);
    task.player = player;
    task.attempt = task.task;
    task.state = state;
    job->tasks.push_back(task);
  }
  // An `all` job over web-1..web-N whose tasks are in `states`.
  static JobRecord AllJob(const std::vector<TaskState>& states) {
    JobRecord job = Job(Scope::kAll, {});
    for (TaskState state : states) {
      job.players.push_back("web-" + std::to_string(job.players.size() + 1));
      AddTask(&job, job.players.back(), state);
    }
    return job;
  }
  static JobState Evaluate(const JobRecord& job) {
    return EvaluateJob(job, false);
  }
};

TEST_F(JobRulesTest, AllJobIsPendingWhileAnyTaskIsOpen) {
  for (TaskState open :
       {TaskState::kQueued, TaskState::kDispatched, TaskState::kRunning}) {
    EXPECT_EQ(JobState::kPending, Evaluate(AllJob({TaskState::kOk, open})))
        << broker::TaskStateName(open);
  }
}

TEST_F(JobRulesTest, AllJobIsOkWhenEveryTaskIsOk) {
  EXPECT_EQ(JobState::kOk,
            Evaluate(AllJob({TaskState::kOk, TaskState::kOk, TaskState::kOk})));
}

TEST_F(JobRulesTest, AllJobWithSomeOkAndSomeNotIsPartialFail) {
  EXPECT_EQ(JobState::kPartialFail,
            Evaluate(AllJob({TaskState::kOk, TaskState::kUnkScore})));
  EXPECT_EQ(JobState::kPartialFail,
            Evaluate(AllJob({TaskState::kLost, TaskState::kOk})));
}

TEST_F(JobRulesTest, AllJobWithNoOkTaskIsFail) {
  EXPECT_EQ(JobState::kFail,
            Evaluate(AllJob({TaskState::kFail, TaskState::kExpired,
                             TaskState::kTimeout, TaskState::kAborted})));
}

// DESIGN.md section 13: once more tasks than `max_errors` ended other than
// OK, the rest end SKIPPED. The job's state follows the usual rules: a
// SKIPPED task is final and not OK, so the job is PARTIAL_FAIL when some
// task is OK, else FAIL.
TEST_F(JobRulesTest, AllJobWithSkippedTasksIsPartialFailOrFail) {
  EXPECT_EQ(JobState::kPartialFail,
            Evaluate(AllJob({TaskState::kOk, TaskState::kOk, TaskState::kFail,
                             TaskState::kSkipped, TaskState::kSkipped})));
  EXPECT_EQ(JobState::kFail,
            Evaluate(AllJob({TaskState::kTimeout, TaskState::kSkipped,
                             TaskState::kSkipped})));
  // Even with nothing else failed (it is the rule, not the count).
  EXPECT_EQ(JobState::kPartialFail,
            Evaluate(AllJob({TaskState::kOk, TaskState::kSkipped})));
  EXPECT_EQ(JobState::kFail, Evaluate(AllJob({TaskState::kSkipped})));
}

// Dispatched tasks run to their end: the job waits for them.
TEST_F(JobRulesTest, AllJobWithSkippedTasksWaitsForItsRunningOnes) {
  EXPECT_EQ(JobState::kPending,
            Evaluate(AllJob({TaskState::kFail, TaskState::kFail,
                             TaskState::kRunning, TaskState::kSkipped})));
}

TEST_F(JobRulesTest, CancelledJobWithSkippedTasksIsCancelled) {
  EXPECT_EQ(JobState::kCancelled,
            EvaluateJob(AllJob({TaskState::kFail, TaskState::kSkipped,
                                TaskState::kCancelled}),
                        true));
}

// A `one` job never has one (rollout limits are refused for it); if it
// did, SKIPPED is not soft: the job would end FAIL, not try another player.
TEST_F(JobRulesTest, OneJobWithASkippedTaskIsFail) {
  JobRecord job = Job(Scope::kOne, {"web-1", "web-2"});
  AddTask(&job, "web-1", TaskState::kSkipped);
  EXPECT_EQ(JobState::kFail, Evaluate(job));
  EXPECT_EQ((std::vector<std::string>{"web-1", "web-2"}), EligiblePlayers(job));
}

TEST_F(JobRulesTest, SkippedIsFinalNotSoftAndNeverAPlayersResult) {
  EXPECT_TRUE(broker::IsFinal(TaskState::kSkipped));
  EXPECT_FALSE(broker::IsSoft(TaskState::kSkipped));
  EXPECT_FALSE(broker::IsPlayerResultState(TaskState::kSkipped));
  EXPECT_STREQ("SKIPPED", broker::TaskStateName(TaskState::kSkipped));
  TaskState parsed = TaskState::kQueued;
  ASSERT_TRUE(broker::ParseTaskState("SKIPPED", &parsed));
  EXPECT_EQ(TaskState::kSkipped, parsed);
}

TEST_F(JobRulesTest, OneJobIsOkWhenAnAttemptIsOk) {
  JobRecord job = Job(Scope::kOne, {"web-1", "web-2"});
  AddTask(&job, "web-1", TaskState::kHostError);
  AddTask(&job, "web-2", TaskState::kOk);
  EXPECT_EQ(JobState::kOk, Evaluate(job));
}

TEST_F(JobRulesTest, OneJobIsPendingWhileItsAttemptIsOpen) {
  JobRecord job = Job(Scope::kOne, {"web-1", "web-2"});
  AddTask(&job, "web-1", TaskState::kUnkScore);
  AddTask(&job, "", TaskState::kQueued);
  EXPECT_EQ(JobState::kPending, Evaluate(job));
}

// Regression, DESIGN.md 12.1: in the original, a `one` job listing two or
// more players whose score failed on the first player it ran on was neither
// finished nor retried: the job stayed PENDING for ever and every `wait` on
// it hung. A non-zero exit (FAIL) is a hard failure: the job must end FAIL.
TEST_F(JobRulesTest, OneJobWhoseScoreFailsOnOneOfTwoPlayersEndsFail) {
  JobRecord job = Job(Scope::kOne, {"web-1", "web-2"});
  AddTask(&job, "web-1", TaskState::kFail);
  EXPECT_EQ(JobState::kFail, Evaluate(job));
}

TEST_F(JobRulesTest, OneJobEndsFailOnEveryHardFinalState) {
  for (TaskState hard : {TaskState::kFail, TaskState::kTimeout,
                         TaskState::kCancelled, TaskState::kLost}) {
    JobRecord job = Job(Scope::kOne, {"web-1", "web-2", "web-3"});
    AddTask(&job, "web-1", TaskState::kExpired);
    AddTask(&job, "web-2", hard);
    EXPECT_EQ(JobState::kFail, Evaluate(job)) << broker::TaskStateName(hard);
  }
}

TEST_F(JobRulesTest, OneJobWhoseAttemptsAllEndedSoftlyIsFail) {
  JobRecord job = Job(Scope::kOne, {"web-1", "web-2"});
  AddTask(&job, "web-1", TaskState::kUnkScore);
  AddTask(&job, "web-2", TaskState::kAborted);
  EXPECT_EQ(JobState::kFail, Evaluate(job));
}

TEST_F(JobRulesTest, SoftStatesAreExactlyThoseOfDesign) {
  for (TaskState s : {TaskState::kUnkScore, TaskState::kHostError,
                      TaskState::kAborted, TaskState::kExpired})
    EXPECT_TRUE(broker::IsSoft(s)) << broker::TaskStateName(s);
  for (TaskState s :
       {TaskState::kQueued, TaskState::kDispatched, TaskState::kRunning,
        TaskState::kOk, TaskState::kFail, TaskState::kTimeout,
        TaskState::kCancelled, TaskState::kLost, TaskState::kSkipped})
    EXPECT_FALSE(broker::IsSoft(s)) << broker::TaskStateName(s);
}

TEST_F(JobRulesTest, EligiblePlayersExcludeThoseWithASoftFailure) {
  JobRecord job = Job(Scope::kOne, {"web-1", "web-2", "web-3", "web-4"});
  AddTask(&job, "web-3", TaskState::kUnkScore);
  AddTask(&job, "web-1", TaskState::kHostError);
  AddTask(&job, "", TaskState::kExpired);
  EXPECT_EQ((std::vector<std::string>{"web-2", "web-4"}), EligiblePlayers(job));
}

TEST_F(JobRulesTest, EligiblePlayersKeepListOrderAndOpenAttemptsPlayer) {
  JobRecord job = Job(Scope::kOne, {"zulu", "alpha", "mike"});
  AddTask(&job, "alpha", TaskState::kRunning);
  EXPECT_EQ((std::vector<std::string>{"zulu", "alpha", "mike"}),
            EligiblePlayers(job));
}

TEST_F(JobRulesTest, CancelledFinishedJobIsCancelled) {
  EXPECT_EQ(JobState::kCancelled,
            EvaluateJob(AllJob({TaskState::kOk, TaskState::kCancelled}), true));
  JobRecord job = Job(Scope::kOne, {"web-1"});
  AddTask(&job, "", TaskState::kCancelled);
  EXPECT_EQ(JobState::kCancelled, EvaluateJob(job, true));
}

TEST_F(JobRulesTest, CancelledJobStaysPendingWhileATaskRuns) {
  EXPECT_EQ(
      JobState::kPending,
      EvaluateJob(AllJob({TaskState::kCancelled, TaskState::kRunning}), true));
}

}  // namespace
}  // namespace orchestra::conductor
