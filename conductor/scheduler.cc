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

void Scheduler::EnqueueFor(JobId job, TaskId task, const std::string& player) {
  EnqueueAny(job, task, {player});
}

void Scheduler::EnqueueAny(JobId job, TaskId task,
                           const std::vector<std::string>& players) {
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
  queued_[task] = QueuedTask{job, players};
  if (best != nullptr) {
    Assign(task, *best);
    return;
  }
  for (const std::string& name : players)
    players_[name].waiting.emplace(job, task);
}

void Scheduler::Remove(TaskId task) {
  auto it = queued_.find(task);
  if (it == queued_.end()) return;
  for (const std::string& name : it->second.players) {
    auto p = players_.find(name);
    if (p != players_.end()) p->second.waiting.erase({it->second.job, task});
  }
  queued_.erase(it);
}

void Scheduler::Release(const std::string& player) {
  auto it = players_.find(player);
  if (it == players_.end()) return;
  if (it->second.busy > 0) --it->second.busy;
  Fill(player);
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

void Scheduler::Assign(TaskId task, const std::string& player) {
  auto it = queued_.find(task);
  const JobId job = it->second.job;
  std::vector<std::string> players = std::move(it->second.players);
  queued_.erase(it);
  for (const std::string& name : players) {
    if (name == player) continue;
    auto p = players_.find(name);
    if (p != players_.end()) p->second.waiting.erase({job, task});
  }
  PlayerSlots& p = players_[player];
  p.waiting.erase({job, task});
  ++p.busy;
  assignments_.push_back(Assignment{job, task, player});
}

void Scheduler::Fill(const std::string& player) {
  PlayerSlots& p = players_[player];
  while (FreeSlots(p) > 0 && !p.waiting.empty()) {
    TaskId task = p.waiting.begin()->second;
    Assign(task, player);
  }
}

}  // namespace orchestra::conductor
