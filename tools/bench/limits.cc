// orchestra-bench-limits: measures the limits of this machine that bound
// Orchestra's figures, each with a fixed, modest amount of work (the whole
// run takes a few seconds on a 2-core machine), and prints one JSON object:
//
//   curve_*     a CurveZMQ DEALER <-> ROUTER over tcp://127.0.0.1
//   sqlite_*    WAL, synchronous=FULL commits in a file under DIR, after
//               warming the WAL up past its first checkpoint
//   spawn_*     posix_spawn + waitpid of /bin/true, 1 and 2 at a time
//   codec_*     msgpack: a player's result encoded and decoded; a job
//               record of 10,000 tasks encoded, decoded and its tasks sized
//               (what the record pager counts), best of 5
//   web_job_page_10k_*  the web page of a job of 10,000 tasks, each with
//               ~200 bytes of stdout, all identical or all different:
//               its tasks grouped and the page rendered, best of 5;
//               `_stored`: read from a SQLite file and rendered, all that
//               the loop does for the page
//   target_resolve_10k_*  a target expression (`role=web dc=syd,mel
//               name!=web-0*`) resolved at submit over 10,000 listed
//               players with 3 labels each, as the conductor's Trust holds
//               them, best of 5
//   waiting_record_10k_*  the record of a rollout of 10,000 tasks
//               (max_concurrency 10, half its players connected) read from
//               a SQLite file with each QUEUED task's waiting reason, as
//               the audience's `status` builds it, best of 5
//   rollout_10k_offline_ms  a scheduler's rollout of 10,000 tasks
//               (max_concurrency 10) whose first 9,000 players are offline:
//               the other 1,000 dispatched and released one by one
//
//   orchestra-bench-limits [DIR]     (DIR defaults to build)

#include <algorithm>
#include <cstdio>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "broker/audience_protocol.h"
#include "broker/protocol.h"
#include "common/clock.h"
#include "common/status.h"
#include "conductor/job_board.h"
#include "conductor/job_store.h"
#include "conductor/metrics.h"
#include "conductor/record_pager.h"
#include "conductor/scheduler.h"
#include "conductor/target.h"
#include "conductor/trust.h"
#include "conductor/web_pages.h"
#include "tools/bench/curve_probe.h"
#include "tools/bench/samples.h"
#include "tools/bench/spawn_probe.h"
#include "tools/bench/sqlite_probe.h"
#include "tools/bench/stopwatch.h"

using namespace orchestra;
using nlohmann::json;

