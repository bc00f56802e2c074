// Tests for conductor/job_board.h in a Core (a real JobStore on a temp file,
// a real Scheduler) with a FakeClock: how tasks move through the states of
// DESIGN.md section 5 on submits, hellos, results, cancels, removals, resends,
// delivery timeouts and a restart of the conductor.

#include "conductor/job_board.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "common/log.h"
#include "test/conductor_samples.h"
#include "test/fake_clock.h"
#include "test/test_util.h"

namespace orchestra::conductor {
namespace {

using broker::HeldTask;
using broker::JobState;
using broker::Scope;
using broker::TaskState;
using common::Result;

class JobBoardTest : public testing::Test {
 protected:
  void SetUp() override {
    common::SetLogSinkForTest([](common::LogLevel, std::string_view) {});
    Restart();
  }
  void TearDown() override { common::SetLogSinkForTest(nullptr); }

  // A conductor restart: the store is reopened (losing an uncommitted
  // turn), the scheduler and the board start empty.
  void Restart() {
    ASSERT_NO_FATAL_FAILURE(
        test::OpenCore(dir_.File("conductor.db"), &clock_, listed_, &core_));
    store_ = core_->store();
    scheduler_ = &core_->scheduler();
    board_ = core_->board();
  }
  // Only `players` are in the players file from now on.
  void List(std::vector<std::string> players) {
    listed_ = std::move(players);
    core_->InstallTrust(test::Listing(listed_));
  }
  // `player` is removed from the players file.
  void Delist(const std::string& player) {
    std::vector<std::string> rest;
    for (const std::string& name : listed_)
      if (name != player) rest.push_back(name);
    List(std::move(rest));
  }
  void EndTurn() { EXPECT_OK(store_->Commit()); }

  JobId Submit(Scope scope, std::vector<std::string> players,
               std::optional<int64_t> delivery_timeout_s = std::nullopt) {
    broker::SubmitRequest request =
        test::SampleSubmit(scope, std::move(players));
    request.params = {{"target", "/srv"}};
    request.timeout_s = 30;
    request.delivery_timeout_s = delivery_timeout_s;
    Result<JobId> id = board_->Submit(request, "tester", 0);
    EXPECT_OK(id.status());
    EndTurn();
    return id.ok() ? id.value() : 0;
  }
  void Hello(const std::string& player, int slots,
             std::vector<HeldTask> held = {}) {
    EXPECT_OK(
        board_->OnHello(player, test::SampleHello(slots, std::move(held))));
    EndTurn();
  }
  void Accept(const std::string& player, TaskId task) {
    EXPECT_OK(board_->OnAccepted(player, task));
    EndTurn();
  }
  broker::TaskResult ResultOf(TaskId task, TaskState state = TaskState::kOk) {
    return test::SampleResult(task, state, clock_.Now());
  }
  void Report(const std::string& player, TaskId task, TaskState state) {
    EXPECT_OK(board_->OnResult(player, ResultOf(task, state)));
    EndTurn();
  }
  // Removes `player` from the players file and tells the board.
  void Unlist(const std::string& player) {
    Delist(player);
    EXPECT_OK(board_->AbortPlayer(player));
    EXPECT_OK(board_->OnDisconnect(player));
    EndTurn();
  }
  void Expire(const std::set<std::string>& connected = {}) {
    EXPECT_OK(board_->ExpireUndelivered(
        [&](const std::string& name) { return connected.count(name) != 0; }));
    EndTurn();
  }

  // The job as the database holds it (what a restart would find).
  // The job as stored once the turn so far is committed.
  JobRecord Stored(JobId id) {
    EXPECT_OK(store_->Commit());
    return test::StoredJob(store_, id).value_or(JobRecord());
  }
  JobRecord Job(JobId id) { return Stored(id); }
  TaskRecord Task(JobId id, size_t i) {
    JobRecord job = Job(id);
    return i < job.tasks.size() ? job.tasks[i] : TaskRecord();
  }
  TaskId TaskOf(JobId id, size_t i) { return Task(id, i).task; }
  TaskState StateOf(JobId id, size_t i) { return Task(id, i).state; }

  static std::string Run(TaskId task, const std::string& player) {
    return "run " + std::to_string(task) + "@" + player;
  }
  static std::string Stop(TaskId task, const std::string& player) {
    return "cancel " + std::to_string(task) + "@" + player;
  }
  // The orders since the last call, as Run() and Stop() spell them.
  std::vector<std::string> Orders() {
    std::vector<std::string> out;
    for (const PlayerOrder& order : board_->TakeOrders()) {
      if (const auto* run = std::get_if<broker::RunTask>(&order.message))
        out.push_back(Run(run->task, order.player));
      else if (const auto* c = std::get_if<broker::CancelTask>(&order.message))
        out.push_back(Stop(c->task, order.player));
      else
        out.push_back("other");
    }
    return out;
  }
  // The jobs finished since the last call, as "ID STATE".
  std::vector<std::string> Finished() {
    std::vector<std::string> out;
    for (JobId id : board_->TakeFinishedJobs())
      out.push_back(std::to_string(id) + " " +
                    broker::JobStateName(Job(id).state));
    return out;
  }
  static std::string Done(JobId id, JobState state) {
    return std::to_string(id) + " " + broker::JobStateName(state);
  }
  using Strings = std::vector<std::string>;

