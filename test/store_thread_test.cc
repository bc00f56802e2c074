// Tests for conductor/store_thread.h: StoreThread's contract with its
// engine, on a fake engine that records what it runs and commits and can
// fail or hold a commit (so pipelining and group commit can be seen), and
// once on the real SqliteEngine. No test sleeps: each waits for an event
// (the fake's condition variable, poll() on fd()) with a deadline.

#include "conductor/store_thread.h"

#include <gtest/gtest.h>
#include <poll.h>

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "common/sqlite.h"
#include "conductor/sqlite_engine.h"
#include "conductor/store_engine.h"
#include "conductor/store_writes.h"
#include "test/test_util.h"

namespace orchestra::conductor {
namespace {

using common::Status;
using Ids = std::vector<int64_t>;

// Generous: a sanitized build on a loaded machine is slow.
constexpr std::chrono::seconds kDeadline(60);

// What the fake engine did, shared with the test: the engine itself is
// the StoreThread's. Every field is guarded by mu.
struct EngineLog {
  std::mutex mu;
  std::condition_variable changed;  // any field changed
  Ids executed;                     // every write run, in order
  Ids open;                         // the open transaction's writes
  std::vector<Ids> commits;         // each successful commit's writes
  int commit_calls = 0;             // successful or not
  int rollback_calls = 0;
  int checkpoint_calls = 0;
  int checkpoint_in_transaction = 0;  // Checkpoint() with one open
  int wrong_thread = 0;  // calls from another thread than the first's
  std::thread::id engine_thread;
  // Switches.
  bool hold_commit = false;   // Commit() waits while set
  int commits_fail = 0;       // the next this many commits fail
  int64_t fail_execute = -1;  // Execute() of this write id fails

  // Every id committed, in commit order.
  Ids Committed() {
    std::lock_guard<std::mutex> lock(mu);
    Ids all;
    for (const Ids& c : commits) all.insert(all.end(), c.begin(), c.end());
    return all;
  }
  // Waits until `done` (called under mu) holds; false at the deadline.
  template <typename Pred>
  bool WaitFor(Pred done) {
    std::unique_lock<std::mutex> lock(mu);
    return changed.wait_for(lock, kDeadline, done);
  }
  void Hold() {
    std::lock_guard<std::mutex> lock(mu);
    hold_commit = true;
  }
  void Release() {
    {
      std::lock_guard<std::mutex> lock(mu);
      hold_commit = false;
    }
    changed.notify_all();
  }
};

// Each write is a kProbe carrying its id as ?1.
class FakeEngine : public StoreEngine {
 public:
  explicit FakeEngine(std::shared_ptr<EngineLog> log) : log_(std::move(log)) {}

  Status Execute(const StoreWrite& write) override {
    std::lock_guard<std::mutex> lock(log_->mu);
    CheckThread();
    const int64_t id = std::get<int64_t>(write.values.at(0));
    log_->executed.push_back(id);
    log_->changed.notify_all();
    if (id == log_->fail_execute)
      return Status::IoError("fake", "execute failed");
    log_->open.push_back(id);
    return Status();
  }

  Status Commit() override {
    std::unique_lock<std::mutex> lock(log_->mu);
    CheckThread();
    ++log_->commit_calls;
    log_->changed.notify_all();
    log_->changed.wait(lock, [this] { return !log_->hold_commit; });
    Ids writes = std::exchange(log_->open, {});
    if (log_->commits_fail > 0) {
      --log_->commits_fail;  // rolled back, as the contract says
      return Status::IoError("fake", "commit failed");
    }
    log_->commits.push_back(std::move(writes));
    log_->changed.notify_all();
    return Status();
  }

  void Rollback() override {
    std::lock_guard<std::mutex> lock(log_->mu);
    CheckThread();
    ++log_->rollback_calls;
    log_->open.clear();
    log_->changed.notify_all();
  }

