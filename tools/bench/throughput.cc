// orchestra-bench-throughput: trivial jobs through real players, many in
// flight over one audience connection (each job a `one` job listing every
// PLAYER, so the conductor spreads them). A warm-up of a tenth of JOBS
// first, then JOBS timed. Prints one JSON object.
//
//   orchestra-bench-throughput ENDPOINT SCORE JOBS IN_FLIGHT PLAYER...

#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "broker/audience_client.h"
#include "tools/bench/job_pipeline.h"

using namespace orchestra;

int main(int argc, char** argv) {
  if (argc < 6) {
    std::fprintf(stderr, "usage: %s ENDPOINT SCORE JOBS IN_FLIGHT PLAYER...\n",
                 argv[0]);
    return 2;
  }
  const int jobs = std::atoi(argv[3]);
  const int in_flight = std::atoi(argv[4]);
  if (jobs < 1 || in_flight < 1) {
    std::fprintf(stderr, "throughput: JOBS and IN_FLIGHT must be positive\n");
    return 2;
  }
  broker::ClientOptions options;
  options.endpoint = argv[1];
  auto client = broker::AudienceClient::Connect(options);
  if (!client.ok()) {
    std::fprintf(stderr, "throughput: %s\n",
                 client.status().ToString().c_str());
    return 3;
  }
  broker::SubmitRequest job;
  job.score = argv[2];
  job.scope = broker::Scope::kOne;
  for (int i = 5; i < argc; ++i) job.players.push_back(argv[i]);
  bench::JobPipeline pipeline(client.value().get(), job, in_flight);
  auto warm = pipeline.Run(jobs / 10 + 1);
  auto run = warm.ok() ? pipeline.Run(jobs) : warm;
  if (!run.ok()) {
    std::fprintf(stderr, "throughput: %s\n", run.status().ToString().c_str());
    return 1;
  }
  const bench::PipelineRun& r = run.value();
  nlohmann::json out = {{"jobs", r.jobs},
                        {"failed", r.failed},
                        {"in_flight", in_flight},
                        {"seconds", r.seconds},
                        {"jobs_per_s", r.jobs / r.seconds},
                        {"by_player", r.by_player}};
  std::printf("%s\n", out.dump().c_str());
  return r.failed == 0 ? 0 : 1;
}
