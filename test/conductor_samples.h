// What the conductor's unit tests share: its stores and its Core opened on
// a database file, trust lists naming players, and sample submits, hellos
// and job records.

#ifndef ORCHESTRA_TEST_CONDUCTOR_SAMPLES_H_
#define ORCHESTRA_TEST_CONDUCTOR_SAMPLES_H_

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "broker/audience_protocol.h"
#include "broker/protocol.h"
#include "conductor/config.h"
#include "conductor/core.h"
#include "conductor/job_store.h"
#include "conductor/player_store.h"
#include "conductor/trust.h"
#include "test/test_util.h"

namespace orchestra::test {

// Opens (creating if needed) the database at `path` into `*jobs` and
// `*players` as Core::Open() does, closing what they held first.
inline void OpenStores(const std::string& path,
                       std::unique_ptr<conductor::JobStore>* jobs,
                       std::unique_ptr<conductor::PlayerStore>* players) {
  players->reset();
  jobs->reset();
  auto opened = conductor::JobStore::Open(path);
  ASSERT_OK(opened.status());
  *jobs = std::move(opened.value());
  auto created =
      conductor::PlayerStore::Create((*jobs)->reader(), (*jobs)->writes());
  ASSERT_OK(created.status());
  *players = std::move(created.value());
}

// Trust lists naming each of `players`, with the public key "key-NAME".
inline conductor::TrustFiles Listing(const std::vector<std::string>& players) {
  conductor::TrustFiles files;
  for (const std::string& name : players) files.players[name] = "key-" + name;
  return files;
}

// Opens `*core` (closing what it held first) on the database at `path`
// with `config`, and lists `players` (see Listing()).
inline void OpenCore(const std::string& path, const common::Clock* clock,
                     const std::vector<std::string>& players,
                     std::unique_ptr<conductor::Core>* core,
                     conductor::ConductorConfig config = {}) {
  core->reset();
  config.database_path = path;
  auto opened = conductor::Core::Open(config, clock);
  ASSERT_OK(opened.status());
  *core = std::move(opened.value());
  (*core)->InstallTrust(Listing(players));
}

// Every player `players` remembers ({} if it cannot say).
inline std::vector<conductor::StoredPlayer> KnownPlayers(
    conductor::PlayerStore* players) {
  common::Result<std::vector<conductor::StoredPlayer>> known =
      players->LoadKnown();
  EXPECT_OK(known.status());
  return known.ok() ? known.value() : std::vector<conductor::StoredPlayer>();
}

// A submit of score "backup" to `players`.
inline broker::SubmitRequest SampleSubmit(broker::Scope scope,
                                          std::vector<std::string> players) {
  broker::SubmitRequest request;
  request.score = "backup";
  request.scope = scope;
  request.players = std::move(players);
  return request;
}

// A player's hello: version "1.0", `slots` slots, holding `held`.
inline broker::Hello SampleHello(int slots,
                                 std::vector<broker::HeldTask> held = {}) {
  broker::Hello hello;
  hello.version = "1.0";
  hello.slots = slots;
  hello.tasks = std::move(held);
  return hello;
}

// A result of `task`: `state` at `finished_at` after 10 ms, exit status 0
// when OK (else 1), stdout "done".
inline broker::TaskResult SampleResult(broker::TaskId task,
                                       broker::TaskState state,
                                       common::TimeMs finished_at) {
  broker::TaskResult result;
  result.task = task;
  result.state = state;
  result.exit_code = state == broker::TaskState::kOk ? 0 : 1;
  result.stdout_text = "done";
  result.started_at = finished_at - 10;
  result.finished_at = finished_at;
  return result;
}

// A job of score `score` to `players` created at `created_at`, not yet
// stored: one task a player for an `all` job, one task for a `one` job.
inline conductor::JobRecord SampleJob(broker::Scope scope,
                                      std::vector<std::string> players,
                                      common::TimeMs created_at,
                                      const std::string& score = "backup") {
  conductor::JobRecord job;
  job.score = score;
  job.scope = scope;
  job.players = std::move(players);
  job.created_at = created_at;
  if (scope == broker::Scope::kAll) {
    for (const std::string& p : job.players) {
      job.tasks.emplace_back();
      job.tasks.back().player = p;
    }
  } else {
    job.tasks.emplace_back();
  }
  return job;
}

// Job `id` as `store` holds it, or nullopt when it holds none.
inline std::optional<conductor::JobRecord> StoredJob(conductor::JobStore* store,
                                                     conductor::JobId id) {
  common::Result<std::optional<conductor::JobRecord>> job = store->LoadJob(id);
  EXPECT_OK(job.status());
  return job.ok() ? job.value() : std::nullopt;
}

}  // namespace orchestra::test

#endif  // ORCHESTRA_TEST_CONDUCTOR_SAMPLES_H_
