// Tests for player/journal.cc: the accepted -> started -> done -> forgotten
// lifecycle, durability across reopening, and what a restart finds.

#include "player/journal.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <memory>
#include <string>
#include <vector>

#include "test/test_util.h"

namespace orchestra::player {
namespace {

using broker::RunTask;
using broker::TaskResult;
using broker::TaskState;

class JournalTest : public testing::Test {
 protected:
  void SetUp() override { Reopen(); }

  void Reopen() {
    journal_.reset();
    auto journal = Journal::Open(dir_.File("player.db"));
    ASSERT_OK(journal.status());
    journal_ = std::move(journal.value());
  }
  static RunTask Task(broker::TaskId id) {
    RunTask task;
    task.task = id;
    task.job = 100 + id;
    task.score = "backup";
    task.params = {{"target", "/srv"}, {"secret", "s3cr=t"}};
    task.timeout_s = 60;
    return task;
  }
  static TaskResult Result(broker::TaskId id, TaskState state) {
    TaskResult result;
    result.task = id;
    result.state = state;
    result.exit_code = 0;
    result.stdout_text = std::string("out\0put", 7);
    result.response = {{"key", "value"}};
    result.started_at = 1795000000123;
    result.finished_at = 1795000001456;
    return result;
  }
  std::vector<JournalEntry> Load() {
    auto entries = journal_->Load();
    EXPECT_OK(entries.status());
    return entries.ok() ? entries.value() : std::vector<JournalEntry>();
  }

  test::TempDir dir_;
  std::unique_ptr<Journal> journal_;
};

TEST_F(JournalTest, AddedTaskIsHeldAsAcceptedWithItsParameters) {
  ASSERT_OK(journal_->Add(Task(1), 1000));
  ASSERT_OK(journal_->Commit());
  Reopen();
  std::vector<JournalEntry> entries = Load();
  ASSERT_EQ(1u, entries.size());
  EXPECT_EQ(TaskPhase::kAccepted, entries[0].phase);
  EXPECT_EQ(Task(1).params, entries[0].task.params);
  EXPECT_EQ(60, entries[0].task.timeout_s.value_or(0));
}

TEST_F(JournalTest, SecondAddOfOneTaskIsConflict) {
  ASSERT_OK(journal_->Add(Task(1), 1000));
  EXPECT_EQ(common::Status::Code::kConflict,
            journal_->Add(Task(1), 1000).code());
  EXPECT_OK(journal_->Commit());
  EXPECT_EQ(1u, Load().size());
}

TEST_F(JournalTest, ResultIsKeptExactlyAcrossReopen) {
  ASSERT_OK(journal_->Add(Task(1), 1000));
  ASSERT_OK(journal_->MarkStarted(1, 2000));
  ASSERT_OK(journal_->SaveResult(Result(1, TaskState::kOk)));
  ASSERT_OK(journal_->Commit());
  Reopen();
  std::vector<JournalEntry> entries = Load();
  ASSERT_EQ(1u, entries.size());
  ASSERT_EQ(TaskPhase::kDone, entries[0].phase);
  const TaskResult& result = entries[0].result.value();
  EXPECT_EQ(std::string("out\0put", 7), result.stdout_text);
  EXPECT_EQ(Result(1, TaskState::kOk).response, result.response);
  EXPECT_EQ(1795000001456, result.finished_at);
}

TEST_F(JournalTest, ForgottenTaskIsGone) {
  ASSERT_OK(journal_->Add(Task(1), 1000));
  ASSERT_OK(journal_->Add(Task(2), 1000));
  ASSERT_OK(journal_->Forget(1));
  ASSERT_OK(journal_->Commit());
  std::vector<JournalEntry> entries = Load();
  ASSERT_EQ(1u, entries.size());
  EXPECT_EQ(2, entries[0].task.task);
}

TEST_F(JournalTest, ForgetAloneWaitsForTheNextUrgentCommit) {
  ASSERT_OK(journal_->Add(Task(1), 1000));
  ASSERT_OK(journal_->SaveResult(Result(1, TaskState::kOk)));
  ASSERT_OK(journal_->Commit());
  ASSERT_OK(journal_->Forget(1));
  ASSERT_OK(journal_->CommitUrgent());
  EXPECT_TRUE(journal_->HasPending());  // Nothing waits for a forget
  ASSERT_OK(journal_->Add(Task(2), 1000));
  ASSERT_OK(journal_->CommitUrgent());
  EXPECT_FALSE(journal_->HasPending());
  Reopen();
  std::vector<JournalEntry> entries = Load();
  ASSERT_EQ(1u, entries.size());
  EXPECT_EQ(2, entries[0].task.task);
}

TEST_F(JournalTest, UrgentWritesAreCommittedAtOnce) {
  ASSERT_OK(journal_->Add(Task(1), 1000));
  ASSERT_OK(journal_->CommitUrgent());
  EXPECT_FALSE(journal_->HasPending());
  ASSERT_OK(journal_->SaveResult(Result(1, TaskState::kOk)));
  ASSERT_OK(journal_->CommitUrgent());
  Reopen();
  EXPECT_EQ(TaskPhase::kDone, Load().at(0).phase);
}

TEST_F(JournalTest, UncommittedWritesAreRolledBack) {
  ASSERT_OK(journal_->Add(Task(1), 1000));
  EXPECT_TRUE(journal_->HasPending());
  Reopen();
  EXPECT_TRUE(Load().empty());
}

// TaskBoard turns such a task into a LOST result (task_board_test.cc).
TEST_F(JournalTest, StartedTaskWithoutResultIsReportedStartedAfterRestart) {
  ASSERT_OK(journal_->Add(Task(1), 1000));
  ASSERT_OK(journal_->MarkStarted(1, 2000));
  ASSERT_OK(journal_->Commit());
  Reopen();
  std::vector<JournalEntry> entries = Load();
  ASSERT_EQ(TaskPhase::kStarted, entries.at(0).phase);
  EXPECT_FALSE(entries[0].result.has_value());
}

TEST_F(JournalTest, AcceptedAndFinishedTasksKeepTheirPhaseAfterRestart) {
  ASSERT_OK(journal_->Add(Task(1), 1000));
  ASSERT_OK(journal_->Add(Task(2), 1000));
  ASSERT_OK(journal_->MarkStarted(2, 2000));
  ASSERT_OK(journal_->SaveResult(Result(2, TaskState::kFail)));
  ASSERT_OK(journal_->Commit());
  Reopen();
  std::vector<JournalEntry> entries = Load();
  EXPECT_EQ(TaskPhase::kAccepted, entries.at(0).phase);
  EXPECT_EQ(TaskState::kFail, entries.at(1).result->state);
}

TEST_F(JournalTest, FileIsPrivate) {
  struct stat st;
  ASSERT_EQ(0, ::stat(dir_.File("player.db").c_str(), &st));
  EXPECT_EQ(0u, st.st_mode & 077);
}

}  // namespace
}  // namespace orchestra::player
