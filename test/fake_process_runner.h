// FakeProcessRunner: a ProcessRunner that runs nothing. The player loop
// thread starts and stops tasks; the test thread sees what was started and
// decides when and how each task ends. Thread-safe; an eventfd wakes the
// loop when a test finishes a task.

#ifndef ORCHESTRA_TEST_FAKE_PROCESS_RUNNER_H_
#define ORCHESTRA_TEST_FAKE_PROCESS_RUNNER_H_

#include <sys/eventfd.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "common/unique_fd.h"
#include "player/process_runner.h"

namespace orchestra::test {

class FakeProcessRunner : public player::ProcessRunner {
 public:
  using TaskId = broker::TaskId;
  using TaskState = broker::TaskState;

  FakeProcessRunner() : event_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {}

  common::Status Start(const player::ScoreRun& run) override {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!start_error_.empty())
      return common::Status::IoError("exec " + run.path, start_error_);
    started_.push_back(run);
    running_.insert(run.task);
    changed_.notify_all();
    return common::Status();
  }

  void Stop(TaskId task, TaskState outcome) override {
    std::lock_guard<std::mutex> lock(mutex_);
    stops_.emplace_back(task, outcome);
    if (running_.count(task) && !ending_.count(task)) EndLocked(task, outcome);
    changed_.notify_all();
  }

  int fd() const override { return event_.get(); }
  common::TimeMs NextDeadline() const override { return 0; }

  std::vector<broker::TaskResult> Collect() override {
    std::lock_guard<std::mutex> lock(mutex_);
    uint64_t count;
    while (::read(event_.get(), &count, sizeof(count)) > 0) {
    }
    std::vector<broker::TaskResult> done;
    done.swap(ended_);
    for (const broker::TaskResult& r : done) {
      running_.erase(r.task);
      ending_.erase(r.task);
    }
    return done;
  }

  size_t running() const override {
    std::lock_guard<std::mutex> lock(mutex_);
    return running_.size();
  }

  // Test side: ends running task `task` in `state`.
  void Finish(TaskId task, TaskState state) {
    std::lock_guard<std::mutex> lock(mutex_);
    EndLocked(task, state);
  }

  // Waits until `count` tasks were started; false on timeout.
  bool WaitForStarts(size_t count) {
    std::unique_lock<std::mutex> lock(mutex_);
    return changed_.wait_for(lock, std::chrono::seconds(10),
                             [&] { return started_.size() >= count; });
  }

  // Waits until task `task` was stopped; false on timeout.
  bool WaitForStop(TaskId task, TaskState* outcome) {
    std::unique_lock<std::mutex> lock(mutex_);
    return changed_.wait_for(lock, std::chrono::seconds(10), [&] {
      for (const auto& [id, how] : stops_) {
        if (id == task) *outcome = how;
        if (id == task) return true;
      }
      return false;
    });
  }

  std::vector<TaskId> started() const {
    std::lock_guard<std::mutex> lock(mutex_);
    std::vector<TaskId> ids;
    for (const player::ScoreRun& run : started_) ids.push_back(run.task);
    return ids;
  }

  player::ScoreRun run(size_t index) const {
    std::lock_guard<std::mutex> lock(mutex_);
    return started_.at(index);
  }

  // Every Start() from now on fails with `error` (as an exec failure).
  void FailStarts(const std::string& error) {
    std::lock_guard<std::mutex> lock(mutex_);
    start_error_ = error;
  }

 private:
  void EndLocked(TaskId task, TaskState state) {
    broker::TaskResult result;
    result.task = task;
    result.state = state;
    result.exit_code = state == TaskState::kOk ? 0 : 1;
    result.started_at = 1;
    result.finished_at = 2;
    ended_.push_back(result);
    ending_.insert(task);
    uint64_t one = 1;
    ssize_t n = ::write(event_.get(), &one, sizeof(one));
    (void)n;
  }

  mutable std::mutex mutex_;
  std::string start_error_;  // Non-empty: Start() fails
  std::condition_variable changed_;
  common::UniqueFd event_;
  std::vector<player::ScoreRun> started_;
  std::set<TaskId> running_;
  std::set<TaskId> ending_;  // Ended, not yet collected
  std::vector<std::pair<TaskId, TaskState>> stops_;
  std::vector<broker::TaskResult> ended_;
};

}  // namespace orchestra::test

#endif  // ORCHESTRA_TEST_FAKE_PROCESS_RUNNER_H_