  test::FakeClock clock_;
  std::vector<std::string> listed_ = {"web-1", "web-2", "web-3"};
  test::TempDir dir_;
  std::unique_ptr<Core> core_;
  JobStore* store_ = nullptr;
  const Scheduler* scheduler_ = nullptr;
  JobBoard* board_ = nullptr;
};

// ---- submit and dispatch ----

TEST_F(JobBoardTest, SubmittedJobIsDurableAndQueuedUntilAHello) {
  JobId id = Submit(Scope::kAll, {"web-1", "web-2"});
  EXPECT_TRUE(Orders().empty());
  EXPECT_EQ(JobState::kPending, Stored(id).state);
  EXPECT_EQ(TaskState::kQueued, Stored(id).tasks[1].state);
  EXPECT_EQ("tester", Stored(id).submitted_by);
  EXPECT_EQ(1u, board_->active_jobs());
}

TEST_F(JobBoardTest, AllJobTasksGoOnlyToPlayersThatSaidHello) {
  JobId id = Submit(Scope::kAll, {"web-1", "web-2"});
  Hello("web-2", 4);
  EXPECT_EQ(Strings{Run(TaskOf(id, 1), "web-2")}, Orders());
  EXPECT_EQ(TaskState::kQueued, StateOf(id, 0));
  EXPECT_EQ(TaskState::kDispatched, Stored(id).tasks[1].state);
  EXPECT_EQ(clock_.Now(), Task(id, 1).dispatched_at);
}

TEST_F(JobBoardTest, TaskOrderCarriesJobScoreParamsAndTimeout) {
  Hello("web-1", 4);
  JobId id = Submit(Scope::kAll, {"web-1"});
  std::vector<PlayerOrder> orders = board_->TakeOrders();
  ASSERT_EQ(1u, orders.size());
  const auto* run = std::get_if<broker::RunTask>(&orders[0].message);
  ASSERT_NE(nullptr, run);
  EXPECT_EQ(id, run->job);
  EXPECT_EQ("backup", run->score);
  EXPECT_EQ((broker::StringMap{{"target", "/srv"}}), run->params);
  EXPECT_EQ(std::optional<int64_t>(30), run->timeout_s);
}

// The params of the RunTask orders, in order.
std::vector<broker::StringMap> ParamsOf(
    const std::vector<PlayerOrder>& orders) {
  std::vector<broker::StringMap> out;
  for (const PlayerOrder& order : orders) {
    if (const auto* run = std::get_if<broker::RunTask>(&order.message))
      out.push_back(run->params);
  }
  return out;
}

// A job waiting for an offline player (no delivery timeout: for ever)
// holds its task rows in memory, not its params; each order still carries
// its own job's params, read from the store, after a restart as well.
TEST_F(JobBoardTest, AWaitingJobsParamsAreInTheStoreNotInMemory) {
  broker::SubmitRequest request = test::SampleSubmit(Scope::kAll, {});
  std::vector<JobId> ids;
  for (const char* player : {"web-1", "web-2", "web-1"}) {
    request.players = {player};
    request.params = {{"big", std::string(64 << 10, 'a' + ids.size())}};
    Result<JobId> id = board_->Submit(request, "tester", 0);
    ASSERT_OK(id.status());
    ids.push_back(id.value());
    EndTurn();
  }
  for (JobId id : ids) {
    ASSERT_NE(nullptr, board_->FindActive(id));
    EXPECT_TRUE(board_->FindActive(id)->params.empty());
    EXPECT_EQ(size_t{64 << 10}, Job(id).params["big"].size());
  }
  Restart();
  ASSERT_OK(board_->Recover());
  EXPECT_TRUE(board_->FindActive(ids[0])->params.empty());
  Hello("web-1", 4);
  Hello("web-2", 4);
  std::vector<PlayerOrder> sent = board_->TakeOrders();
  EXPECT_OK(board_->ResendUnaccepted(0));  // Every job's, in hash order
  std::vector<PlayerOrder> resent = board_->TakeOrders();
  ASSERT_EQ(3u, sent.size());
  ASSERT_EQ(3u, resent.size());
  for (const auto& orders : {sent, resent}) {
    for (const PlayerOrder& order : orders) {
      const auto& run = std::get<broker::RunTask>(order.message);
      const char letter =
          'a' + (std::find(ids.begin(), ids.end(), run.job) - ids.begin());
      EXPECT_EQ(std::string(64 << 10, letter), run.params.at("big"))
          << "job " << run.job;
    }
  }
}

// An ended task's outputs are written, then dropped from memory: an `all`
// job does not hold every output until its last task ends. Status reads
// them from the store.
TEST_F(JobBoardTest, AnEndedTasksOutputsAreInTheStoreNotInMemory) {
  Hello("web-1", 4);
  JobId id = Submit(Scope::kAll, {"web-1", "web-2"});
  broker::TaskResult result = ResultOf(TaskOf(id, 0));
  result.stdout_text = std::string(60000, 'o');
  result.response = {{"k", "v"}};
  EXPECT_OK(board_->OnResult("web-1", result));
  EndTurn();
  const JobRecord* active = board_->FindActive(id);
  ASSERT_NE(nullptr, active);
  EXPECT_EQ(TaskState::kOk, active->tasks[0].state);
  EXPECT_TRUE(active->tasks[0].stdout_text.empty());
  EXPECT_TRUE(active->tasks[0].response.empty());
  EXPECT_EQ(result.stdout_text, Task(id, 0).stdout_text);
  EXPECT_EQ(result.response, Task(id, 0).response);
}

// A turn whose commit failed is forgotten (its job ids are not used again):
// the params of the new job, not the forgotten one's, go out.
TEST_F(JobBoardTest, ParamsAfterAFailedCommitAreTheNewJobs) {
  Hello("web-1", 4);
  broker::SubmitRequest request = test::SampleSubmit(Scope::kAll, {"web-1"});
  request.params = {{"which", "forgotten"}};
  ASSERT_OK(board_->Submit(request, "tester", 0).status());
  board_->TakeOrders();
  store_->Abandon();
  ASSERT_OK(board_->Reload());
  Hello("web-1", 4);
  request.params = {{"which", "kept"}};
  ASSERT_OK(board_->Submit(request, "tester", 0).status());
  const std::vector<broker::StringMap> kept = {{{"which", "kept"}}};
  EXPECT_EQ(kept, ParamsOf(board_->TakeOrders()));
}

TEST_F(JobBoardTest, PlayerNeverGetsMoreTasksThanSlots) {
  Hello("web-1", 1);
  JobId a = Submit(Scope::kAll, {"web-1"});
  JobId b = Submit(Scope::kAll, {"web-1"});
  EXPECT_EQ(Strings{Run(TaskOf(a, 0), "web-1")}, Orders());
  Report("web-1", TaskOf(a, 0), TaskState::kOk);
  EXPECT_EQ(Strings{Run(TaskOf(b, 0), "web-1")}, Orders());
  EXPECT_EQ(1u, board_->Unfinished("web-1"));
}

TEST_F(JobBoardTest, AcceptedTaskIsRunning) {
  Hello("web-1", 4);
  JobId id = Submit(Scope::kAll, {"web-1"});
  Accept("web-2", TaskOf(id, 0));
  EXPECT_EQ(TaskState::kDispatched, StateOf(id, 0)) << "another player";
  Accept("web-1", TaskOf(id, 0));
  EXPECT_EQ(TaskState::kRunning, Stored(id).tasks[0].state);
}

// ---- results ----

TEST_F(JobBoardTest, ResultsFinishAnAllJob) {
  Hello("web-1", 4);
  Hello("web-2", 4);
  JobId id = Submit(Scope::kAll, {"web-1", "web-2"});
  Report("web-1", TaskOf(id, 0), TaskState::kOk);
  EXPECT_TRUE(Finished().empty());
  Report("web-2", TaskOf(id, 1), TaskState::kOk);
  EXPECT_EQ(Strings{Done(id, JobState::kOk)}, Finished());
  EXPECT_EQ(nullptr, board_->FindActive(id));
  EXPECT_EQ(JobState::kOk, Stored(id).state);
  EXPECT_EQ(clock_.Now(), Stored(id).finished_at);
}

// An `all` job counts its open tasks instead of rescanning them on every
// result: it must still finish exactly when its last task ends, whatever
// the order, also after a restart recovered it half done.
TEST_F(JobBoardTest, AllJobFinishesWithItsLastTaskInAnyOrder) {
  Hello("web-1", 4);
  Hello("web-2", 4);
  Hello("web-3", 4);
  JobId id = Submit(Scope::kAll, {"web-1", "web-2", "web-3"});
  Report("web-3", TaskOf(id, 2), TaskState::kOk);
  Report("web-1", TaskOf(id, 0), TaskState::kFail);
  EXPECT_TRUE(Finished().empty());
  Report("web-2", TaskOf(id, 1), TaskState::kOk);
  EXPECT_EQ(Strings{Done(id, JobState::kPartialFail)}, Finished());
}

TEST_F(JobBoardTest, RecoveredAllJobFinishesWithItsLastTask) {
  Hello("web-1", 4);
  Hello("web-2", 4);
  JobId id = Submit(Scope::kAll, {"web-1", "web-2"});
  Report("web-2", TaskOf(id, 1), TaskState::kOk);
  Restart();
  ASSERT_OK(board_->Recover());
  Hello("web-1", 4);
  Report("web-1", TaskOf(id, 0), TaskState::kOk);
  EXPECT_EQ(Strings{Done(id, JobState::kOk)}, Finished());
}

TEST_F(JobBoardTest, ResultFieldsAreStored) {
  Hello("web-1", 4);
  JobId id = Submit(Scope::kAll, {"web-1"});
  Report("web-1", TaskOf(id, 0), TaskState::kFail);
  TaskRecord task = Stored(id).tasks[0];
  EXPECT_EQ(TaskState::kFail, task.state);
  EXPECT_EQ(std::optional<int64_t>(1), task.exit_code);
  EXPECT_EQ("done", task.stdout_text);
  EXPECT_EQ(clock_.Now(), task.finished_at);
  EXPECT_EQ(Strings{Done(id, JobState::kFail)}, Finished());
}

TEST_F(JobBoardTest, AllJobWithSomeFailuresIsPartialFail) {
  Hello("web-1", 4);
  Hello("web-2", 4);
  JobId id = Submit(Scope::kAll, {"web-1", "web-2"});
  Report("web-1", TaskOf(id, 0), TaskState::kOk);
  Report("web-2", TaskOf(id, 1), TaskState::kUnkScore);
  EXPECT_EQ(Strings{Done(id, JobState::kPartialFail)}, Finished());
}

TEST_F(JobBoardTest, ResultFromAnotherPlayerIsIgnored) {
  Hello("web-1", 4);
  JobId id = Submit(Scope::kAll, {"web-1"});
  Report("web-2", TaskOf(id, 0), TaskState::kOk);
  EXPECT_EQ(TaskState::kDispatched, StateOf(id, 0));
  EXPECT_TRUE(Finished().empty());
}

TEST_F(JobBoardTest, DuplicateResultForFinishedTaskChangesNothing) {
  Hello("web-1", 4);
  JobId id = Submit(Scope::kAll, {"web-1"});
  TaskId task = TaskOf(id, 0);
  Report("web-1", task, TaskState::kOk);
  Finished();
  clock_.Advance(5000);
  Report("web-1", task, TaskState::kFail);
  EXPECT_TRUE(Finished().empty());
  EXPECT_EQ(JobState::kOk, Stored(id).state);
  EXPECT_EQ(TaskState::kOk, Stored(id).tasks[0].state);
  EXPECT_EQ(clock_.Now() - 5000, Stored(id).tasks[0].finished_at);
}

// ---- `one` jobs ----

TEST_F(JobBoardTest, OneJobGoesToPlayerWithMostFreeSlots) {
  Hello("web-1", 1);
  Hello("web-2", 3);
  JobId id = Submit(Scope::kOne, {"web-1", "web-2"});
  EXPECT_EQ(Strings{Run(TaskOf(id, 0), "web-2")}, Orders());
  EXPECT_EQ("web-2", Stored(id).tasks[0].player);
}

TEST_F(JobBoardTest, OneJobMovesToNextPlayerAfterSoftFailures) {
  Hello("web-1", 4);
  Hello("web-2", 2);
  JobId id = Submit(Scope::kOne, {"web-1", "web-2"});
  Orders();
  Report("web-1", TaskOf(id, 0), TaskState::kUnkScore);
  EXPECT_EQ(Strings{Run(TaskOf(id, 1), "web-2")}, Orders());
  EXPECT_EQ(2, Task(id, 1).attempt);
  EXPECT_TRUE(Finished().empty());
  Report("web-2", TaskOf(id, 1), TaskState::kHostError);
  EXPECT_EQ(Strings{Done(id, JobState::kFail)}, Finished());
  EXPECT_EQ(2u, Stored(id).tasks.size()) << "nobody is left to try";
}

TEST_F(JobBoardTest, OneJobIsOkAfterASoftFailureAndASuccess) {
  Hello("web-1", 4);
  Hello("web-2", 2);
  JobId id = Submit(Scope::kOne, {"web-1", "web-2"});
  Report("web-1", TaskOf(id, 0), TaskState::kHostError);
  Report("web-2", TaskOf(id, 1), TaskState::kOk);
  EXPECT_EQ(Strings{Done(id, JobState::kOk)}, Finished());
}

// Regression, DESIGN.md 12.1: the original left a `one` job with two or more
// players PENDING for ever when its score failed on the first player. A hard
// failure ends the job FAIL at once, and no other player is tried.
TEST_F(JobBoardTest, OneJobEndsFailOnAHardFailure) {
  Hello("web-1", 4);
  Hello("web-2", 2);
  JobId id = Submit(Scope::kOne, {"web-1", "web-2"});
  Orders();
  Report("web-1", TaskOf(id, 0), TaskState::kFail);
  EXPECT_EQ(Strings{Done(id, JobState::kFail)}, Finished());
  EXPECT_TRUE(Orders().empty());
  EXPECT_EQ(1u, Stored(id).tasks.size());
}

TEST_F(JobBoardTest, OneJobNextAttemptWaitsForAnOfflinePlayer) {
  Hello("web-1", 4);
  JobId id = Submit(Scope::kOne, {"web-1", "web-2"});
  Report("web-1", TaskOf(id, 0), TaskState::kUnkScore);
  EXPECT_EQ(TaskState::kQueued, StateOf(id, 1));
  Orders();
  Hello("web-2", 1);
  EXPECT_EQ(Strings{Run(TaskOf(id, 1), "web-2")}, Orders());
}

// ---- hello reconciliation ----

TEST_F(JobBoardTest, DispatchedTaskThePlayerHoldsBecomesRunning) {
  Hello("web-1", 4);
  JobId id = Submit(Scope::kAll, {"web-1"});
  Orders();
  EXPECT_OK(board_->OnDisconnect("web-1"));
  Hello("web-1", 4, {{TaskOf(id, 0), false}});
  EXPECT_EQ(TaskState::kRunning, Stored(id).tasks[0].state);
  EXPECT_TRUE(Orders().empty());
}

TEST_F(JobBoardTest, DispatchedTaskThePlayerDoesNotHoldIsResent) {
  Hello("web-1", 4);
  JobId id = Submit(Scope::kAll, {"web-1"});
  Orders();
  EXPECT_OK(board_->OnDisconnect("web-1"));
  Hello("web-1", 4);
  EXPECT_EQ(Strings{Run(TaskOf(id, 0), "web-1")}, Orders());
  EXPECT_EQ(TaskState::kDispatched, StateOf(id, 0));
}

TEST_F(JobBoardTest, RunningTaskThePlayerForgotEndsLost) {
  Hello("web-1", 4);
  JobId id = Submit(Scope::kAll, {"web-1"});
  Accept("web-1", TaskOf(id, 0));
  EXPECT_OK(board_->OnDisconnect("web-1"));
  Hello("web-1", 4);
  EXPECT_EQ(TaskState::kLost, Stored(id).tasks[0].state);
  EXPECT_EQ(Strings{Done(id, JobState::kFail)}, Finished());
  EXPECT_EQ(0u, board_->Unfinished("web-1"));
}

TEST_F(JobBoardTest, UnknownRunningTaskThePlayerHoldsIsCancelled) {
  Hello("web-1", 4, {{9001, false}, {9002, true}});
  EXPECT_EQ(Strings{Stop(9001, "web-1")}, Orders());
}

TEST_F(JobBoardTest, HeldTaskOfACancelledJobIsCancelledAgain) {
  Hello("web-1", 4);
  JobId id = Submit(Scope::kAll, {"web-1"});
  Accept("web-1", TaskOf(id, 0));
  ASSERT_OK(board_->Cancel(id));
  Orders();
  Hello("web-1", 4, {{TaskOf(id, 0), false}});
  EXPECT_EQ(Strings{Stop(TaskOf(id, 0), "web-1")}, Orders());
}

// A second session of a player replaces the first (DESIGN.md 4) without a
// disconnect in between. Ending the tasks it forgot must not hand their
// slots out twice: a 1-slot player gets one task, not two.
TEST_F(JobBoardTest, NewSessionThatForgotATaskStillGetsAtMostSlotsTasks) {
  Hello("web-1", 1);
  JobId a = Submit(Scope::kAll, {"web-1"});
  Accept("web-1", TaskOf(a, 0));
  JobId b = Submit(Scope::kAll, {"web-1"});
  JobId c = Submit(Scope::kAll, {"web-1"});
  Orders();
  Hello("web-1", 1);
  EXPECT_EQ(Strings{Run(TaskOf(b, 0), "web-1")}, Orders());
  EXPECT_EQ(1u, board_->Unfinished("web-1"));
  EXPECT_EQ(TaskState::kQueued, StateOf(c, 0));
}

TEST_F(JobBoardTest, DisconnectedPlayerGetsNoTasksUntilItsNextHello) {
  Hello("web-1", 4);
  EXPECT_OK(board_->OnDisconnect("web-1"));
  JobId id = Submit(Scope::kAll, {"web-1"});
  EXPECT_TRUE(Orders().empty());
  Hello("web-1", 4);
  EXPECT_EQ(Strings{Run(TaskOf(id, 0), "web-1")}, Orders());
}

// ---- removal of a player ----

TEST_F(JobBoardTest, AbortPlayerEndsItsTasksAborted) {
  Hello("web-1", 4);
  Hello("web-2", 4);
  JobId id = Submit(Scope::kAll, {"web-1", "web-2"});
  Accept("web-1", TaskOf(id, 0));
  Unlist("web-1");
  EXPECT_EQ(TaskState::kAborted, Stored(id).tasks[0].state);
  EXPECT_EQ(TaskState::kDispatched, StateOf(id, 1));
  Report("web-2", TaskOf(id, 1), TaskState::kOk);
  EXPECT_EQ(Strings{Done(id, JobState::kPartialFail)}, Finished());
}

TEST_F(JobBoardTest, AbortPlayerMovesAOneJobOn) {
  Hello("web-1", 4);
  Hello("web-2", 2);
  JobId id = Submit(Scope::kOne, {"web-1", "web-2"});
  Orders();
  Unlist("web-1");
  EXPECT_EQ(TaskState::kAborted, StateOf(id, 0));
  EXPECT_EQ(Strings{Run(TaskOf(id, 1), "web-2")}, Orders());
}

TEST_F(JobBoardTest, AbortPlayerEndsAQueuedOneJobWithNobodyLeft) {
  JobId id = Submit(Scope::kOne, {"web-1"});
  Unlist("web-1");
  EXPECT_EQ(TaskState::kAborted, Stored(id).tasks[0].state);
  EXPECT_EQ(Strings{Done(id, JobState::kFail)}, Finished());
}

TEST_F(JobBoardTest, AbortPlayerRequeuesAOneJobWithoutThatPlayer) {
  Hello("web-1", 1);
  Hello("web-2", 1);
  Submit(Scope::kAll, {"web-1", "web-2"});
  JobId id = Submit(Scope::kOne, {"web-1", "web-2"});
  Orders();
  Unlist("web-1");
  EXPECT_TRUE(Orders().empty());
  EXPECT_EQ(TaskState::kQueued, StateOf(id, 0));
  EXPECT_EQ(0, scheduler_->Busy("web-1"));
}

// AbortPlayer must not place tasks on the player it removes, even when
// nobody told the scheduler that the player left.
TEST_F(JobBoardTest, AbortPlayerNeverDispatchesToTheRemovedPlayer) {
  Hello("web-1", 1);
  Hello("web-2", 1);
  JobId a = Submit(Scope::kAll, {"web-1"});
  Submit(Scope::kAll, {"web-2"});
  JobId one = Submit(Scope::kOne, {"web-1", "web-2"});
  Orders();
  Delist("web-1");
  ASSERT_OK(board_->AbortPlayer("web-1"));
  EXPECT_EQ(TaskState::kAborted, StateOf(a, 0));
  EXPECT_TRUE(Orders().empty());
  EXPECT_EQ(TaskState::kQueued, StateOf(one, 0));
}

// ---- cancel ----

TEST_F(JobBoardTest, CancelEndsQueuedTasksAtOnce) {
  JobId id = Submit(Scope::kAll, {"web-1", "web-2"});
  ASSERT_OK(board_->Cancel(id));
  EndTurn();
  EXPECT_EQ(TaskState::kCancelled, Stored(id).tasks[0].state);
  EXPECT_EQ(Strings{Done(id, JobState::kCancelled)}, Finished());
  EXPECT_TRUE(Orders().empty());
  EXPECT_FALSE(scheduler_->IsQueued(Stored(id).tasks[1].task));
}

TEST_F(JobBoardTest, CancelStopsRunningTasksAndWaitsForTheirResults) {
  Hello("web-1", 4);
  JobId id = Submit(Scope::kAll, {"web-1"});
  Accept("web-1", TaskOf(id, 0));
  Orders();
  ASSERT_OK(board_->Cancel(id));
  EXPECT_EQ(Strings{Stop(TaskOf(id, 0), "web-1")}, Orders());
  EXPECT_EQ(TaskState::kRunning, StateOf(id, 0));
  EXPECT_TRUE(Finished().empty());
  Report("web-1", TaskOf(id, 0), TaskState::kCancelled);
  EXPECT_EQ(Strings{Done(id, JobState::kCancelled)}, Finished());
}

TEST_F(JobBoardTest, CancelOfADispatchedTaskStopsItAndFreesTheSlot) {
  Hello("web-1", 1);
  JobId a = Submit(Scope::kAll, {"web-1"});
  JobId b = Submit(Scope::kAll, {"web-1"});
  Orders();
  ASSERT_OK(board_->Cancel(a));
  EXPECT_EQ(TaskState::kCancelled, Task(a, 0).state);
  EXPECT_EQ((Strings{Stop(TaskOf(a, 0), "web-1"), Run(TaskOf(b, 0), "web-1")}),
            Orders());
}

// An `all` job may list a player twice. Cancelling it frees the slot of its
// dispatched task while the slot is first handed to its own second task,
// which the cancel then ends too: the slot must pass on to the next job in
// the same turn, not wait for some later event.
TEST_F(JobBoardTest, CancelPassesAFreedSlotOnInTheSameTurn) {
  Hello("web-1", 1);
  JobId a = Submit(Scope::kAll, {"web-1", "web-1"});
  JobId b = Submit(Scope::kAll, {"web-1"});
  Orders();
  ASSERT_OK(board_->Cancel(a));
  EXPECT_EQ((Strings{Stop(TaskOf(a, 0), "web-1"), Run(TaskOf(b, 0), "web-1")}),
            Orders());
  EXPECT_EQ(1, scheduler_->Busy("web-1"));
}

TEST_F(JobBoardTest, CancelledOneJobIsNotRetried) {
  Hello("web-1", 4);
  Hello("web-2", 2);
  JobId id = Submit(Scope::kOne, {"web-1", "web-2"});
  Accept("web-1", TaskOf(id, 0));
  ASSERT_OK(board_->Cancel(id));
  Report("web-1", TaskOf(id, 0), TaskState::kUnkScore);
  EXPECT_EQ(Strings{Done(id, JobState::kCancelled)}, Finished());
  EXPECT_EQ(1u, Stored(id).tasks.size());
}

TEST_F(JobBoardTest, CancelOfUnknownOrFinishedJobIsNotFound) {
  EXPECT_EQ(common::Status::Code::kNotFound, board_->Cancel(77).code());
  JobId id = Submit(Scope::kAll, {"web-1"});
  ASSERT_OK(board_->Cancel(id));
  EXPECT_EQ(common::Status::Code::kNotFound, board_->Cancel(id).code());
}

// ---- resends ----

TEST_F(JobBoardTest, UnacceptedTaskIsResentAfterTheRetryTimeOnly) {
  Hello("web-1", 4);
  JobId id = Submit(Scope::kAll, {"web-1"});
  Orders();
  clock_.Advance(4999);
  EXPECT_OK(board_->ResendUnaccepted(5000));
  EXPECT_TRUE(Orders().empty());
  clock_.Advance(1);
  EXPECT_OK(board_->ResendUnaccepted(5000));
  EXPECT_EQ(Strings{Run(TaskOf(id, 0), "web-1")}, Orders());
  EXPECT_OK(board_->ResendUnaccepted(5000));
  EXPECT_TRUE(Orders().empty()) << "the retry time starts again";
}

TEST_F(JobBoardTest, AcceptedTaskIsNeverResent) {
  Hello("web-1", 4);
  JobId id = Submit(Scope::kAll, {"web-1"});
  Accept("web-1", TaskOf(id, 0));
  Orders();
  clock_.Advance(60000);
  EXPECT_OK(board_->ResendUnaccepted(5000));
  EXPECT_TRUE(Orders().empty());
}

// ---- delivery timeout ----

TEST_F(JobBoardTest, TaskForOfflinePlayerExpiresAfterTheDeliveryTimeout) {
  JobId id = Submit(Scope::kAll, {"web-1"}, 60);
  clock_.Advance(59999);
  Expire();
  EXPECT_EQ(TaskState::kQueued, StateOf(id, 0));
  clock_.Advance(1);
  Expire();
  EXPECT_EQ(TaskState::kExpired, Stored(id).tasks[0].state);
  EXPECT_EQ(Strings{Done(id, JobState::kFail)}, Finished());
}

TEST_F(JobBoardTest, TaskForConnectedPlayerNeverExpires) {
  Hello("web-1", 1);
  Submit(Scope::kAll, {"web-1"});
  JobId id = Submit(Scope::kAll, {"web-1"}, 60);
  clock_.Advance(3600 * 1000);
  Expire({"web-1"});
  EXPECT_EQ(TaskState::kQueued, StateOf(id, 0));
}

TEST_F(JobBoardTest, ZeroDeliveryTimeoutWaitsForEver) {
  JobId id = Submit(Scope::kAll, {"web-1"}, 0);
  clock_.Advance(int64_t{400} * 24 * 3600 * 1000);
  Expire();
  EXPECT_EQ(TaskState::kQueued, StateOf(id, 0));
}

TEST_F(JobBoardTest, DisconnectMovesAOneTaskNeverAcceptedToTheNextPlayer) {
  Hello("web-1", 4);
  Hello("web-2", 1);
  JobId id = Submit(Scope::kOne, {"web-1", "web-2"});
  Orders();
  EXPECT_OK(board_->OnDisconnect("web-1"));
  EXPECT_EQ(TaskState::kExpired, StateOf(id, 0));
  EXPECT_EQ(Strings{Run(TaskOf(id, 1), "web-2")}, Orders());
}

TEST_F(JobBoardTest, DisconnectKeepsAnAcceptedOneTaskForItsPlayer) {
  Hello("web-1", 4);
  Hello("web-2", 1);
  JobId id = Submit(Scope::kOne, {"web-1", "web-2"});
  Accept("web-1", TaskOf(id, 0));
  EXPECT_OK(board_->OnDisconnect("web-1"));
  EXPECT_EQ(TaskState::kRunning, StateOf(id, 0));
  EXPECT_EQ(1u, Job(id).tasks.size());
}

TEST_F(JobBoardTest, DisconnectKeepsAnAllTaskForItsPlayer) {
  Hello("web-1", 4);
  JobId id = Submit(Scope::kAll, {"web-1"});
  EXPECT_OK(board_->OnDisconnect("web-1"));
  EXPECT_EQ(TaskState::kDispatched, StateOf(id, 0));
}

TEST_F(JobBoardTest, TaskSentButNeverAcceptedExpiresEvenWhileConnected) {
  Hello("web-1", 4);
  JobId id = Submit(Scope::kAll, {"web-1"}, 60);
  clock_.Advance(59000);
  Expire({"web-1"});
  EXPECT_EQ(TaskState::kDispatched, StateOf(id, 0));
  clock_.Advance(1000);
  Expire({"web-1"});
  EXPECT_EQ(TaskState::kExpired, Stored(id).tasks[0].state);
}

TEST_F(JobBoardTest, QueuedOneJobWithAllPlayersOfflineExpiresFail) {
  JobId id = Submit(Scope::kOne, {"web-1", "web-2"}, 10);
  clock_.Advance(10000);
  Expire();
  EXPECT_EQ(TaskState::kExpired, Stored(id).tasks[0].state);
  EXPECT_EQ(Strings{Done(id, JobState::kFail)}, Finished());
}

// ---- restart ----

TEST_F(JobBoardTest, RecoverRestoresUnfinishedJobsAndQueuesTheirTasks) {
  JobId id = Submit(Scope::kAll, {"web-1", "web-2"});
  Restart();
  ASSERT_OK(board_->Recover());
  EXPECT_EQ(1u, board_->active_jobs());
  EXPECT_TRUE(scheduler_->IsQueued(TaskOf(id, 1)));
  Hello("web-2", 4);
  EXPECT_EQ(Strings{Run(TaskOf(id, 1), "web-2")}, Orders());
}

TEST_F(JobBoardTest, RecoverKeepsTasksInFlightForTheHello) {
  Hello("web-1", 4);
  JobId id = Submit(Scope::kAll, {"web-1"});
  Restart();
  ASSERT_OK(board_->Recover());
  EXPECT_EQ(1u, board_->Unfinished("web-1"));
  Hello("web-1", 4, {{TaskOf(id, 0), false}});
  EXPECT_EQ(TaskState::kRunning, Stored(id).tasks[0].state);
}

TEST_F(JobBoardTest, RecoverSkipsFinishedJobsAndLosesTheUncommittedTurn) {
  Hello("web-1", 4);
  JobId done = Submit(Scope::kAll, {"web-1"});
  Report("web-1", TaskOf(done, 0), TaskState::kOk);
  broker::SubmitRequest request = test::SampleSubmit(Scope::kOne, {"web-1"});
  ASSERT_TRUE(board_->Submit(request, "tester", 0).ok());
  Restart();
  ASSERT_OK(board_->Recover());
  EXPECT_EQ(0u, board_->active_jobs());
}

TEST_F(JobBoardTest, RecoverAbortsTasksOfPlayersNoLongerListed) {
  Hello("web-1", 4);
  JobId id = Submit(Scope::kAll, {"web-1", "web-2"});
  Restart();
  Delist("web-1");
  ASSERT_OK(board_->Recover());
  EndTurn();
  EXPECT_EQ(TaskState::kAborted, Stored(id).tasks[0].state);
  EXPECT_EQ(TaskState::kQueued, Stored(id).tasks[1].state);
}

// A `one` job waiting for a player is queued again on restart. When every
// player it lists was removed from the players file while the conductor was
// down, nobody can ever run it: it must end rather than stay PENDING for
// ever (DESIGN.md 5: "No job stays PENDING for ever").
TEST_F(JobBoardTest, RecoverEndsAQueuedOneJobWhosePlayersAreAllUnlisted) {
  JobId id = Submit(Scope::kOne, {"web-1", "web-2"});
  Restart();
  List({"web-3"});
  ASSERT_OK(board_->Recover());
  EndTurn();
  EXPECT_EQ(TaskState::kAborted, Stored(id).tasks[0].state);
  EXPECT_EQ(Strings{Done(id, JobState::kFail)}, Finished());
}

// ---- a failed commit ----

// The commit of a turn failed (the store rolled it back): Reload() puts
// memory back where the database is. What the turn dispatched, finished or
// created is gone, and the players, told to greet again, get it anew.
TEST_F(JobBoardTest, ReloadForgetsATurnWhoseCommitFailed) {
  Hello("web-1", 1);
  JobId kept = Submit(Scope::kAll, {"web-1", "web-2"});
  Orders();
  Report("web-1", TaskOf(kept, 0), TaskState::kOk);  // frees the slot
  JobId next = Submit(Scope::kOne, {"web-1"});
  EXPECT_OK(board_->OnResult("web-1", ResultOf(TaskOf(next, 0))));
  broker::SubmitRequest request = test::SampleSubmit(Scope::kOne, {"web-2"});
  ASSERT_OK(board_->Submit(request, "tester", 0).status());
  store_->Abandon();
  ASSERT_OK(board_->Reload());
  EXPECT_TRUE(Orders().empty());
  EXPECT_TRUE(Finished().empty());
  EXPECT_EQ(2u, board_->active_jobs());  // `kept` and `next`, unfinished
  EXPECT_EQ(TaskState::kDispatched, StateOf(next, 0));
  EXPECT_EQ(TaskState::kQueued, StateOf(kept, 1));
  Hello("web-2", 1);  // no player is connected until it greets again
  EXPECT_EQ(Strings{Run(TaskOf(kept, 1), "web-2")}, Orders());
}

TEST_F(JobBoardTest, ReloadWritesNothing) {
  JobId id = Submit(Scope::kOne, {"web-1", "web-2"});
  List({"web-3"});  // Recover() would end it; Reload() must not
  ASSERT_OK(board_->Reload());
  EndTurn();
  EXPECT_EQ(JobState::kPending, Stored(id).state);
  EXPECT_TRUE(Finished().empty());
}

TEST_F(JobBoardTest, SubmitUsesDefaultDeliveryTimeoutUnlessGiven) {
  broker::SubmitRequest request = test::SampleSubmit(Scope::kOne, {"web-1"});
  Result<JobId> id = board_->Submit(request, "tester", 600);
  ASSERT_OK(id.status());
  EXPECT_EQ(std::optional<int64_t>(600), Stored(id.value()).delivery_timeout_s);
  EXPECT_EQ(std::optional<int64_t>(5),
            Stored(Submit(Scope::kOne, {"web-1"}, 5)).delivery_timeout_s);
}

// ---- the counts of open tasks ----

// Drives the board with random events (submits, hellos, accepts, results
// and resent results, cancels, disconnects, expiries, removals, reloads and
// recoveries) and checks, after each, the counts of open tasks by state
// and the oldest QUEUED task against a full scan of what is committed.
// ---- rollouts, priority, waiting reasons (DESIGN.md 13) ----

class JobBoardRolloutTest : public JobBoardTest {
 protected:
  static broker::RolloutLimit Count(int64_t n) { return {n, false}; }
  static broker::RolloutLimit Percent(int64_t n) { return {n, true}; }