  common::Result<common::CheckpointResult> Checkpoint() override {
    std::lock_guard<std::mutex> lock(log_->mu);
    CheckThread();
    ++log_->checkpoint_calls;
    if (!log_->open.empty()) ++log_->checkpoint_in_transaction;
    log_->changed.notify_all();
    return common::CheckpointResult{7, 7};
  }

 private:
  void CheckThread() {  // REQUIRES: log_->mu held
    if (log_->engine_thread == std::thread::id())
      log_->engine_thread = std::this_thread::get_id();
    else if (log_->engine_thread != std::this_thread::get_id())
      ++log_->wrong_thread;
  }

  std::shared_ptr<EngineLog> log_;
};

StoreBatch Batch(uint64_t turn, uint64_t epoch, const Ids& ids,
                 bool checkpoint = false) {
  StoreBatch batch;
  batch.turn = turn;
  batch.epoch = epoch;
  batch.checkpoint = checkpoint;
  for (int64_t id : ids) batch.writes.push_back({WriteKind::kProbe, {id}});
  return batch;
}

// Whether `fd` is readable within `timeout_ms` (0: now).
bool Readable(int fd, int timeout_ms) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, timeout_ms) == 1 && (p.revents & POLLIN);
}

std::vector<uint64_t> Turns(const std::vector<StoreDone>& done) {
  std::vector<uint64_t> turns;
  for (const StoreDone& d : done) turns.push_back(d.turn);
  return turns;
}

class StoreThreadTest : public testing::Test {
 protected:
  StoreThreadTest()
      : log_(std::make_shared<EngineLog>()),
        thread_(
            std::make_unique<StoreThread>(std::make_unique<FakeEngine>(log_))) {
  }

  ~StoreThreadTest() override {
    log_->Release();  // never leave the thread held
    thread_.reset();
    std::lock_guard<std::mutex> lock(log_->mu);
    EXPECT_EQ(0, log_->wrong_thread) << "the engine was used on two threads";
    EXPECT_EQ(0, log_->checkpoint_in_transaction);
  }

  // Takes reports, waiting on fd() for more, until there are `count` (or
  // more, or the deadline passed).
  std::vector<StoreDone> Collect(size_t count) {
    std::vector<StoreDone> all;
    const auto end = std::chrono::steady_clock::now() + kDeadline;
    while (all.size() < count) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          end - std::chrono::steady_clock::now());
      if (left.count() <= 0) break;
      if (!Readable(thread_->fd(), static_cast<int>(left.count()))) continue;
      for (StoreDone& d : thread_->TakeDone()) all.push_back(std::move(d));
    }
    return all;
  }

  // Waits until the fake has been asked to commit `calls` times in all.
  bool CommitCalled(int calls) {
    return log_->WaitFor([&] { return log_->commit_calls >= calls; });
  }

  std::shared_ptr<EngineLog> log_;
  std::unique_ptr<StoreThread> thread_;
};

TEST_F(StoreThreadTest, ReportsABatchOnlyAfterItsCommit) {
  log_->Hold();
  thread_->Submit(Batch(1, 1, {10, 11, 12}));
  ASSERT_TRUE(CommitCalled(1));
  {
    std::lock_guard<std::mutex> lock(log_->mu);
    EXPECT_EQ((Ids{10, 11, 12}), log_->executed);  // in order
    EXPECT_TRUE(log_->commits.empty());
  }
  // The commit is held: no report yet, and nothing says there is one.
  EXPECT_FALSE(Readable(thread_->fd(), 0));
  EXPECT_TRUE(thread_->TakeDone().empty());

  log_->Release();
  ASSERT_TRUE(Readable(thread_->fd(), 60000));
  std::vector<StoreDone> done = thread_->TakeDone();
  ASSERT_EQ(1u, done.size());
  EXPECT_EQ(1u, done[0].turn);
  EXPECT_EQ(1u, done[0].epoch);
  EXPECT_OK(done[0].status);
  EXPECT_FALSE(done[0].checkpoint.has_value());
  EXPECT_EQ((Ids{10, 11, 12}), log_->Committed());
  std::lock_guard<std::mutex> lock(log_->mu);
  EXPECT_EQ(1, log_->commit_calls);
}

