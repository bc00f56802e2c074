// One lock guards the queue and the reports; the engine is touched by the
// thread alone, outside the lock, so Submit() never waits for a commit.

#include "conductor/store_thread.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <chrono>
#include <utility>

namespace orchestra::conductor {

using common::Status;

namespace {

// Batches one transaction takes at most: a backlog commits in a few
// transactions, none of them unbounded.
constexpr size_t kMaxBatchesPerCommit = 256;

}  // namespace

StoreThread::StoreThread(std::unique_ptr<StoreEngine> engine)
    : engine_(std::move(engine)),
      event_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)),
      thread_([this] { Run(); }) {}

StoreThread::~StoreThread() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  work_.notify_one();
  thread_.join();
}

void StoreThread::Submit(StoreBatch batch) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.push_back(std::move(batch));
    ++submitted_;
  }
  work_.notify_one();
}

std::vector<StoreDone> StoreThread::TakeDone() {
  uint64_t count = 0;
  (void)!::read(event_.get(), &count, sizeof count);  // EAGAIN: none yet
  std::lock_guard<std::mutex> lock(mu_);
  return std::exchange(done_, {});
}

void StoreThread::WaitUntilIdle() {
  std::unique_lock<std::mutex> lock(mu_);
  idle_.wait(lock, [this] { return reported_ == submitted_; });
}

void StoreThread::Wake() {
  const uint64_t one = 1;
  (void)!::write(event_.get(), &one, sizeof one);
}

void StoreThread::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    work_.wait(lock, [this] { return stop_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stop_, and everything is committed
    std::vector<StoreBatch> batches;
    while (!queue_.empty() && batches.size() < kMaxBatchesPerCommit) {
      batches.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
    lock.unlock();
    std::vector<StoreDone> done = Apply(&batches);
    lock.lock();
    reported_ += done.size();
    for (StoreDone& d : done) done_.push_back(std::move(d));
    Wake();
    idle_.notify_all();
  }
}

// Batches of a failed epoch are reported failed without running: the
// writes they follow on are gone. failed_epoch_ is the thread's own.
std::vector<StoreDone> StoreThread::Apply(std::vector<StoreBatch>* batches) {
  std::vector<StoreDone> done(batches->size());
  Status s;
  bool ran = false, checkpoint = false;
  const auto start = std::chrono::steady_clock::now();
  for (size_t i = 0; i < batches->size(); ++i) {
    const StoreBatch& b = (*batches)[i];
    done[i].turn = b.turn;
    done[i].epoch = b.epoch;
    if (failed_epoch_ && b.epoch <= *failed_epoch_) {
      done[i].status = Status::Unavailable(
          "store", "an earlier write of this turn's epoch failed");
      continue;
    }
    ran = true;
    checkpoint = checkpoint || b.checkpoint;
    for (const StoreWrite& w : b.writes) {
      if (!s.ok()) break;
      s = engine_->Execute(w);
    }
  }
  if (!ran) return done;
  if (s.ok()) s = engine_->Commit();
  if (!s.ok()) engine_->Rollback();
  const std::chrono::duration<double> took =
      std::chrono::steady_clock::now() - start;
  std::optional<common::Result<common::CheckpointResult>> copied;
  if (s.ok() && checkpoint) copied = engine_->Checkpoint();
  bool timed = false;  // The commit is timed once, on its first batch
  for (size_t i = 0; i < batches->size(); ++i) {
    const StoreBatch& b = (*batches)[i];
    if (failed_epoch_ && b.epoch <= *failed_epoch_) continue;
    done[i].status = s;
    if (!timed) done[i].commit_seconds = took.count();
    timed = true;
    if (b.checkpoint) done[i].checkpoint = copied;
  }
  if (!s.ok()) {
    for (const StoreBatch& b : *batches)
      failed_epoch_ = std::max(failed_epoch_.value_or(0), b.epoch);
  }
  return done;
}

}  // namespace orchestra::conductor