  // Lists and connects `n` players p0..p(n-1), each with `slots` slots.
  std::vector<std::string> Fleet(int n, int slots = 4) {
    std::vector<std::string> names;
    for (int i = 0; i < n; ++i) names.push_back("p" + std::to_string(i));
    List(names);
    for (const std::string& name : names) Hello(name, slots);
    return names;
  }
  JobId SubmitRollout(std::vector<std::string> players,
                      std::optional<broker::RolloutLimit> concurrency,
                      std::optional<broker::RolloutLimit> errors,
                      int64_t priority = 0) {
    broker::SubmitRequest request =
        test::SampleSubmit(Scope::kAll, std::move(players));
    request.max_concurrency = concurrency;
    request.max_errors = errors;
    request.priority = priority;
    Result<JobId> id = board_->Submit(request, "tester", 0);
    EXPECT_OK(id.status());
    EndTurn();
    return id.ok() ? id.value() : 0;
  }
  // How many of the stored job's tasks are in `state`.
  size_t CountIn(JobId id, TaskState state) {
    size_t n = 0;
    for (const TaskRecord& t : Job(id).tasks) n += t.state == state;
    return n;
  }
  // Why task `i` of job `id` waits, as the audience's record says.
  std::optional<broker::WaitReason> Why(JobId id, size_t i) {
    JobRecord record = Stored(id);
    board_->ExplainWaiting(&record);
    return i < record.tasks.size() ? record.tasks[i].waiting : std::nullopt;
  }
};

TEST_F(JobBoardRolloutTest, ConcurrencyBoundsTasksSentAtOnceInPlayerOrder) {
  std::vector<std::string> p = Fleet(5);
  JobId id = SubmitRollout(p, Count(2), std::nullopt);
  EXPECT_EQ((Strings{Run(TaskOf(id, 0), "p0"), Run(TaskOf(id, 1), "p1")}),
            Orders());
  Accept("p1", TaskOf(id, 1));
  Report("p1", TaskOf(id, 1), TaskState::kOk);
  EXPECT_EQ(Strings{Run(TaskOf(id, 2), "p2")}, Orders());
  Report("p0", TaskOf(id, 0), TaskState::kFail);  // no max_errors: goes on
  EXPECT_EQ(Strings{Run(TaskOf(id, 3), "p3")}, Orders());
  EXPECT_EQ(2u, CountIn(id, TaskState::kDispatched));
  EXPECT_EQ(1u, CountIn(id, TaskState::kQueued));
}

TEST_F(JobBoardRolloutTest, PercentConcurrencyIsRoundedUpAndAtLeastOne) {
  std::vector<std::string> p = Fleet(5);
  JobId half = SubmitRollout(p, Percent(30), std::nullopt);  // 1.5 -> 2
  EXPECT_EQ(2u, Orders().size());
  EXPECT_EQ(2u, CountIn(half, TaskState::kDispatched));
  JobId tenth = SubmitRollout(p, Percent(10), std::nullopt);  // 0.5 -> 1
  EXPECT_EQ(Strings{Run(TaskOf(tenth, 0), "p0")}, Orders());
  JobId whole = SubmitRollout(p, Percent(100), std::nullopt);
  EXPECT_EQ(5u, Orders().size());
  EXPECT_EQ(5u, CountIn(whole, TaskState::kDispatched));
}

TEST_F(JobBoardRolloutTest, ZeroErrorsSkipsTheRestAfterOneFailure) {
  std::vector<std::string> p = Fleet(5);
  JobId id = SubmitRollout(p, Count(3), Count(0));
  EXPECT_EQ(3u, Orders().size());
  Report("p0", TaskOf(id, 0), TaskState::kFail);
  EXPECT_TRUE(Orders().empty());
  EXPECT_EQ(TaskState::kSkipped, StateOf(id, 3));
  EXPECT_EQ(TaskState::kSkipped, StateOf(id, 4));
  EXPECT_NE("", Task(id, 3).error);
  // Dispatched tasks run to their end.
  EXPECT_TRUE(Finished().empty());
  EXPECT_EQ(TaskState::kDispatched, StateOf(id, 1));
  Report("p1", TaskOf(id, 1), TaskState::kOk);
  Report("p2", TaskOf(id, 2), TaskState::kOk);
  EXPECT_EQ(Strings{Done(id, JobState::kPartialFail)}, Finished());
  EXPECT_EQ(0u, board_->CountInState(TaskState::kQueued));
}

TEST_F(JobBoardRolloutTest, CountErrorsSkipsAfterExactlyNPlusOneFailures) {
  std::vector<std::string> p = Fleet(6);
  JobId id = SubmitRollout(p, Count(1), Count(2));
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(Strings{Run(TaskOf(id, i), p[i])}, Orders()) << i;
    EXPECT_EQ(0u, CountIn(id, TaskState::kSkipped)) << i;
    Report(p[i], TaskOf(id, i), TaskState::kFail);
  }
  EXPECT_TRUE(Orders().empty());
  EXPECT_EQ(3u, CountIn(id, TaskState::kFail));
  EXPECT_EQ(3u, CountIn(id, TaskState::kSkipped));
  EXPECT_EQ(Strings{Done(id, JobState::kFail)}, Finished());
}

TEST_F(JobBoardRolloutTest, PercentErrorsAreRoundedDown) {
  std::vector<std::string> p = Fleet(9);
  JobId id = SubmitRollout(p, Count(1), Percent(25));  // 2.25 -> 2
  Orders();
  Report("p0", TaskOf(id, 0), TaskState::kOk);
  for (size_t i = 1; i <= 3; ++i) {
    EXPECT_EQ(0u, CountIn(id, TaskState::kSkipped)) << i;
    Report(p[i], TaskOf(id, i), TaskState::kTimeout);
  }
  EXPECT_EQ(3u, CountIn(id, TaskState::kTimeout));
  EXPECT_EQ(5u, CountIn(id, TaskState::kSkipped));
  EXPECT_EQ(Strings{Done(id, JobState::kPartialFail)}, Finished());
}

TEST_F(JobBoardRolloutTest, HigherPriorityIsDispatchedFirstThenFifo) {
  List({"web-1"});
  Hello("web-1", 1);
  JobId first = SubmitRollout({"web-1"}, std::nullopt, std::nullopt);
  JobId low = SubmitRollout({"web-1"}, std::nullopt, std::nullopt, -3);
  JobId a = SubmitRollout({"web-1"}, std::nullopt, std::nullopt);
  JobId high = SubmitRollout({"web-1"}, std::nullopt, std::nullopt, 7);
  JobId b = SubmitRollout({"web-1"}, std::nullopt, std::nullopt);
  EXPECT_EQ(Strings{Run(TaskOf(first, 0), "web-1")}, Orders());
  Strings order;
  JobId running = first;
  for (JobId next : {high, a, b, low}) {
    Report("web-1", TaskOf(running, 0), TaskState::kOk);
    Strings orders = Orders();
    ASSERT_EQ(1u, orders.size());
    order.push_back(orders[0]);
    running = next;
  }
  EXPECT_EQ((Strings{Run(TaskOf(high, 0), "web-1"), Run(TaskOf(a, 0), "web-1"),
                     Run(TaskOf(b, 0), "web-1"), Run(TaskOf(low, 0), "web-1")}),
            order);
}

TEST_F(JobBoardRolloutTest, QueuedTaskFirstInLineForAFullPlayerIsBusy) {
  std::vector<std::string> p = Fleet(2, 1);
  JobId busy = SubmitRollout({"p0"}, std::nullopt, std::nullopt);
  JobId next = SubmitRollout(p, std::nullopt, std::nullopt);
  EXPECT_EQ(std::nullopt, Why(busy, 0));  // dispatched
  EXPECT_EQ(broker::WaitReason::kPlayerBusy, Why(next, 0));
  EXPECT_EQ(std::nullopt, Why(next, 1));
}

TEST_F(JobBoardRolloutTest, QueuedTaskBehindOtherJobsWaitsForEarlierJobs) {
  Fleet(1, 1);
  SubmitRollout({"p0"}, std::nullopt, std::nullopt);
  SubmitRollout({"p0"}, std::nullopt, std::nullopt);
  JobId later = SubmitRollout({"p0"}, std::nullopt, std::nullopt);
  EXPECT_EQ(broker::WaitReason::kEarlierJobs, Why(later, 0));
}

TEST_F(JobBoardRolloutTest, QueuedTaskSaysRolloutOrPlayerOffline) {
  Fleet(2);
  List({"p0", "p1", "gone"});
  JobId id = SubmitRollout({"p0", "p1", "gone"}, Count(1), std::nullopt);
  EXPECT_EQ(std::nullopt, Why(id, 0));
  EXPECT_EQ(broker::WaitReason::kRollout, Why(id, 1));
  EXPECT_EQ(broker::WaitReason::kPlayerOffline, Why(id, 2));
}

TEST_F(JobBoardRolloutTest, AFinishedJobsRecordGetsNoWaitingReason) {
  Fleet(1);
  JobId id = SubmitRollout({"p0"}, std::nullopt, std::nullopt);
  Report("p0", TaskOf(id, 0), TaskState::kOk);
  JobRecord record = Stored(id);
  record.tasks[0].state = TaskState::kQueued;
  board_->ExplainWaiting(&record);
  EXPECT_EQ(std::nullopt, record.tasks[0].waiting);
}

TEST_F(JobBoardRolloutTest, ARestartKeepsTheBoundAndTheFailureCount) {
  std::vector<std::string> p = Fleet(5);
  JobId id = SubmitRollout(p, Count(2), Count(1));
  EXPECT_EQ(2u, Orders().size());
  Accept("p1", TaskOf(id, 1));
  Report("p0", TaskOf(id, 0), TaskState::kFail);  // 1 failure: allowed
  EXPECT_EQ(Strings{Run(TaskOf(id, 2), "p2")}, Orders());
  Restart();
  ASSERT_OK(board_->Recover());
  EndTurn();
  for (size_t i = 0; i < p.size(); ++i) {
    std::vector<HeldTask> held;
    if (i == 1 || i == 2) held.push_back(HeldTask{TaskOf(id, i), false});
    Hello(p[i], 4, held);
  }
  EXPECT_TRUE(Orders().empty()) << "two tasks are still in flight";
  EXPECT_EQ(broker::WaitReason::kRollout, Why(id, 3));
  Report("p1", TaskOf(id, 1), TaskState::kFail);  // 2 failures: over
  EXPECT_TRUE(Orders().empty());
  EXPECT_EQ(TaskState::kSkipped, StateOf(id, 3));
  EXPECT_EQ(TaskState::kSkipped, StateOf(id, 4));
  EXPECT_EQ(TaskState::kRunning, StateOf(id, 2));
  Report("p2", TaskOf(id, 2), TaskState::kOk);
  EXPECT_EQ(Strings{Done(id, JobState::kPartialFail)}, Finished());
}

TEST_F(JobBoardRolloutTest, ARestartAfterTheBudgetRanOutSkipsTheRest) {
  std::vector<std::string> p = Fleet(4);
  JobId id = SubmitRollout(p, Count(2), Count(0));
  Orders();
  Report("p0", TaskOf(id, 0), TaskState::kFail);
  EXPECT_EQ(TaskState::kSkipped, StateOf(id, 2));
  Restart();
  ASSERT_OK(board_->Recover());
  EndTurn();
  Hello("p1", 4, {HeldTask{TaskOf(id, 1), false}});
  Hello("p2", 4);
  Hello("p3", 4);
  EXPECT_TRUE(Orders().empty());
  Report("p1", TaskOf(id, 1), TaskState::kOk);
  EXPECT_EQ(Strings{Done(id, JobState::kPartialFail)}, Finished());
}

class JobBoardCountTest : public JobBoardTest {
 protected:
  struct Scan {
    std::array<size_t, 3> open{};  // QUEUED, DISPATCHED, RUNNING
    std::optional<common::TimeMs> oldest_queued;
    std::vector<TaskRecord> sent;   // DISPATCHED or RUNNING
    std::vector<TaskRecord> ended;  // final, in unfinished jobs
    std::vector<JobId> jobs;
  };

