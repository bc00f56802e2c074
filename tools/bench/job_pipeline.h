// JobPipeline pushes jobs through a conductor over one audience connection
// with many in flight: each job is submitted, then waited for, and every
// finished job makes room for the next submit. Measures throughput for the
// bench. Uses the client it is given from one thread.

#ifndef ORCHESTRA_TOOLS_BENCH_JOB_PIPELINE_H_
#define ORCHESTRA_TOOLS_BENCH_JOB_PIPELINE_H_

#include <cstdint>
#include <map>
#include <string>

#include "broker/audience_client.h"
#include "broker/audience_protocol.h"
#include "common/result.h"

namespace orchestra::bench {

struct PipelineRun {
  int jobs = 0;
  int failed = 0;                        // Finished, but not OK
  double seconds = 0;                    // First submit to last final reply
  std::map<std::string, int> by_player;  // Tasks run, by player
};

class JobPipeline {
 public:
  // Submits copies of `job` through `client` (not owned), at most
  // `in_flight` unfinished at any time.
  JobPipeline(broker::AudienceClient* client, broker::SubmitRequest job,
              int in_flight);

  // Runs `jobs` jobs to the end. An error if a request is refused or no
  // reply comes for `reply_timeout_ms`.
  common::Result<PipelineRun> Run(int jobs, int reply_timeout_ms = 30000);

 private:
  common::Status Submit();
  common::Status OnReply(const broker::AudienceReply& reply, PipelineRun* run);

  broker::AudienceClient* client_;
  broker::SubmitRequest job_;
  int in_flight_;
  int outstanding_ = 0;            // Submitted jobs not yet finished
  std::map<int64_t, bool> waits_;  // Request id -> is it a wait?
};

}  // namespace orchestra::bench

#endif  // ORCHESTRA_TOOLS_BENCH_JOB_PIPELINE_H_