TEST_F(StoreThreadTest, ReportsComeBackInSubmitOrder) {
  for (uint64_t turn = 1; turn <= 50; ++turn) {
    const int64_t id = static_cast<int64_t>(turn) * 10;
    thread_->Submit(Batch(turn, 1, {id, id + 1}));
  }
  std::vector<StoreDone> done = Collect(50);
  ASSERT_EQ(50u, done.size());
  for (uint64_t turn = 1; turn <= 50; ++turn) {
    EXPECT_EQ(turn, done[turn - 1].turn);
    EXPECT_OK(done[turn - 1].status);
  }
  Ids expected;
  for (int64_t turn = 1; turn <= 50; ++turn) {
    expected.push_back(turn * 10);
    expected.push_back(turn * 10 + 1);
  }
  std::lock_guard<std::mutex> lock(log_->mu);
  EXPECT_EQ(expected, log_->executed);
}

TEST_F(StoreThreadTest, BatchesSubmittedDuringACommitShareTheNextCommit) {
  log_->Hold();
  thread_->Submit(Batch(1, 1, {1}));
  ASSERT_TRUE(CommitCalled(1));
  // The loop goes on while turn 1 commits (pipelining).
  thread_->Submit(Batch(2, 1, {2}));
  thread_->Submit(Batch(3, 1, {3, 4}));
  thread_->Submit(Batch(4, 1, {5}));
  EXPECT_TRUE(thread_->TakeDone().empty());
  log_->Release();

  std::vector<StoreDone> done = Collect(4);
  ASSERT_EQ(4u, done.size());
  EXPECT_EQ((std::vector<uint64_t>{1, 2, 3, 4}), Turns(done));
  for (const StoreDone& d : done) EXPECT_OK(d.status);
  std::lock_guard<std::mutex> lock(log_->mu);
  EXPECT_EQ(2, log_->commit_calls);  // turns 2 to 4 in one commit
  EXPECT_EQ((std::vector<Ids>{{1}, {2, 3, 4, 5}}), log_->commits);
}

TEST_F(StoreThreadTest, AFailedCommitFailsTheRestOfItsEpoch) {
  {
    std::lock_guard<std::mutex> lock(log_->mu);
    log_->commits_fail = 1;
    log_->hold_commit = true;
  }
  thread_->Submit(Batch(1, 1, {1}));
  ASSERT_TRUE(CommitCalled(1));
  // Built on turn 1's writes, which will be lost.
  thread_->Submit(Batch(2, 1, {2}));
  thread_->Submit(Batch(3, 1, {3}));
  // The loop's new epoch after it heard of the failure.
  thread_->Submit(Batch(4, 2, {4}));
  log_->Release();
  std::vector<StoreDone> done = Collect(4);
  // Later, a batch of the failed epoch still fails unrun.
  thread_->Submit(Batch(5, 1, {5}));
  thread_->Submit(Batch(6, 2, {6}));
  for (StoreDone& d : Collect(2)) done.push_back(std::move(d));

  ASSERT_EQ(6u, done.size());
  EXPECT_EQ((std::vector<uint64_t>{1, 2, 3, 4, 5, 6}), Turns(done));
  EXPECT_EQ(common::Status::Code::kIoError, done[0].status.code());
  EXPECT_NE(std::string::npos, done[0].status.ToString().find("commit failed"))
      << done[0].status.ToString();
  EXPECT_FALSE(done[1].status.ok());
  EXPECT_FALSE(done[2].status.ok());
  EXPECT_OK(done[3].status);
  EXPECT_FALSE(done[4].status.ok());
  EXPECT_OK(done[5].status);
  for (size_t i : {1, 2, 4}) EXPECT_EQ(1u, done[i].epoch);
  std::lock_guard<std::mutex> lock(log_->mu);
  EXPECT_EQ((Ids{1, 4, 6}), log_->executed);  // 2, 3 and 5 never ran
  EXPECT_EQ((std::vector<Ids>{{4}, {6}}), log_->commits);
}

