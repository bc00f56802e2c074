// Tests for player/task_board.h with a real Journal, a FakeProcessRunner
// and a FakeClock: what the board decides for a task (TaskBoardTest), and,
// with the journal on a small tmpfs that a filler fills
// (test/small_disk.h), what the player does when its journal cannot commit
// (DESIGN.md section 15) and how it carries on once the disk has room
// again (TaskBoardDiskTest).

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
    common::SetLogSinkForTest([](common::LogLevel, std::string_view) {});
    const std::string scores = dir_.File("scores");
    ASSERT_EQ(0, ::mkdir(scores.c_str(), 0755));
    std::ofstream(scores + "/alpha") << "#!/bin/sh\necho ran\n";
    ASSERT_EQ(0, ::chmod((scores + "/alpha").c_str(), 0755));
    scores_ = ScoreDirectory::Scan(scores, ::geteuid());
    config_.player_name = "web-1";
    config_.score_directory = scores;
    config_.slots = 1;
    Open();
  }
  void TearDown() override { common::SetLogSinkForTest(nullptr); }

  virtual std::string JournalPath() { return dir_.File("player.db"); }
  void Open() {
    auto journal = Journal::Open(JournalPath());
    ASSERT_OK(journal.status());
    journal_ = std::move(journal.value());
    board_ =
        std::make_unique<TaskBoard>(config_, journal_.get(), &runner_, &clock_);
    board_->set_scores(&scores_);
    ASSERT_OK(board_->Load());
  }
  // The player stops without a word (killed) and starts again; the
  // runner keeps what it saw.
  void Restart() {
    board_.reset();
    journal_.reset();
    Open();
  }

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

// The player was killed while task 1 ran: how it ended is unknown, and it
// never runs again.
TEST_F(TaskBoardTest, ATaskThatRanWhenThePlayerStoppedIsLostAfterARestart) {
  Give(1);
  Restart();
  std::optional<broker::TaskResult> lost = ResultIn(board_->TakeOutbox());
  ASSERT_TRUE(lost.has_value());
  EXPECT_EQ(TaskState::kLost, lost->state);
  EXPECT_EQ("player restarted while the score ran", lost->error);
  EXPECT_EQ(Strings{"1:d"}, Journaled());
  Settle();
  EXPECT_EQ(std::vector<TaskId>{1}, runner_.started());
}

TEST_F(TaskBoardTest, AcceptedAndFinishedTasksAreNotLostAfterARestart) {
  Give(1);
  End(1, TaskState::kFail);
  Give(2);
  Give(3);  // waits for the only slot
  Restart();
  EXPECT_EQ((Strings{"1:d", "2:d", "3:a"}), Journaled());
  Settle();
  EXPECT_EQ((std::vector<TaskId>{1, 2, 3}), runner_.started());
  std::optional<broker::TaskResult> stored = ResultIn(Give(1));
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(TaskState::kFail, stored->state);
}

TEST_F(TaskBoardTest, ATaskThatCannotStartEndsHostErrorAndFreesItsSlot) {
  runner_.FailStarts("No such file or directory");
  Give(1);
  std::optional<broker::TaskResult> result = ResultIn(Settle());
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(TaskState::kHostError, result->state);
  const std::string path = config_.score_directory + "/alpha";
  EXPECT_EQ("exec " + path + ": No such file or directory", result->error);
  runner_.FailStarts("");
  Give(2);
  EXPECT_EQ(std::vector<TaskId>{2}, runner_.started());
}

TEST_F(TaskBoardTest, AnErrorIsCutTo1000BytesOfWellFormedUtf8) {
  runner_.FailStarts(std::string(2000, 'x'));
  Give(1);
  std::optional<broker::TaskResult> cut = ResultIn(Settle());
  ASSERT_TRUE(cut.has_value());
  EXPECT_EQ(1000u, cut->error.size());
  runner_.FailStarts("bad \xff byte");
  Give(2);
  std::optional<broker::TaskResult> mended = ResultIn(Settle());
  ASSERT_TRUE(mended.has_value());
  EXPECT_NE(std::string::npos, mended->error.find("bad \xEF\xBF\xBD byte"));
}

