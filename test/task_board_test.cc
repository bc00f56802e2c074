// Tests for player/task_board.h with a real Journal on a small tmpfs that a
// filler fills (test/small_disk.h), a FakeProcessRunner and a FakeClock:
// what the player does when its journal cannot commit (DESIGN.md section
// 15), and how it carries on once the disk has room again.

#include "player/task_board.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/log.h"
#include "test/fake_clock.h"
#include "test/fake_process_runner.h"
#include "test/small_disk.h"
#include "test/test_util.h"

namespace orchestra::player {
namespace {

using broker::PlayerMessage;
using broker::TaskId;
using broker::TaskState;

class TaskBoardTest : public testing::Test {
 protected:
  void SetUp() override {
    if (!disk_.error().empty()) GTEST_SKIP() << disk_.error();
    common::SetLogSinkForTest([](common::LogLevel, std::string_view) {});
    const std::string scores = dir_.File("scores");
    ASSERT_EQ(0, ::mkdir(scores.c_str(), 0755));
    std::ofstream(scores + "/alpha") << "#!/bin/sh\necho ran\n";
    ASSERT_EQ(0, ::chmod((scores + "/alpha").c_str(), 0755));
    scores_ = ScoreDirectory::Scan(scores, ::geteuid());
    config_.player_name = "web-1";
    config_.score_directory = scores;
    config_.slots = 1;
    auto journal = Journal::Open(disk_.File("player.db"));
    ASSERT_OK(journal.status());
    journal_ = std::move(journal.value());
    board_ =
        std::make_unique<TaskBoard>(config_, journal_.get(), &runner_, &clock_);
    board_->set_scores(&scores_);
    ASSERT_OK(board_->Load("restarted"));
  }
  void TearDown() override { common::SetLogSinkForTest(nullptr); }

  static broker::RunTask Task(TaskId id) {
    broker::RunTask task;
    task.task = id;
    task.job = 100 + id;
    task.score = "alpha";
    return task;
  }
  // One turn of the player's loop: start what may start, commit, take the
  // messages, spawn.
  std::vector<PlayerMessage> Settle() {
    board_->StartReady();
    board_->Commit(/*forgets_due=*/true);
    std::vector<PlayerMessage> out = board_->TakeOutbox();
    board_->SpawnStarted();
    return out;
  }
  std::vector<PlayerMessage> Give(TaskId id) {
    board_->OnTask(Task(id));
    return Settle();
  }
  // Ends running task `id` and returns what the turn sends.
  std::vector<PlayerMessage> End(TaskId id, TaskState state) {
    runner_.Finish(id, state);
    board_->CollectResults();
    return Settle();
  }
  void Retry() {
    clock_.Advance(kJournalRetryMs);
    board_->RetryJournal();
  }
  // The journal's tasks as "ID:PHASE", PHASE a (accepted), s or d (done).
  std::vector<std::string> Journaled() {
    auto entries = journal_->Load();
    EXPECT_OK(entries.status());
    std::vector<std::string> out;
    for (const JournalEntry& e :
         entries.ok() ? entries.value() : std::vector<JournalEntry>())
      out.push_back(std::to_string(e.task.task) + ":" +
                    (e.phase == TaskPhase::kAccepted  ? "a"
                     : e.phase == TaskPhase::kStarted ? "s"
                                                      : "d"));
    return out;
  }
  // The result that is the only message of `out`, if it is one.
  static std::optional<broker::TaskResult> ResultIn(
      const std::vector<PlayerMessage>& out) {
    const auto* result =
        out.size() == 1 ? std::get_if<broker::TaskResult>(&out[0]) : nullptr;
    if (result == nullptr) return std::nullopt;
    return *result;
  }
  using Strings = std::vector<std::string>;

