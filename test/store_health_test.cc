// Tests for conductor/store_health.h: when the store counts as failed and
// writable again, which changes are news, and what refused requests hear.

#include "conductor/store_health.h"

#include <gtest/gtest.h>

namespace orchestra::conductor {
namespace {

using common::Status;

class StoreHealthTest : public testing::Test {
 protected:
  StoreHealth health_;
  const Status full_ =
      Status::IoError("sqlite /var/lib/orchestra/c.db", "disk full");
};

TEST_F(StoreHealthTest, IsWritableUntilAWriteFails) {
  EXPECT_TRUE(health_.writable());
  EXPECT_EQ("", health_.reason());
  EXPECT_TRUE(health_.Failed(full_, 5000));
  EXPECT_FALSE(health_.writable());
  EXPECT_EQ(5000, health_.failed_at());
}

TEST_F(StoreHealthTest, OnlyTheFirstFailureAndTheRecoveryAreNews) {
  EXPECT_TRUE(health_.Failed(full_, 5000));
  EXPECT_FALSE(health_.Failed(full_, 6000));
  EXPECT_EQ(5000, health_.failed_at());  // since the first
  EXPECT_TRUE(health_.Recovered());
  EXPECT_FALSE(health_.Recovered());
  EXPECT_TRUE(health_.writable());
  EXPECT_EQ("", health_.reason());
}

TEST_F(StoreHealthTest, ReasonSaysWhatFailedWithoutThePath) {
  health_.Failed(full_, 1);
  EXPECT_EQ("database: disk full", health_.reason());
  health_.Failed(Status::IoError("sqlite /x.db", "I/O error"), 2);
  EXPECT_EQ("database: I/O error", health_.reason());  // the latest
}

TEST_F(StoreHealthTest, DescribeFallsBackToTheWholeMessage) {
  EXPECT_EQ("database: read-only", StoreHealth::Describe(Status::IoError(
                                       "sqlite /x.db", "read-only")));
  EXPECT_EQ("database: locked",
            StoreHealth::Describe(Status::Unavailable("locked", "")));
}

}  // namespace
}  // namespace orchestra::conductor
