#include "tools/bench/job_pipeline.h"

#include <variant>

#include "tools/bench/stopwatch.h"

namespace orchestra::bench {

using common::Result;
using common::Status;

JobPipeline::JobPipeline(broker::AudienceClient* client,
                         broker::SubmitRequest job, int in_flight)
    : client_(client), job_(std::move(job)), in_flight_(in_flight) {}

Status JobPipeline::Submit() {
  Result<int64_t> req = client_->Send(job_);
  if (!req.ok()) return req.status();
  waits_[req.value()] = false;
  ++outstanding_;
  return Status();
}

Result<PipelineRun> JobPipeline::Run(int jobs, int reply_timeout_ms) {
  PipelineRun run;
  int submitted = 0;
  Stopwatch watch;
  while (run.jobs < jobs) {
    for (; submitted < jobs && outstanding_ < in_flight_; ++submitted) {
      Status s = Submit();
      if (!s.ok()) return s;
    }
    Result<std::optional<broker::AudienceReply>> reply =
        client_->Receive(reply_timeout_ms);
    if (!reply.ok()) return reply.status();
    if (!reply.value())
      return Status::Unavailable("pipeline", "no reply from the conductor");
    Status s = OnReply(*reply.value(), &run);
    if (!s.ok()) return s;
  }
  run.seconds = watch.Seconds();
  return run;
}

Status JobPipeline::OnReply(const broker::AudienceReply& reply,
                            PipelineRun* run) {
  const int64_t* req = std::get_if<int64_t>(&reply.req);
  if (req == nullptr || waits_.count(*req) == 0)
    return Status::Internal("pipeline", "reply to an unknown request");
  if (const auto* error = std::get_if<broker::ErrorReply>(&reply.body))
    return Status::Unavailable("pipeline", error->error.message);
  if (std::holds_alternative<broker::ProgressReply>(reply.body))
    return Status();
  const bool was_wait = waits_[*req];
  waits_.erase(*req);
  if (const auto* submitted = std::get_if<broker::SubmitReply>(&reply.body)) {
    if (was_wait) return Status::Internal("pipeline", "submit reply to a wait");
    Result<int64_t> wait = client_->Send(broker::WaitRequest{submitted->job});
    if (!wait.ok()) return wait.status();
    waits_[wait.value()] = true;
    return Status();
  }
  const auto* done = std::get_if<broker::JobReply>(&reply.body);
  if (done == nullptr || !was_wait)
    return Status::Internal("pipeline", "unexpected reply");
  if (done->timed_out)
    return Status::Unavailable("pipeline", "a job did not finish in time");
  ++run->jobs;
  --outstanding_;
  if (done->job.state != broker::JobState::kOk) ++run->failed;
  for (const broker::TaskRecord& task : done->job.tasks)
    ++run->by_player[task.player];
  return Status();
}

}  // namespace orchestra::bench
