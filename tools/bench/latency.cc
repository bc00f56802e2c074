// orchestra-bench-latency: submit-to-result latency of one score on one
// player, one job at a time, measured by the client (submit sent -> final
// wait reply received). Prints one JSON object.
//
//   orchestra-bench-latency ENDPOINT SCORE PLAYER RUNS

#include <cstdio>
#include <cstdlib>
#include <string>

#include "broker/audience_client.h"
#include "tools/bench/samples.h"
#include "tools/bench/stopwatch.h"

using namespace orchestra;

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: %s ENDPOINT SCORE PLAYER RUNS\n", argv[0]);
    return 2;
  }
  broker::ClientOptions options;
  options.endpoint = argv[1];
  auto client = broker::AudienceClient::Connect(options);
  if (!client.ok()) {
    std::fprintf(stderr, "%s\n", client.status().ToString().c_str());
    return 3;
  }
  const int runs = std::atoi(argv[4]);
  bench::Samples ms;
  int failed = 0;
  for (int i = 0; i < runs + runs / 10; ++i) {
    broker::SubmitRequest submit;
    submit.score = argv[2];
    submit.players = {argv[3]};
    bench::Stopwatch watch;
    auto reply = client.value()->Call(submit, 10000);
    auto* id = reply.ok() ? std::get_if<broker::SubmitReply>(&reply.value().body)
                          : nullptr;
    if (id == nullptr) {
      std::fprintf(stderr, "submit of '%s' to %s refused or unanswered\n",
                   argv[2], argv[3]);
      return 1;
    }
    auto done = client.value()->Call(broker::WaitRequest{id->job, 10000}, 15000);
    auto* job = done.ok() ? std::get_if<broker::JobReply>(&done.value().body)
                          : nullptr;
    const double elapsed_ms = watch.Micros() / 1000;
    if (job == nullptr || job->job.state != broker::JobState::kOk) ++failed;
    if (i >= runs / 10)  // The first tenth warms up.
      ms.Add(elapsed_ms);
  }
  std::printf("{\"runs\": %zu, \"failed\": %d, \"p50_ms\": %.3f, "
              "\"p90_ms\": %.3f, \"p99_ms\": %.3f, \"max_ms\": %.3f}\n",
              ms.size(), failed, ms.Percentile(0.5), ms.Percentile(0.9),
              ms.Percentile(0.99), ms.Max());
  return failed == 0 ? 0 : 1;
}