TEST_F(StoreThreadTest, AFailedWriteRollsBackAndIsReported) {
  {
    std::lock_guard<std::mutex> lock(log_->mu);
    log_->fail_execute = 2;
  }
  thread_->Submit(Batch(1, 1, {1, 2, 3}));
  std::vector<StoreDone> done = Collect(1);
  ASSERT_EQ(1u, done.size());
  EXPECT_EQ(common::Status::Code::kIoError, done[0].status.code());
  EXPECT_NE(std::string::npos, done[0].status.ToString().find("execute failed"))
      << done[0].status.ToString();
  {
    std::lock_guard<std::mutex> lock(log_->mu);
    EXPECT_EQ((Ids{1, 2}), log_->executed);  // stopped at the failure
    EXPECT_EQ(1, log_->rollback_calls);
    EXPECT_EQ(0, log_->commit_calls);
    EXPECT_TRUE(log_->open.empty());
    EXPECT_TRUE(log_->commits.empty());
  }

  // The same epoch fails unrun; the next one commits.
  thread_->Submit(Batch(2, 1, {4}));
  thread_->Submit(Batch(3, 2, {5}));
  done = Collect(2);
  ASSERT_EQ(2u, done.size());
  EXPECT_EQ((std::vector<uint64_t>{2, 3}), Turns(done));
  EXPECT_FALSE(done[0].status.ok());
  EXPECT_OK(done[1].status);
  EXPECT_EQ((Ids{5}), log_->Committed());
}

TEST_F(StoreThreadTest, DestructorCommitsWhatIsQueued) {
  log_->Hold();
  thread_->Submit(Batch(1, 1, {1}));
  ASSERT_TRUE(CommitCalled(1));
  for (uint64_t turn = 2; turn <= 100; ++turn)
    thread_->Submit(Batch(turn, 1, {int64_t(turn)}));
  // The commit is released while the destructor may already wait.
  std::thread release([this] { log_->Release(); });
  thread_.reset();
  release.join();

  Ids expected;
  for (int64_t id = 1; id <= 100; ++id) expected.push_back(id);
  EXPECT_EQ(expected, log_->Committed());
  std::lock_guard<std::mutex> lock(log_->mu);
  EXPECT_EQ(expected, log_->executed);
}

TEST_F(StoreThreadTest, DestructorCommitsWhatIsQueuedAfterARelease) {
  log_->Hold();
  thread_->Submit(Batch(1, 1, {1}));
  ASSERT_TRUE(CommitCalled(1));
  for (uint64_t turn = 2; turn <= 100; ++turn)
    thread_->Submit(Batch(turn, 1, {int64_t(turn)}));
  log_->Release();
  thread_.reset();

  Ids expected;
  for (int64_t id = 1; id <= 100; ++id) expected.push_back(id);
  EXPECT_EQ(expected, log_->Committed());
}

TEST_F(StoreThreadTest, LosesNoWorkWithManyTurnsInFlight) {
  constexpr uint64_t kTurns = 10000;
  Ids expected;
  int64_t next_id = 0;
  for (uint64_t turn = 1; turn <= kTurns; ++turn) {
    Ids ids;
    for (uint64_t i = 0; i < 1 + turn % 3; ++i) ids.push_back(++next_id);
    expected.insert(expected.end(), ids.begin(), ids.end());
    thread_->Submit(Batch(turn, 1, ids));
  }
  std::vector<StoreDone> done = Collect(kTurns);
  ASSERT_EQ(kTurns, done.size());
  size_t out_of_order = 0, failed = 0;
  for (uint64_t i = 0; i < kTurns; ++i) {
    if (done[i].turn != i + 1) ++out_of_order;
    if (!done[i].status.ok()) ++failed;
  }
  EXPECT_EQ(0u, out_of_order);
  EXPECT_EQ(0u, failed);
  thread_->WaitUntilIdle();
  EXPECT_TRUE(thread_->TakeDone().empty());  // reported exactly once
  EXPECT_EQ(expected, log_->Committed());
  std::lock_guard<std::mutex> lock(log_->mu);
  EXPECT_EQ(expected, log_->executed);  // each write once, in order
  EXPECT_LE(log_->commit_calls, static_cast<int>(kTurns));
}

