// RecordPager cuts a job record down to the page one audience reply
// carries, so that a reply never exceeds the message limit (DESIGN.md
// section 6). It counts what each part takes on the wire without encoding
// it (broker::EncodedSize) and copies only what the page holds. Pure logic,
// no sockets or SQL; used by the conductor's loop thread.

#ifndef ORCHESTRA_CONDUCTOR_RECORD_PAGER_H_
#define ORCHESTRA_CONDUCTOR_RECORD_PAGER_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>

#include "broker/audience_protocol.h"
#include "common/result.h"
#include "conductor/job_store.h"

namespace orchestra::conductor {

class RecordPager {
 public:
  // Starts the page of the job `job` (its tasks are not read: they are
  // offered) that holds its tasks from index `from` on, at most `limit` of
  // them, of `total`, and takes at most `budget` bytes on the wire.
  // REQUIRES: from >= 0, limit >= 1.
  RecordPager(const broker::JobRecord& job, int64_t from, int64_t limit,
              int64_t total, size_t budget = broker::kMaxReplyBodyBytes);

  // Offers the job's next task (index `from` + those offered before). True
  // when the page took it; false when it is full: offer no more. A page
  // takes at least one task, cut if need be, so the next page always gets
  // further. The order of cutting is at the top of record_pager.cc.
  bool Offer(const broker::TaskRecord& task);

  // The page: the job, the tasks taken, and what it left out.
  broker::JobRecord Take();

  // The page of the record `job` (all its tasks read) from `from` on.
  static broker::JobRecord Page(const broker::JobRecord& job, int64_t from,
                                int64_t limit,
                                size_t budget = broker::kMaxReplyBodyBytes);

  // Cuts `task` (the `cut` flag set) until it takes at most `room` bytes,
  // or as near as its fixed fields allow.
  static void Shrink(broker::TaskRecord* task, size_t room);

 private:
  // Copies `job` without its tasks, its players cut to 1 MiB.
  void CopyHeader(const broker::JobRecord& job);
  // Cuts stdout and stderr to `keep` bytes in all, keeping their ends.
  static void CutOutputs(broker::TaskRecord* task, size_t keep);

  broker::JobRecord page_;
  int64_t limit_;
  size_t budget_;
  size_t used_ = 0;  // bytes the page takes so far
  bool full_ = false;
};

// Says from a job's header whether the reader may see the job.
using JobVisible = std::function<bool(const broker::JobRecord& header)>;

// The page of job `job` from the committed store (its header, then only the
// page's task rows read): tasks from index `from` on, at most `limit`, in
// at most `budget` bytes on the wire. nullopt when there is no such job or
// `visible` (when given) says the reader may not see it.
common::Result<std::optional<broker::JobRecord>> ReadJobPage(
    JobStore* store, broker::JobId job, int64_t from, int64_t limit,
    size_t budget = broker::kMaxReplyBodyBytes,
    const JobVisible& visible = nullptr);

}  // namespace orchestra::conductor

#endif  // ORCHESTRA_CONDUCTOR_RECORD_PAGER_H_
