#include "conductor/wait_list.h"

namespace orchestra::conductor {

WaitList::Added WaitList::Add(Waiter waiter) {
  if (waiters_.size() >= kMaxWaits) return Added::kFull;
  size_t& count = per_submitter_[waiter.caller.submitter];
  if (count >= kMaxWaitsPerSubmitter) return Added::kSubmitterFull;
  ++count;
  const Id id = next_id_++;
  by_job_.emplace(waiter.job, id);
  if (waiter.deadline != 0) by_deadline_.emplace(waiter.deadline, id);
  if (waiter.progress) ++progress_[waiter.job];
  waiters_.emplace(id, std::move(waiter));
  return Added::kYes;
}

Waiter WaitList::Remove(Id id) {
  auto it = waiters_.find(id);
  Waiter waiter = std::move(it->second);
  waiters_.erase(it);
  by_job_.erase({waiter.job, id});
  if (waiter.deadline != 0) by_deadline_.erase({waiter.deadline, id});
  if (waiter.progress && --progress_[waiter.job] == 0)
    progress_.erase(waiter.job);
  auto count = per_submitter_.find(waiter.caller.submitter);
  if (--count->second == 0) per_submitter_.erase(count);
  return waiter;
}

std::vector<Waiter> WaitList::TakeJob(broker::JobId job) {
  std::vector<Id> ids;
  for (auto it = by_job_.lower_bound({job, 0});
       it != by_job_.end() && it->first == job; ++it)
    ids.push_back(it->second);
  std::vector<Waiter> taken;
  taken.reserve(ids.size());
  for (Id id : ids) taken.push_back(Remove(id));
  return taken;
}

std::vector<Waiter> WaitList::TakeExpired(common::TimeMs now) {
  std::vector<Waiter> taken;
  while (!by_deadline_.empty() && by_deadline_.begin()->first <= now)
    taken.push_back(Remove(by_deadline_.begin()->second));
  return taken;
}

std::vector<Waiter> WaitList::TakeIf(
    const std::function<bool(const Waiter&)>& drop) {
  std::vector<Id> ids;
  for (const auto& [id, waiter] : waiters_) {
    if (drop(waiter)) ids.push_back(id);
  }
  std::vector<Waiter> taken;
  for (Id id : ids) taken.push_back(Remove(id));
  return taken;
}

std::vector<broker::JobId> WaitList::ProgressJobs() const {
  std::vector<broker::JobId> jobs;
  for (const auto& [job, count] : progress_) jobs.push_back(job);
  return jobs;
}

void WaitList::ForEachProgress(
    broker::JobId job, const std::function<void(const Waiter&)>& fn) const {
  for (auto it = by_job_.lower_bound({job, 0});
       it != by_job_.end() && it->first == job; ++it) {
    const Waiter& waiter = waiters_.at(it->second);
    if (waiter.progress) fn(waiter);
  }
}

size_t WaitList::CountOf(const std::string& submitter) const {
  auto it = per_submitter_.find(submitter);
  return it == per_submitter_.end() ? 0 : it->second;
}

}  // namespace orchestra::conductor