TEST_F(StoreThreadTest, CheckpointsOnlyAfterASuccessfulCommit) {
  thread_->Submit(Batch(1, 1, {1}, /*checkpoint=*/true));
  std::vector<StoreDone> done = Collect(1);
  ASSERT_EQ(1u, done.size());
  EXPECT_OK(done[0].status);
  ASSERT_TRUE(done[0].checkpoint.has_value());
  ASSERT_TRUE(done[0].checkpoint->ok());
  EXPECT_EQ(7, done[0].checkpoint->value().wal_frames);
  {
    std::lock_guard<std::mutex> lock(log_->mu);
    EXPECT_EQ(1, log_->checkpoint_calls);
    log_->commits_fail = 1;
  }

  thread_->Submit(Batch(2, 1, {2}, /*checkpoint=*/true));
  done = Collect(1);
  ASSERT_EQ(1u, done.size());
  EXPECT_FALSE(done[0].status.ok());
  EXPECT_FALSE(done[0].checkpoint.has_value());

  // A batch that asks for none gets none.
  thread_->Submit(Batch(3, 2, {3}));
  done = Collect(1);
  ASSERT_EQ(1u, done.size());
  EXPECT_OK(done[0].status);
  EXPECT_FALSE(done[0].checkpoint.has_value());
  std::lock_guard<std::mutex> lock(log_->mu);
  EXPECT_EQ(1, log_->checkpoint_calls);
}

TEST_F(StoreThreadTest, FdIsReadableWhileReportsWait) {
  EXPECT_FALSE(Readable(thread_->fd(), 0));
  thread_->Submit(Batch(1, 1, {1}));
  thread_->Submit(Batch(2, 1, {2}));
  thread_->WaitUntilIdle();
  EXPECT_TRUE(Readable(thread_->fd(), 0));
  EXPECT_TRUE(Readable(thread_->fd(), 0));  // until they are taken
  EXPECT_EQ((std::vector<uint64_t>{1, 2}), Turns(thread_->TakeDone()));
  EXPECT_FALSE(Readable(thread_->fd(), 0));
  EXPECT_TRUE(thread_->TakeDone().empty());
}

TEST(StoreThreadSqliteTest, CommitsAWriteToTheDatabase) {
  test::TempDir dir;
  const std::string path = dir.File("conductor.db");
  auto engine = SqliteEngine::Open(path);
  ASSERT_OK(engine.status());
  {
    StoreThread thread(std::move(engine).value());
    StoreBatch batch;
    batch.turn = 1;
    batch.epoch = 1;
    batch.checkpoint = true;
    batch.writes.push_back({WriteKind::kSaveKey,
                            {std::string("alpha"), std::string("KEY-A"),
                             std::string("{\"rack\":\"r1\"}")}});
    thread.Submit(std::move(batch));
    thread.WaitUntilIdle();
    std::vector<StoreDone> done = thread.TakeDone();
    ASSERT_EQ(1u, done.size());
    EXPECT_OK(done[0].status);
    ASSERT_TRUE(done[0].checkpoint.has_value());
    EXPECT_OK(done[0].checkpoint->status());

    // Committed before it was reported: a reader sees it now.
    auto db = common::Database::OpenReadOnly(path);
    ASSERT_OK(db.status());
    auto select = db.value().Prepare(
        "SELECT public_key, labels FROM players WHERE name = ?1");
    ASSERT_OK(select.status());
    select.value().Bind(1, "alpha");
    auto row = select.value().Step();
    ASSERT_OK(row.status());
    ASSERT_TRUE(row.value());
    EXPECT_EQ("KEY-A", select.value().Text(0));
    EXPECT_EQ("{\"rack\":\"r1\"}", select.value().Text(1));
  }
}

}  // namespace
}  // namespace orchestra::conductor