  // The unfinished jobs the store holds, counted task by task. A task is
  // queued since its job's submit (first attempt), or since the attempt
  // before it ended, or since the last reload that found it.
  Scan ScanStore() {
    Scan scan;
    Result<std::vector<JobRecord>> jobs = store_->LoadUnfinishedJobs();
    EXPECT_OK(jobs.status());
    if (!jobs.ok()) return scan;
    for (const JobRecord& job : jobs.value()) {
      scan.jobs.push_back(job.id);
      for (size_t i = 0; i < job.tasks.size(); ++i) {
        const TaskRecord& t = job.tasks[i];
        if (broker::IsFinal(t.state)) {
          scan.ended.push_back(t);
          continue;
        }
        ++scan.open[static_cast<size_t>(t.state)];
        if (t.state != TaskState::kQueued) {
          scan.sent.push_back(t);
          continue;
        }
        auto reloaded = reloaded_.find(t.task);
        const common::TimeMs since = t.attempt == 1 ? job.created_at
                                     : reloaded != reloaded_.end()
                                         ? reloaded->second
                                         : job.tasks[i - 1].finished_at;
        if (!scan.oldest_queued || since < *scan.oldest_queued)
          scan.oldest_queued = since;
      }
    }
    return scan;
  }
  void ExpectCounted(const std::string& step) {
    const Scan scan = ScanStore();
    EXPECT_EQ(scan.open[0], board_->CountInState(TaskState::kQueued)) << step;
    EXPECT_EQ(scan.open[1], board_->CountInState(TaskState::kDispatched))
        << step;
    EXPECT_EQ(scan.open[2], board_->CountInState(TaskState::kRunning)) << step;
    EXPECT_EQ(0u, board_->CountInState(TaskState::kOk)) << step;
    EXPECT_EQ(scan.oldest_queued, board_->OldestQueuedSince()) << step;
  }

