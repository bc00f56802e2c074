// How a job record is cut to fit one reply (kMaxReplyBodyBytes, 4 MiB less
// 64 KiB), in this order:
//
// 1. The job's `players` list keeps the names that fit in 1 MiB
//    (kMaxRecordPlayersBytes); the others are counted in `players_omitted`.
//    `params` are never cut: a submit bounds them to 256 KiB.
// 2. The tasks from `tasks_from` on (at most `tasks_limit`) are taken
//    whole, in order, while they fit; the page ends before the first that
//    does not. A record that is not every task from the first says so with
//    `tasks_from` and `tasks_total`, and the next page starts at
//    tasks_from + the tasks listed. Nothing is lost: each task is on a page.
// 3. Only a task too large to fit even as the first of its page is cut
//    (`cut: true`): its stdout and stderr keep their last bytes (the room
//    shared between them, their *_truncated flags set), then response
//    entries go from the last, then `error` keeps its first bytes. A player
//    sends at most 1 MiB a stream and 1 MiB of response, so this takes a
//    job whose players list and params are near their own limits too.
//
// Sizes are counted, not encoded: broker::EncodedSize sums the msgpack size
// of each field, exactly what the encoder writes. A page costs one pass
// over the tasks it holds (and one more task), whatever the job's size:
// the tasks are offered one by one, from memory or from the store's rows.

#include "conductor/record_pager.h"

#include <algorithm>
#include <iterator>
#include <string>

#include "common/text.h"

namespace orchestra::conductor {

using broker::JobRecord;
using broker::TaskRecord;

namespace {

// A map or array header grows from 1 byte up to 5 as its count grows.
constexpr size_t kCountSlack = 4;

size_t Over(size_t size, size_t room) { return size > room ? size - room : 0; }

}  // namespace

RecordPager::RecordPager(const JobRecord& job, int64_t from, int64_t limit,
                         int64_t total, size_t budget)
    : limit_(limit), budget_(budget) {
  CopyHeader(job);
  page_.tasks_from = from;
  page_.tasks_total = total;  // Counted in the header's size; unset if whole.
  used_ = broker::EncodedHeaderSize(page_) + kCountSlack;
}

void RecordPager::CopyHeader(const JobRecord& job) {
  page_.id = job.id;
  page_.score = job.score;
  page_.scope = job.scope;
  page_.params = job.params;
  page_.state = job.state;
  page_.submitted_by = job.submitted_by;
  page_.timeout_s = job.timeout_s;
  page_.delivery_timeout_s = job.delivery_timeout_s;
  page_.target = job.target;
  page_.max_concurrency = job.max_concurrency;
  page_.max_errors = job.max_errors;
  page_.priority = job.priority;
  page_.created_at = job.created_at;
  page_.finished_at = job.finished_at;
  size_t room = broker::kMaxRecordPlayersBytes;
  size_t kept = 0;
  for (const std::string& name : job.players) {
    const size_t size = broker::EncodedStringSize(name.size());
    if (size > room) break;
    room -= size;
    ++kept;
  }
  page_.players.assign(job.players.begin(), job.players.begin() + kept);
  page_.players_omitted =
      job.players_omitted + static_cast<int64_t>(job.players.size() - kept);
}

bool RecordPager::Offer(const TaskRecord& task) {
  if (full_ || static_cast<int64_t>(page_.tasks.size()) >= limit_) return false;
  const size_t size = broker::EncodedSize(task);
  if (used_ + size <= budget_) {
    page_.tasks.push_back(task);
    used_ += size;
    return true;
  }
  full_ = true;
  if (!page_.tasks.empty()) return false;
  page_.tasks.push_back(task);
  Shrink(&page_.tasks.back(), budget_ > used_ ? budget_ - used_ : 0);
  return true;
}

JobRecord RecordPager::Take() {
  if (page_.tasks_from == 0 &&
      static_cast<int64_t>(page_.tasks.size()) == *page_.tasks_total) {
    page_.tasks_total.reset();  // Whole: nothing to say.
  }
  return std::move(page_);
}

JobRecord RecordPager::Page(const JobRecord& job, int64_t from, int64_t limit,
                            size_t budget) {
  const int64_t total = static_cast<int64_t>(job.tasks.size());
  RecordPager pager(job, from, limit, total, budget);
  for (int64_t i = from; i < total; ++i) {
    if (!pager.Offer(job.tasks[static_cast<size_t>(i)])) break;
  }
  return pager.Take();
}

void RecordPager::CutOutputs(TaskRecord* task, size_t keep) {
  const size_t out = task->stdout_text.size();
  const size_t err = task->stderr_text.size();
  // The room is shared: a stream shorter than its half leaves the rest to
  // the other one.
  size_t keep_out = keep / 2;
  if (out < keep_out)
    keep_out = out;
  else if (err < keep - keep_out)
    keep_out = keep - err;
  const size_t keep_err = keep - std::min(keep, keep_out);
  if (out > keep_out) {
    task->stdout_text =
        std::string(common::LastUtf8Bytes(task->stdout_text, keep_out));
    task->stdout_truncated = true;
  }
  if (err > keep_err) {
    task->stderr_text =
        std::string(common::LastUtf8Bytes(task->stderr_text, keep_err));
    task->stderr_truncated = true;
  }
}

void RecordPager::Shrink(TaskRecord* task, size_t room) {
  task->cut = true;
  size_t over = Over(broker::EncodedSize(*task), room);
  if (over == 0) return;
  const size_t outputs = task->stdout_text.size() + task->stderr_text.size();
  CutOutputs(task, outputs > over ? outputs - over : 0);
  over = Over(broker::EncodedSize(*task), room);
  while (over > 0 && !task->response.empty()) {
    auto last = std::prev(task->response.end());
    const size_t size = broker::EncodedStringSize(last->first.size()) +
                        broker::EncodedStringSize(last->second.size());
    task->response.erase(last);
    over = Over(over, size);
  }
  if (over > 0) {
    const size_t keep = Over(task->error.size(), over);
    task->error = std::string(common::FirstUtf8Bytes(task->error, keep));
  }
}

common::Result<std::optional<JobRecord>> ReadJobPage(
    JobStore* store, broker::JobId job, int64_t from, int64_t limit,
    size_t budget, const JobVisible& visible) {
  int64_t total = 0;
  common::Result<std::optional<JobRecord>> header =
      store->LoadJobHeader(job, &total);
  if (!header.ok() || !header.value()) return header;
  if (visible && !visible(*header.value())) return std::optional<JobRecord>();
  RecordPager pager(*header.value(), from, limit, total, budget);
  common::Status s = store->ForEachTask(
      job, from, [&](const broker::TaskRecord& t) { return pager.Offer(t); });
  if (!s.ok()) return s;
  return std::optional<JobRecord>(pager.Take());
}

}  // namespace orchestra::conductor
