// CoreFixture: a conductor Core on a database in a temp dir, driven with a
// FakeClock, and an inproc ROUTER standing for one of the conductor's
// endpoints with a DEALER peer connected to it: what the tests of the
// player and audience channels share. Log lines are dropped.

#ifndef ORCHESTRA_TEST_CORE_FIXTURE_H_
#define ORCHESTRA_TEST_CORE_FIXTURE_H_

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "broker/context.h"
#include "broker/endpoint.h"
#include "common/log.h"
#include "conductor/core.h"
#include "test/conductor_samples.h"
#include "test/fake_clock.h"
#include "test/test_util.h"

namespace orchestra::test {

class CoreFixture : public testing::Test {
 protected:
  // Opens the core, listing `players`, binds the ROUTER at `address` and
  // connects the DEALER.
  void Open(const std::vector<std::string>& players,
            const std::string& address) {
    common::SetLogSinkForTest([](common::LogLevel, std::string_view) {});
    ASSERT_NO_FATAL_FAILURE(
        OpenCore(dir_.File("conductor.db"), &clock_, players, &core_));
    auto router = broker::Endpoint::Router(&context_, address, {});
    ASSERT_TRUE(router.ok());
    router_ = std::move(router.value());
    ASSERT_OK(router_->Bind(address).status());
    address_ = address;
    dealer_ = Connect();
    ASSERT_NE(nullptr, dealer_);
  }
  void TearDown() override { common::SetLogSinkForTest(nullptr); }

  // Another DEALER connected to the ROUTER (nullptr if that failed).
  std::unique_ptr<broker::Endpoint> Connect() {
    auto dealer = broker::Endpoint::Dealer(&context_, "peer", {});
    if (!dealer.ok() || !dealer.value()->Connect(address_).ok()) return nullptr;
    return std::move(dealer.value());
  }

  TempDir dir_;
  FakeClock clock_;
  std::unique_ptr<conductor::Core> core_;
  broker::Context context_;  // before the sockets that use it
  std::unique_ptr<broker::Endpoint> router_;
  std::unique_ptr<broker::Endpoint> dealer_;

 private:
  std::string address_;
};

}  // namespace orchestra::test

#endif  // ORCHESTRA_TEST_CORE_FIXTURE_H_
