// RecordPager cuts a job record down to the page one audience reply
// carries, so that a reply never exceeds the message limit (DESIGN.md
// section 6). It counts what each part takes on the wire without encoding
// it (broker::EncodedSize) and copies only what the page holds. Pure logic,
// no sockets or SQL; used by the conductor's loop thread.

#ifndef ORCHESTRA_CONDUCTOR_RECORD_PAGER_H_
#define ORCHESTRA_CONDUCTOR_RECORD_PAGER_H_

#include <cstddef>
#include <cstdint>

#include "broker/audience_protocol.h"

namespace orchestra::conductor {

class RecordPager {
 public:
  // The page of `job` that holds its tasks from index `from` on, at most
  // `limit` of them, and takes at most `budget` bytes on the wire; a page
  // holds at least one task while any is left from `from` on, so asking
  // for the next page always gets further. The order of cutting is at the
  // top of record_pager.cc. REQUIRES: from >= 0, limit >= 1.
  static broker::JobRecord Page(const broker::JobRecord& job, int64_t from,
                                int64_t limit,
                                size_t budget = broker::kMaxReplyBodyBytes);

  // Cuts `task` (the `cut` flag set) until it takes at most `room` bytes,
  // or as near as its fixed fields allow.
  static void Shrink(broker::TaskRecord* task, size_t room);

 private:
  // `job` without its tasks, its players cut to kMaxRecordPlayersBytes.
  static broker::JobRecord Header(const broker::JobRecord& job);
  // Cuts stdout and stderr to `keep` bytes in all, keeping their ends.
  static void CutOutputs(broker::TaskRecord* task, size_t keep);
};

}  // namespace orchestra::conductor

#endif  // ORCHESTRA_CONDUCTOR_RECORD_PAGER_H_
