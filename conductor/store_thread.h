// StoreThread runs the store's writes on a thread of its own (DESIGN.md
// sections 8 and 17). The loop hands it each turn's writes (Submit()) and
// goes on with the next turn; the thread runs every batch that has come in
// through its engine in one transaction and commits them together (group
// commit), so the loop prepares turn N+1 while turn N's commit syncs
// (pipelining). Each batch is reported done, in order, with the status of
// its commit (TakeDone()); fd() becomes readable when reports wait.
//
// A failed commit fails its batches and every later batch of the same
// epoch, which were built on the lost writes; the loop starts a new epoch
// for what it writes next. The destructor commits what is queued: no
// submitted batch is dropped.

#ifndef ORCHESTRA_CONDUCTOR_STORE_THREAD_H_
#define ORCHESTRA_CONDUCTOR_STORE_THREAD_H_

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "common/sqlite.h"
#include "common/status.h"
#include "common/unique_fd.h"
#include "conductor/store_engine.h"
#include "conductor/store_writes.h"

namespace orchestra::conductor {

// What became of one submitted batch.
struct StoreDone {
  uint64_t turn = 0;
  uint64_t epoch = 0;
  common::Status status;      // of its commit
  // How long the commit that held it took, on the first batch it held
  // (0 on the others: a commit is timed once).
  double commit_seconds = 0;
  // After a batch that asked for one, when the commit succeeded.
  std::optional<common::Result<common::CheckpointResult>> checkpoint;
};

class StoreThread {
 public:
  // Starts the thread; `engine` is used on it alone from now on.
  explicit StoreThread(std::unique_ptr<StoreEngine> engine);
  // Commits what is queued, then stops the thread.
  ~StoreThread();

  StoreThread(const StoreThread&) = delete;
  StoreThread& operator=(const StoreThread&) = delete;

  // Queues `batch`; its report follows those of every batch before it.
  void Submit(StoreBatch batch);
  // The reports ready now, in the order of the batches.
  std::vector<StoreDone> TakeDone();
  // Blocks until every batch submitted so far has been reported.
  void WaitUntilIdle();
  // Readable while reports wait for TakeDone() (an eventfd).
  int fd() const { return event_.get(); }

 private:
  void Run();
  // Runs `batches` in one transaction; one report each.
  std::vector<StoreDone> Apply(std::vector<StoreBatch>* batches);
  void Wake();

  std::unique_ptr<StoreEngine> engine_;  // on the thread
  common::UniqueFd event_;
  std::mutex mu_;
  std::condition_variable work_;  // queue_ or stop_ changed
  std::condition_variable idle_;  // a report was made
  std::deque<StoreBatch> queue_;
  std::vector<StoreDone> done_;
  uint64_t submitted_ = 0;  // batches, in all
  uint64_t reported_ = 0;
  // Batches of this epoch and older fail unrun: a commit of it failed.
  std::optional<uint64_t> failed_epoch_;
  bool stop_ = false;
  std::thread thread_;  // last: started once the rest is ready
};

}  // namespace orchestra::conductor

#endif  // ORCHESTRA_CONDUCTOR_STORE_THREAD_H_
