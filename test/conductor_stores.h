// The conductor's stores on one database file, opened as Conductor::Start()
// opens them (JobStore, then PlayerStore on its database and turn), for the
// tests that need both.

#ifndef ORCHESTRA_TEST_CONDUCTOR_STORES_H_
#define ORCHESTRA_TEST_CONDUCTOR_STORES_H_

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "conductor/job_store.h"
#include "conductor/player_store.h"
#include "test/test_util.h"

namespace orchestra::test {

// Opens (creating if needed) the database at `path` into `*jobs` and
// `*players`, closing what they held first.
inline void OpenStores(const std::string& path,
                       std::unique_ptr<conductor::JobStore>* jobs,
                       std::unique_ptr<conductor::PlayerStore>* players) {
  players->reset();
  jobs->reset();
  auto opened = conductor::JobStore::Open(path);
  ASSERT_OK(opened.status());
  *jobs = std::move(opened.value());
  auto created =
      conductor::PlayerStore::Create((*jobs)->database(), (*jobs)->turn());
  ASSERT_OK(created.status());
  *players = std::move(created.value());
}

// Every player `players` remembers ({} if it cannot say).
inline std::vector<conductor::StoredPlayer> KnownPlayers(
    conductor::PlayerStore* players) {
  common::Result<std::vector<conductor::StoredPlayer>> known =
      players->LoadKnown();
  EXPECT_OK(known.status());
  return known.ok() ? known.value() : std::vector<conductor::StoredPlayer>();
}

}  // namespace orchestra::test

#endif  // ORCHESTRA_TEST_CONDUCTOR_STORES_H_
