#include "conductor/scheduler.h"

namespace orchestra::conductor {

void Scheduler::Connect(const std::string& player, int slots, int busy) {
  PlayerSlots& p = players_[player];
  p.connected = true;
  p.slots = slots;
  p.busy = busy;
  Fill(player);
}

void Scheduler::Disconnect(const std::string& player) {
  auto it = players_.find(player);
  if (it != players_.end()) it->second.connected = false;
}

void Scheduler::SetJob(JobId job, int64_t priority, int64_t limit) {
  if (priority == 0 && limit <= 0 && !jobs_.count(job)) return;
  JobLimit& j = jobs_[job];
  j.priority = priority;
  j.limit = limit > 0 ? limit : 0;
}

void Scheduler::Hold(JobId job) {
  auto it = jobs_.find(job);
  if (it != jobs_.end()) ++it->second.held;
}

void Scheduler::ForgetJob(JobId job) { jobs_.erase(job); }

Scheduler::Key Scheduler::KeyOf(JobId job, TaskId task) const {
  auto it = jobs_.find(job);
  return Key{it == jobs_.end() ? 0 : -it->second.priority, job, task};
}

bool Scheduler::AtLimit(JobId job) const {
  auto it = jobs_.find(job);
  return it != jobs_.end() && it->second.limit > 0 &&
         it->second.held >= it->second.limit;
}

void Scheduler::EnqueueFor(JobId job, TaskId task, const std::string& player) {
  EnqueueAny(job, task, {player});
}

const std::string* Scheduler::BestPlayer(
    const std::vector<std::string>& players) const {
  const std::string* best = nullptr;
  int best_free = 0;
  for (const std::string& name : players) {
    auto it = players_.find(name);
    if (it == players_.end()) continue;
    int free = FreeSlots(it->second);
    if (free > best_free) {
      best = &name;
      best_free = free;
    }
  }
  return best;
}

void Scheduler::EnqueueAny(JobId job, TaskId task,
                           const std::vector<std::string>& players) {
  const Key key = KeyOf(job, task);
  queued_[task] = QueuedTask{key, players};
  auto limited = jobs_.find(job);
  if (limited != jobs_.end()) limited->second.waiting.insert(task);
  const std::string* best = AtLimit(job) ? nullptr : BestPlayer(players);
  if (best != nullptr) {
    const std::string player = *best;
    Assign(task, player);
    return;
  }
  for (const std::string& name : players) players_[name].waiting.insert(key);
}

void Scheduler::Remove(TaskId task) {
  auto it = queued_.find(task);
  if (it == queued_.end()) return;
  for (const std::string& name : it->second.players) {
    auto p = players_.find(name);
    if (p != players_.end()) p->second.waiting.erase(it->second.key);
  }
  auto limited = jobs_.find(it->second.key.job);
  if (limited != jobs_.end()) limited->second.waiting.erase(task);
  queued_.erase(it);
}

void Scheduler::Release(const std::string& player, JobId job) {
  auto limited = jobs_.find(job);
  if (limited != jobs_.end() && limited->second.held > 0)
    --limited->second.held;
  auto it = players_.find(player);
  if (it != players_.end()) {
    if (it->second.busy > 0) --it->second.busy;
    Fill(player);
  }
  if (limited != jobs_.end()) FillJob(job);
}

std::vector<Scheduler::Assignment> Scheduler::TakeAssignments() {
  std::vector<Assignment> out;
  out.swap(assignments_);
  return out;
}

int Scheduler::Busy(const std::string& player) const {
  auto it = players_.find(player);
  return it == players_.end() ? 0 : it->second.busy;
}

// Offline when none of its players is connected; rollout when its job is
// at its limit; earlier jobs when, on each connected player, a task of
// another job is first in line before it; else busy (it is next in line
// for a slot).
std::optional<broker::WaitReason> Scheduler::WhyWaiting(TaskId task) const {
  auto it = queued_.find(task);
  if (it == queued_.end()) return std::nullopt;
  const Key& key = it->second.key;
  bool connected = false;
  bool first_somewhere = false;
  for (const std::string& name : it->second.players) {
    auto p = players_.find(name);
    if (p == players_.end() || !p->second.connected) continue;
    connected = true;
    const std::set<Key>& waiting = p->second.waiting;
    if (waiting.empty() || !(*waiting.begin() < key) ||
        waiting.begin()->job == key.job)
      first_somewhere = true;
  }
  if (!connected) return broker::WaitReason::kPlayerOffline;
  if (AtLimit(key.job)) return broker::WaitReason::kRollout;
  if (!first_somewhere) return broker::WaitReason::kEarlierJobs;
  return broker::WaitReason::kPlayerBusy;
}

void Scheduler::Assign(TaskId task, const std::string& player) {
  auto it = queued_.find(task);
  const Key key = it->second.key;
  std::vector<std::string> players = std::move(it->second.players);
  queued_.erase(it);
  for (const std::string& name : players) {
    if (name == player) continue;
    auto p = players_.find(name);
    if (p != players_.end()) p->second.waiting.erase(key);
  }
  auto limited = jobs_.find(key.job);
  if (limited != jobs_.end()) {
    limited->second.waiting.erase(task);
    ++limited->second.held;
  }
  PlayerSlots& p = players_[player];
  p.waiting.erase(key);
  ++p.busy;
  assignments_.push_back(Assignment{key.job, task, player});
}

// Tasks of a job at its limit stay where they are, in order, and are
// passed over.
void Scheduler::Fill(const std::string& player) {
  PlayerSlots& p = players_[player];
  auto it = p.waiting.begin();
  while (FreeSlots(p) > 0 && it != p.waiting.end()) {
    const Key key = *it;
    ++it;  // Assign() erases `key` only
    if (AtLimit(key.job)) {
      jobs_.at(key.job).waiting.insert(key.task);  // it has a free slot now
      continue;
    }
    Assign(key.task, player);
  }
}

void Scheduler::FillJob(JobId job) {
  auto limited = jobs_.find(job);
  if (limited == jobs_.end() || limited->second.limit == 0) return;
  const std::set<TaskId>& waiting = limited->second.waiting;
  auto it = waiting.begin();
  while (!AtLimit(job) && it != waiting.end()) {
    const TaskId task = *it;
    ++it;  // Assign() erases `task` only
    const std::string* best = BestPlayer(queued_.at(task).players);
    if (best == nullptr) {
      limited->second.waiting.erase(task);  // parked until Fill() of its player
      continue;
    }
    const std::string player = *best;
    Assign(task, player);
  }
}

}  // namespace orchestra::conductor