  template <typename T>
  const T& Pick(const std::vector<T>& from) {
    return from[std::uniform_int_distribution<size_t>(
        0, from.size() - 1)(random_)];
  }
  int Roll(int n) {
    return std::uniform_int_distribution<int>(0, n - 1)(random_);
  }
  std::vector<std::string> SomePlayers() {
    std::vector<std::string> some;
    for (const std::string& p : kPlayers)
      if (Roll(2)) some.push_back(p);
    if (some.empty()) some.push_back(Pick(kPlayers));
    return some;
  }

  // One random event, in a turn of its own; returns its name.
  std::string Step() {
    clock_.Advance(Roll(3000));
    const Scan scan = ScanStore();
    switch (Roll(11)) {
      case 0:
      case 1: {
        std::optional<int64_t> timeout;
        if (Roll(2)) timeout = 3 + Roll(10);
        Submit(Roll(2) ? Scope::kOne : Scope::kAll, SomePlayers(), timeout);
        return "submit";
      }
      case 2: {
        const std::string player = Pick(kPlayers);
        std::vector<HeldTask> held;
        for (const TaskRecord& t : scan.sent)
          if (t.player == player && Roll(2))
            held.push_back({t.task, Roll(4) == 0});
        Hello(player, 1 + Roll(3), held);
        connected_.insert(player);
        return "hello " + player;
      }
      case 3: {
        if (scan.sent.empty()) return "nothing sent to accept";
        const TaskRecord& t = Pick(scan.sent);
        Accept(t.player, t.task);
        return "accept " + std::to_string(t.task);
      }
      case 4: {
        if (scan.sent.empty()) return "nothing sent to end";
        const TaskRecord& t = Pick(scan.sent);
        Report(t.player, t.task, Pick(kEnds));
        return "result " + std::to_string(t.task);
      }
      case 5: {
        if (scan.ended.empty()) return "nothing ended to resend";
        const TaskRecord& t = Pick(scan.ended);
        Report(t.player, t.task, TaskState::kOk);
        return "resent result " + std::to_string(t.task);
      }
      case 6:
        if (scan.jobs.empty()) return "nothing to cancel";
        EXPECT_OK(board_->Cancel(Pick(scan.jobs)));
        EndTurn();
        return "cancel";
      case 7: {
        const std::string player = Pick(kPlayers);
        EXPECT_OK(board_->OnDisconnect(player));
        EndTurn();
        connected_.erase(player);
        return "disconnect " + player;
      }
      case 8:
        Expire(connected_);
        return "expire";
      case 9: {
        const std::string player = Pick(kPlayers);
        Unlist(player);
        List(kPlayers);
        connected_.erase(player);
        return "remove " + player;
      }
      default:
        return ReloadOrRecover();
    }
  }
  // A failed commit (Reload) and the store's return (Recover), or a
  // Reload alone: the scheduler forgets every session.
  std::string ReloadOrRecover() {
    Result<std::vector<JobRecord>> jobs = store_->LoadUnfinishedJobs();
    EXPECT_OK(jobs.status());
    for (const JobRecord& job :
         jobs.ok() ? jobs.value() : std::vector<JobRecord>())
      for (const TaskRecord& t : job.tasks)
        if (t.attempt > 1 && !broker::IsFinal(t.state))
          reloaded_[t.task] = clock_.Now();
    connected_.clear();
    if (Roll(2)) {
      EXPECT_OK(board_->Reload());
      return "reload";
    }
    EXPECT_OK(core_->StoreFailed(common::Status::IoError("db", "disk full")));
    core_->RetryStore();
    EXPECT_TRUE(core_->health().writable());
    EndTurn();
    return "recover";
  }

  const std::vector<std::string> kPlayers = {"web-1", "web-2", "web-3"};
  const std::vector<TaskState> kEnds = {
      TaskState::kOk,        TaskState::kFail,     TaskState::kTimeout,
      TaskState::kCancelled, TaskState::kUnkScore, TaskState::kHostError,
      TaskState::kLost};
  std::mt19937 random_;
  std::set<std::string> connected_;
  std::map<TaskId, common::TimeMs> reloaded_;
};

TEST_F(JobBoardCountTest, OpenTaskCountsMatchAScanAfterRandomEvents) {
  for (uint32_t seed : {1u, 2u, 3u}) {
    random_.seed(seed);
    for (int step = 0; step < 300; ++step) {
      const std::string event = Step();
      board_->TakeOrders();
      board_->TakeFinishedJobs();
      ExpectCounted("seed " + std::to_string(seed) + " step " +
                    std::to_string(step) + ": " + event);
      if (HasFailure()) return;
    }
  }
}

}  // namespace
}  // namespace orchestra::conductor