  test::SmallDisk disk_{1 << 20};
  test::TempDir dir_;
  test::FakeClock clock_;
  test::FakeProcessRunner runner_;
  PlayerConfig config_;
  ScoreDirectory scores_;
  std::unique_ptr<Journal> journal_;
  std::unique_ptr<TaskBoard> board_;
};

TEST_F(TaskBoardTest, ATaskIsAcceptedOnlyOnceJournaled) {
  std::vector<PlayerMessage> out = Give(1);
  ASSERT_EQ(1u, out.size());
  EXPECT_EQ(1, std::get<broker::Accepted>(out[0]).task);
  EXPECT_EQ(Strings{"1:s"}, Journaled());
  EXPECT_EQ(std::vector<TaskId>{1}, runner_.started());
}

// The journal could not commit the task: it is not accepted, never runs,
// and the conductor hears HOST_ERROR, so a `one` job moves on.
TEST_F(TaskBoardTest, ATaskTheJournalCannotTakeIsRefusedAndNeverRuns) {
  ASSERT_TRUE(disk_.Fill());
  std::optional<broker::TaskResult> result = ResultIn(Give(1));
  ASSERT_TRUE(result.has_value()) << "only a result, no `accepted`";
  EXPECT_EQ(TaskState::kHostError, result->state);
  EXPECT_EQ("journal: disk full", result->error);
  EXPECT_TRUE(runner_.started().empty());
  EXPECT_FALSE(board_->journal_writable());
  EXPECT_TRUE(Journaled().empty());
}

TEST_F(TaskBoardTest, WhileTheJournalFailsATaskIsRefusedAtOnceAndForGood) {
  ASSERT_TRUE(disk_.Fill());
  Give(1);
  std::optional<broker::TaskResult> refused = ResultIn(Give(2));
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(TaskState::kHostError, refused->state);
  disk_.Free();
  Retry();
  ASSERT_TRUE(board_->journal_writable());
  std::optional<broker::TaskResult> again = ResultIn(Give(2));  // again
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(TaskState::kHostError, again->state);
  EXPECT_TRUE(runner_.started().empty());
}

// A result the journal cannot take is kept in memory and sent; once there
// is room, the retry journals it.
TEST_F(TaskBoardTest, AResultIsSentAnywayAndJournaledOnceThereIsRoom) {
  Give(1);
  ASSERT_TRUE(disk_.Fill());
  std::optional<broker::TaskResult> result = ResultIn(End(1, TaskState::kOk));
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(TaskState::kOk, result->state);
  EXPECT_EQ(Strings{"1:s"}, Journaled());
  Retry();
  EXPECT_FALSE(board_->journal_writable());  // still full
  disk_.Free();
  Retry();
  EXPECT_TRUE(board_->journal_writable());
  EXPECT_EQ(Strings{"1:d"}, Journaled());
}

// Tasks already accepted wait: they start once their start can be
// journaled, so nothing runs unrecorded.
TEST_F(TaskBoardTest, AcceptedTasksWaitForTheJournalToStart) {
  Give(1);
  Give(2);  // waits for the only slot
  ASSERT_TRUE(disk_.Fill());
  End(1, TaskState::kOk);
  Settle();
  EXPECT_EQ(std::vector<TaskId>{1}, runner_.started());
  disk_.Free();
  Retry();
  Settle();
  EXPECT_EQ((std::vector<TaskId>{1, 2}), runner_.started());
  EXPECT_EQ((Strings{"1:d", "2:s"}), Journaled());
}

TEST_F(TaskBoardTest, AnAcknowledgedResultIsForgottenOnceThereIsRoom) {
  Give(1);
  End(1, TaskState::kOk);
  ASSERT_TRUE(disk_.Fill());
  Give(2);  // refused: the journal fails
  board_->OnResultAck(1);
  Settle();
  EXPECT_EQ(Strings{"1:d"}, Journaled());
  disk_.Free();
  Retry();
  EXPECT_TRUE(Journaled().empty());
}

}  // namespace
}  // namespace orchestra::player