// Waiting tasks stay accepted in the journal: they run at the next start.
TEST_F(TaskBoardTest, StoppingEndsRunningTasksLostAndTakesNoNewOnes) {
  Give(1);
  Give(2);  // waits for the only slot
  board_->StopAll();
  TaskState outcome = TaskState::kOk;
  ASSERT_TRUE(runner_.WaitForStop(1, &outcome));
  EXPECT_EQ(TaskState::kLost, outcome);
  board_->OnTask(Task(3));
  board_->CollectResults();
  std::optional<broker::TaskResult> lost = ResultIn(Settle());
  ASSERT_TRUE(lost.has_value()) << "no `accepted` for task 3";
  EXPECT_EQ(TaskState::kLost, lost->state);
  EXPECT_EQ((Strings{"1:d", "2:a"}), Journaled());
  EXPECT_EQ(std::vector<TaskId>{1}, runner_.started());
}

TEST_F(TaskBoardTest, CancelsAndAcksThatMatchNoTaskChangeNothing) {
  Give(1);
  board_->OnCancel(7);
  board_->OnResultAck(1);  // It has no result yet
  board_->OnResultAck(7);
  EXPECT_TRUE(Settle().empty());
  EXPECT_EQ(Strings{"1:s"}, Journaled());
  End(1, TaskState::kOk);
  board_->OnCancel(1);  // It has ended
  EXPECT_TRUE(Settle().empty());
  EXPECT_EQ(Strings{"1:d"}, Journaled());
}

TEST_F(TaskBoardTest, AResultForATaskNotHeldIsIgnoredAndFreesNoSlot) {
  Give(1);
  EXPECT_TRUE(End(7, TaskState::kOk).empty());
  Give(2);
  EXPECT_EQ(std::vector<TaskId>{1}, runner_.started());
  EXPECT_EQ(1u, board_->waiting());
}

class TaskBoardDiskTest : public TaskBoardTest {
 protected:
  void SetUp() override {
    if (!disk_.error().empty()) GTEST_SKIP() << disk_.error();
    TaskBoardTest::SetUp();
  }
  // The journal closes before the tmpfs under it goes.
  void TearDown() override {
    board_.reset();
    journal_.reset();
    TaskBoardTest::TearDown();
  }
  std::string JournalPath() override { return disk_.File("player.db"); }

  test::SmallDisk disk_{1 << 20};
};

// The journal could not commit the task: it is not accepted, never runs,
// and the conductor hears HOST_ERROR, so a `one` job moves on.
TEST_F(TaskBoardDiskTest, ATaskTheJournalCannotTakeIsRefusedAndNeverRuns) {
  ASSERT_TRUE(disk_.Fill());
  std::optional<broker::TaskResult> result = ResultIn(Give(1));
  ASSERT_TRUE(result.has_value()) << "only a result, no `accepted`";
  EXPECT_EQ(TaskState::kHostError, result->state);
  EXPECT_EQ("journal: disk full", result->error);
  EXPECT_TRUE(runner_.started().empty());
  EXPECT_FALSE(board_->journal_writable());
  EXPECT_TRUE(Journaled().empty());
}

TEST_F(TaskBoardDiskTest, WhileTheJournalFailsATaskIsRefusedAtOnceAndForGood) {
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
TEST_F(TaskBoardDiskTest, AResultIsSentAnywayAndJournaledOnceThereIsRoom) {
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
TEST_F(TaskBoardDiskTest, AcceptedTasksWaitForTheJournalToStart) {
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

TEST_F(TaskBoardDiskTest, AnAcknowledgedResultIsForgottenOnceThereIsRoom) {
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
