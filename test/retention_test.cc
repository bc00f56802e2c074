// Tests for conductor/retention.h in a Core (a real JobStore file) with a
// fake clock: what is old enough goes, in batches of bounded size, the sweep
// ends with a checkpoint and one log line, and 0 days keeps everything.

#include "conductor/retention.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "common/log.h"
#include "test/conductor_samples.h"
#include "test/fake_clock.h"
#include "test/test_util.h"

namespace orchestra::conductor {
namespace {

using broker::JobState;
using broker::Scope;
using common::Result;
using common::TimeMs;

constexpr TimeMs kDayMs = 86400 * 1000;

class RetentionTest : public testing::Test {
 protected:
  void SetUp() override {
    common::SetLogSinkForTest([this](common::LogLevel, std::string_view line) {
      logged_.emplace_back(line);
    });
    config_.retention_days = 2;
    ASSERT_NO_FATAL_FAILURE(test::OpenCore(dir_.File("conductor.db"), &clock_,
                                           {"web-1"}, &core_, config_));
    store_ = core_->store();
    retention_ = core_->retention();
    retention_->set_config(&config_);  // which the tests change as they go
    logged_.clear();
  }
  void TearDown() override { common::SetLogSinkForTest(nullptr); }

  // Adds `count` `all` jobs on one player, finished now.
  std::vector<JobId> FinishJobs(int count) {
    std::vector<JobId> ids;
    for (int i = 0; i < count; ++i) {
      JobRecord job = test::SampleJob(Scope::kAll, {"web-1"}, clock_.Now());
      EXPECT_OK(store_->InsertJob(&job, ""));
      job.state = JobState::kOk;
      job.finished_at = clock_.Now();
      EXPECT_OK(store_->UpdateJobState(job));
      ids.push_back(job.id);
    }
    EXPECT_OK(store_->Commit());
    return ids;
  }
  bool Exists(JobId id) { return test::StoredJob(store_, id).has_value(); }
  // A tick, its turn committed; -1 on error.
  TimeMs Tick() {
    const TimeMs next = TickUncommitted();
    EXPECT_OK(core_->CommitTurn());
    EXPECT_OK(core_->Settle());
    return next;
  }
  // A tick whose deletions stay planned, not committed.
  TimeMs TickUncommitted() {
    Result<TimeMs> next = retention_->Tick();
    EXPECT_OK(next.status());
    return next.ok() ? next.value() : -1;
  }