namespace {

constexpr int kRoundTrips = 5000;
constexpr int kPipelined = 300000;
constexpr size_t kMessageBytes = 100;  // About a `task` or `result` message
// A fresh WAL grows with each commit, and growing it costs a second flush
// (the file's size); once a checkpoint has run (1000 pages, the default)
// the WAL is rewritten in place, as in a daemon that has run for a while.
// So the first kWarmCommits pass a checkpoint and are not counted.
constexpr int kWarmCommits = 800;
constexpr int kCommits = 500;
constexpr int kBatches = 20;
constexpr int kBatchRows = 1000;
constexpr int kSpawns = 2000;
constexpr int kResults = 100000;
constexpr int kRecordTasks = 10000;
constexpr int kCodecRounds = 5;
constexpr int kTargetPlayers = 10000;
constexpr int kRolloutTasks = 10000;
constexpr int kRolloutOffline = 9000;
constexpr char kTarget[] = "role=web dc=syd,mel name!=web-0*";

json Summary(bench::Samples* samples) {
  return {{"count", samples->size()},
          {"p50_us", samples->Percentile(0.5)},
          {"mean_us", samples->Mean()},
          {"p99_us", samples->Percentile(0.99)}};
}

common::Status MeasureCurve(json* out) {
  auto probe = bench::CurveProbe::Open();
  if (!probe.ok()) return probe.status();
  auto trips = probe.value()->RoundTrips(kRoundTrips, kMessageBytes);
  if (!trips.ok()) return trips.status();
  (*out)["curve_round_trip"] = Summary(&trips.value());
  auto rate = probe.value()->Pipelined(kPipelined, kMessageBytes);
  if (!rate.ok()) return rate.status();
  (*out)["curve_pipelined_msgs_per_s"] = rate.value();
  (*out)["curve_message_bytes"] = kMessageBytes;
  return common::Status();
}

common::Status MeasureSqlite(const std::string& dir, json* out) {
  auto probe = bench::SqliteProbe::Open(dir + "/bench-limits.db");
  if (!probe.ok()) return probe.status();
  auto warm = probe.value()->SingleRowCommits(kWarmCommits);
  if (!warm.ok()) return warm.status();
  auto commits = probe.value()->SingleRowCommits(kCommits);
  if (!commits.ok()) return commits.status();
  (*out)["sqlite_commit"] = Summary(&commits.value());
  (*out)["sqlite_commits_per_s"] = 1e6 / commits.value().Mean();
  auto rows = probe.value()->BatchedRows(kBatches, kBatchRows);
  if (!rows.ok()) return rows.status();
  (*out)["sqlite_batched_rows_per_s"] = rows.value();
  (*out)["sqlite_batch_rows"] = kBatchRows;
  return common::Status();
}

common::Status MeasureSpawn(json* out) {
  bench::SpawnProbe probe("/bin/true");
  auto one = probe.Rate(kSpawns, 1);
  if (!one.ok()) return one.status();
  auto two = probe.Rate(kSpawns / 2, 2);
  if (!two.ok()) return two.status();
  (*out)["spawn_per_s"] = one.value();
  (*out)["spawn_per_s_2_parallel"] = two.value();
  return common::Status();
}

broker::JobRecord LargeRecord() {
  broker::JobRecord job;
  job.id = 1;
  job.score = "true";
  job.scope = broker::Scope::kAll;
  job.state = broker::JobState::kOk;
  job.created_at = 1795836000000;
  for (int i = 0; i < kRecordTasks; ++i) {
    broker::TaskRecord t;
    t.task = i + 1;
    t.player = "player-" + std::to_string(i);
    t.state = broker::TaskState::kOk;
    t.exit_code = 0;
    t.stdout_text = std::string(200, 'o');
    t.response = {{"key", "value"}};
    t.dispatched_at = t.started_at = t.finished_at = job.created_at + i;
    job.tasks.push_back(std::move(t));
  }
  return job;
}

// The best of kCodecRounds runs of `work`, in microseconds.
template <typename Work>
double Best(Work work) {
  double best = 1e18;
  for (int round = 0; round < kCodecRounds; ++round) {
    bench::Stopwatch watch;
    if (!work()) return -1;
    best = std::min(best, watch.Micros());
  }
  return best;
}

common::Status MeasureCodec(json* out) {
  broker::TaskResult result;
  result.state = broker::TaskState::kOk;
  result.exit_code = 0;
  result.stdout_text = "ok\n";
  result.started_at = result.finished_at = 1795836000000;
  const double results_us = Best([&] {
    for (int i = 0; i < kResults; ++i) {
      result.task = i + 1;
      if (!broker::DecodePlayerMessage(broker::EncodePlayerMessage(result))
               .ok())
        return false;
    }
    return true;
  });
  const broker::AudienceReply reply{int64_t{1},
                                    broker::JobReply{LargeRecord(), false}};
  std::string bytes;
  const double encode_us = Best([&] {
    bytes = broker::EncodeAudienceReply(reply);
    return true;
  });
  const double decode_us =
      Best([&] { return broker::DecodeAudienceReply(bytes).ok(); });
  const auto& tasks = std::get<broker::JobReply>(reply.body).job.tasks;
  const double size_us = Best([&] {
    size_t total = 0;
    for (const broker::TaskRecord& t : tasks) total += broker::EncodedSize(t);
    return total > 0;
  });
  if (results_us < 0 || decode_us < 0 || size_us < 0)
    return common::Status::Internal("codec", "a round trip failed");
  (*out)["codec_result_round_trip_us"] = results_us / kResults;
  (*out)["codec_record_tasks"] = kRecordTasks;
  (*out)["codec_record_bytes"] = bytes.size();
  (*out)["codec_record_encode_ms"] = encode_us / 1e3;
  (*out)["codec_record_decode_ms"] = decode_us / 1e3;
  (*out)["codec_record_size_tasks_ms"] = size_us / 1e3;
  return common::Status();
}

// The record of a job of kRecordTasks tasks, each with ~200 bytes of
// stdout: the same for all or different for each.
broker::JobRecord WebRecord(bool distinct) {
  broker::JobRecord job = LargeRecord();
  for (broker::TaskRecord& t : job.tasks) {
    const std::string id = distinct ? std::to_string(t.task) : "";
    t.stdout_text = std::string(200 - id.size(), 'o') + id;
  }
  return job;
}

// A job page's cost to the loop: the record read from the store (a real
// SQLite file in `dir`) and rendered, as WebSite::Job does; and the render
// alone, with outputs all alike (one group) or all different.
common::Status MeasureWebPages(const std::string& dir, json* out) {
  const conductor::PageContext ctx{"bench", true, false, 1795836000000};
  for (bool distinct : {false, true}) {
    const broker::JobRecord job = WebRecord(distinct);
    size_t bytes = 0;
    const double page_us = Best([&] {
      bytes = conductor::RenderJob(job, ctx).size();
      return bytes > 0;
    });
    const std::string name = std::string("web_job_page_10k_") +
                             (distinct ? "distinct" : "identical");
    (*out)[name + "_ms"] = page_us / 1e3;
    (*out)[name + "_bytes"] = bytes;
  }
  const std::string path = dir + "/bench-web.db";
  for (const char* suffix : {"", "-wal", "-shm"})
    std::remove((path + suffix).c_str());
  auto store = conductor::JobStore::Open(path);
  if (!store.ok()) return store.status();
  broker::JobRecord job = WebRecord(true);
  common::Status s = store.value()->InsertJob(&job, "");
  for (size_t i = 0; s.ok() && i < job.tasks.size(); ++i)
    s = store.value()->UpdateTask(job.tasks[i]);
  if (s.ok()) s = store.value()->Commit();
  if (!s.ok()) return s;
  const double stored_us = Best([&] {  // as WebSite::JobPage does
    int64_t total = 0;
    auto header = store.value()->LoadJobHeader(job.id, &total);
    if (!header.ok() || !header.value()) return false;
    conductor::TaskGrouper grouper = conductor::JobPageGrouper(0);
    common::Status read =
        store.value()->ForEachTask(job.id, 0, [&](broker::TaskRecord&& task) {
          grouper.Add(task);
          return true;
        });
    const int64_t tasks = grouper.tasks();
    return read.ok() &&
           !conductor::RenderJob(*header.value(), grouper.Take(), tasks, ctx, 0)
                .empty();
  });
  if (stored_us < 0)
    return common::Status::Internal("web", "the stored job did not load");
  (*out)["web_job_page_10k_stored_ms"] = stored_us / 1e3;
  store.value().reset();
  for (const char* suffix : {"", "-wal", "-shm"})
    std::remove((path + suffix).c_str());
  return common::Status();
}

// Trust over kTargetPlayers players web-0000 ... web-9999, each with a
// role (3 in 4 web), a dc (syd, mel, per, bne in turn) and a tier.
conductor::Trust TargetFleet() {
  const char* dcs[] = {"syd", "mel", "per", "bne"};
  conductor::TrustFiles files;
  for (int i = 0; i < kTargetPlayers; ++i) {
    char name[16];
    std::snprintf(name, sizeof(name), "web-%04d", i);
    files.players[name] = "key-" + std::to_string(i);
    files.labels[name] = {{"role", i % 4 == 3 ? "db" : "web"},
                          {"dc", dcs[i / 3 % 4]},
                          {"tier", i % 2 ? "prod" : "test"}};
  }
  conductor::Trust trust;
  trust.Install(std::move(files));
  return trust;
}

// What a submit with a target costs the loop: the expression parsed and
// resolved over every listed player.
common::Status MeasureTarget(json* out) {
  const conductor::Trust trust = TargetFleet();
  size_t picked = 0;
  const double resolve_us = Best([&] {
    auto target = conductor::Target::Parse(kTarget);
    if (!target.ok()) return false;
    auto players = target.value().Resolve(
        *trust.listed(),
        [&](const std::string& name) { return trust.LabelsOf(name); });
    picked = players.ok() ? players.value().size() : 0;
    return players.ok();
  });
  if (resolve_us < 0)
    return common::Status::Internal("target", "the target did not resolve");
  (*out)["target_resolve_10k_ms"] = resolve_us / 1e3;
  (*out)["target_resolve_10k_players"] = picked;
  return common::Status();
}

std::string FleetName(int i) {
  char name[16];
  std::snprintf(name, sizeof(name), "web-%04d", i);
  return name;
}

// What `status` of a running rollout costs the loop: its page read from
// the store and each QUEUED task's waiting reason asked of the scheduler.
common::Status MeasureWaitingRecord(const std::string& dir, json* out) {
  const std::string path = dir + "/bench-waiting.db";
  for (const char* suffix : {"", "-wal", "-shm"})
    std::remove((path + suffix).c_str());
  auto store = conductor::JobStore::Open(path);
  if (!store.ok()) return store.status();
  std::set<std::string> listed;
  broker::SubmitRequest r;
  r.score = "true";
  r.scope = broker::Scope::kAll;
  r.max_concurrency = broker::RolloutLimit{10, false};
  for (int i = 0; i < kRolloutTasks; ++i) {
    listed.insert(FleetName(i));
    r.players.push_back(FleetName(i));
  }
  common::SystemClock clock;
  conductor::Metrics metrics;
  conductor::Scheduler scheduler;
  conductor::JobBoard board(store.value().get(), &scheduler, &clock, &listed,
                            &metrics);
  auto job = board.Submit(r, "bench", 0);
  broker::Hello hello;
  hello.version = "bench";
  hello.slots = 1;
  hello.scores.push_back(
      broker::ScoreInfo{"true", std::string(64, '0'), "env"});
  common::Status s = job.status();
  for (int i = 0; s.ok() && i < kRolloutTasks; i += 2)
    s = board.OnHello(FleetName(i), hello);
  if (s.ok()) s = store.value()->Commit();
  if (!s.ok()) return s;
  std::map<std::string, int> reasons;
  const double read_us = Best([&] {
    auto page = conductor::ReadJobPage(store.value().get(), job.value(), 0,
                                       broker::kMaxTasksLimit);
    if (!page.ok() || !page.value()) return false;
    board.ExplainWaiting(&*page.value());
    reasons.clear();
    for (const broker::TaskRecord& t : page.value()->tasks)
      ++reasons[t.waiting ? broker::WaitReasonName(*t.waiting) : "-"];
    return page.value()->tasks.size() == kRolloutTasks;
  });
  if (read_us < 0)
    return common::Status::Internal("waiting", "the rollout did not load");
  (*out)["waiting_record_10k_ms"] = read_us / 1e3;
  (*out)["waiting_record_10k_reasons"] = reasons;
  store.value().reset();
  for (const char* suffix : {"", "-wal", "-shm"})
    std::remove((path + suffix).c_str());
  return common::Status();
}

// A rollout's dispatch when most of its players are away: each release
// must find the next task it may send without walking the offline ones.
common::Status MeasureRollout(json* out) {
  conductor::Scheduler scheduler;
  scheduler.SetJob(1, 0, 10);
  for (int i = kRolloutOffline; i < kRolloutTasks; ++i)
    scheduler.Connect(FleetName(i), 1, 0);
  bench::Stopwatch watch;
  for (int i = 0; i < kRolloutTasks; ++i)
    scheduler.EnqueueFor(1, i + 1, FleetName(i));
  size_t sent = 0;
  for (std::vector<conductor::Scheduler::Assignment> out =
           scheduler.TakeAssignments();
       !out.empty(); out = scheduler.TakeAssignments()) {
    for (const conductor::Scheduler::Assignment& a : out) {
      scheduler.Release(a.player, a.job);
      ++sent;
    }
  }
  (*out)["rollout_10k_offline_ms"] = watch.Micros() / 1e3;
  if (sent != kRolloutTasks - kRolloutOffline)
    return common::Status::Internal(
        "rollout", std::to_string(sent) + " tasks went out, not " +
                       std::to_string(kRolloutTasks - kRolloutOffline));
  return common::Status();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 2 || (argc == 2 && argv[1][0] == '-')) {
    std::fprintf(stderr, "usage: %s [DIR]\n", argv[0]);
    return 2;
  }
  const std::string dir = argc == 2 ? argv[1] : "build";
  json out;
  common::Status s = MeasureCurve(&out);
  if (s.ok()) s = MeasureSqlite(dir, &out);
  if (s.ok()) s = MeasureSpawn(&out);
  if (s.ok()) s = MeasureCodec(&out);
  if (s.ok()) s = MeasureWebPages(dir, &out);
  if (s.ok()) s = MeasureTarget(&out);
  if (s.ok()) s = MeasureWaitingRecord(dir, &out);
  if (s.ok()) s = MeasureRollout(&out);
  if (!s.ok()) {
    std::fprintf(stderr, "limits: %s\n", s.ToString().c_str());
    return 1;
  }
  std::printf("%s\n", out.dump(2).c_str());
  return 0;
}