  test::TempDir dir_;
  test::FakeClock clock_;
  ConductorConfig config_;
  std::unique_ptr<Core> core_;
  JobStore* store_ = nullptr;
  Retention* retention_ = nullptr;
  std::vector<std::string> logged_;
};

TEST_F(RetentionTest, DeletesOnlyJobsFinishedBeforeTheRetention) {
  std::vector<JobId> old_jobs = FinishJobs(3);
  clock_.Advance(kDayMs);
  std::vector<JobId> new_jobs = FinishJobs(2);
  clock_.Advance(kDayMs + 1);  // the old ones are now 2 days + 1 ms old
  Tick();
  for (JobId id : old_jobs) EXPECT_FALSE(Exists(id)) << id;
  for (JobId id : new_jobs) EXPECT_TRUE(Exists(id)) << id;
}

TEST_F(RetentionTest, BacklogIsDeletedInBoundedBatchesThenLogged) {
  // 200 jobs of 3 rows each: 600 rows, more than one tick may delete.
  std::vector<JobId> jobs = FinishJobs(200);
  clock_.Advance(3 * kDayMs);
  EXPECT_EQ(kRetentionBusyMs, Tick());
  EXPECT_TRUE(Exists(jobs.back())) << "one tick deleted everything";
  EXPECT_TRUE(logged_.empty()) << "the sweep is not over";
  EXPECT_EQ(kRetentionBusyMs, Tick());
  EXPECT_FALSE(Exists(jobs.back()));
  EXPECT_TRUE(logged_.empty()) << "logged before a tick found nothing";
  EXPECT_EQ(retention_->IdlePeriod(), Tick());
  ASSERT_FALSE(logged_.empty());
  EXPECT_NE(std::string::npos,
            logged_[0].find("retention swept jobs=200 rows=600 last_job=" +
                            std::to_string(jobs.back())))
      << logged_[0];
  EXPECT_NE(std::string::npos, logged_[0].find(" ticks=2 ")) << logged_[0];
  // The checkpoint follows the sweep's commit, on the store's thread.
  ASSERT_EQ(2u, logged_.size());
  EXPECT_NE(std::string::npos, logged_[1].find("wal checkpoint wal_frames="))
      << logged_[1];
}

// A tick whose deletions are not committed yet does not plan them again:
// the next tick waits for them.
TEST_F(RetentionTest, ATickWaitsForThePreviousTicksDeletions) {
  std::vector<JobId> jobs = FinishJobs(200);
  clock_.Advance(3 * kDayMs);
  EXPECT_EQ(kRetentionBusyMs, TickUncommitted());
  EXPECT_TRUE(store_->PurgeInFlight());
  EXPECT_EQ(kRetentionBusyMs, TickUncommitted());  // before any commit
  EXPECT_TRUE(logged_.empty()) << "nothing was planned twice";
  EXPECT_OK(core_->CommitTurn());
  EXPECT_OK(core_->Settle());
  EXPECT_FALSE(store_->PurgeInFlight());
  EXPECT_EQ(kRetentionBusyMs, Tick());  // the last 100 rows
  EXPECT_EQ(retention_->IdlePeriod(), Tick());
  EXPECT_FALSE(Exists(jobs.back()));
  ASSERT_FALSE(logged_.empty());
  EXPECT_NE(std::string::npos,
            logged_[0].find("retention swept jobs=200 rows=600 "))
      << logged_[0];
}

// The log line says the rows are gone: a reader who sees it (the soak
// test, an operator) finds them gone, even when the last tick's deletions
// are still waiting for their commit when it runs.
TEST_F(RetentionTest, TheSweepIsLoggedOnlyAfterItsDeletionsAreCommitted) {
  std::vector<JobId> jobs = FinishJobs(2);
  clock_.Advance(3 * kDayMs);
  EXPECT_EQ(kRetentionBusyMs, TickUncommitted());
  EXPECT_TRUE(logged_.empty()) << "logged before the commit";
  EXPECT_EQ(kRetentionBusyMs, TickUncommitted());
  EXPECT_TRUE(logged_.empty()) << "logged before the commit";
  EXPECT_OK(core_->CommitTurn());
  EXPECT_OK(core_->Settle());
  EXPECT_EQ(retention_->IdlePeriod(), Tick());
  for (JobId id : jobs) EXPECT_FALSE(Exists(id)) << id;
  ASSERT_FALSE(logged_.empty());
  EXPECT_NE(std::string::npos,
            logged_[0].find("retention swept jobs=2 rows=6 last_job=" +
                            std::to_string(jobs.back())))
      << logged_[0];
}

TEST_F(RetentionTest, QuietTickLogsNothing) {
  FinishJobs(1);
  EXPECT_EQ(retention_->IdlePeriod(), Tick());
  EXPECT_TRUE(logged_.empty());
}

TEST_F(RetentionTest, ZeroDaysKeepsEverything) {
  config_.retention_days = 0;
  std::vector<JobId> jobs = FinishJobs(2);
  clock_.Advance(10000 * kDayMs);
  EXPECT_EQ(kRetentionMaxIdleMs, Tick());
  EXPECT_TRUE(Exists(jobs[0]));
}

TEST_F(RetentionTest, FractionsOfADayAreHonoured) {
  config_.retention_days = 0.5;
  std::vector<JobId> jobs = FinishJobs(1);
  clock_.Advance(kDayMs / 2 - 1);
  Tick();
  EXPECT_TRUE(Exists(jobs[0]));
  clock_.Advance(2);
  Tick();
  EXPECT_FALSE(Exists(jobs[0]));
}

TEST_F(RetentionTest, IdlePeriodIsATenthOfTheRetentionWithinBounds) {
  config_.retention_days = 30;
  EXPECT_EQ(kRetentionMaxIdleMs, retention_->IdlePeriod());
  config_.retention_days = 0.0001;  // 8.64 s
  EXPECT_EQ(864, retention_->IdlePeriod());
  config_.retention_days = 0.000001;  // 86 ms
  EXPECT_EQ(kRetentionMinIdleMs, retention_->IdlePeriod());
  config_.retention_days = 0;
  EXPECT_EQ(kRetentionMaxIdleMs, retention_->IdlePeriod());
}

}  // namespace
}  // namespace orchestra::conductor
