// Tests for broker/authenticator.h: the ZAP decisions of DESIGN.md section 4
// (players by listed, unrevoked Curve key, named by the players file; the
// audience by key over Curve or by file mode over ipc), and real Curve
// handshakes over loopback through a ROUTER Endpoint.

#include "broker/authenticator.h"

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "broker/curve_keys.h"
#include "broker/endpoint.h"
#include "broker/poller.h"
#include "common/clock.h"
#include "common/log.h"
#include "test/test_util.h"

namespace orchestra::broker {
namespace {

constexpr common::TimeMs kDeadlineMs = 10000;

class AuthenticatorTest : public testing::Test {
 protected:
  void SetUp() override {
    server_ = GenerateKeyPair().value();
    player_ = GenerateKeyPair().value();
    stranger_ = GenerateKeyPair().value();
    client_ = GenerateKeyPair().value();
    authenticator_.SetPlayers({{player_.public_key, "web-3"}});
    authenticator_.SetAudienceKeys({{client_.public_key, "ops"}});
    common::SetLogSinkForTest([this](common::LogLevel, std::string_view line) {
      if (line.find("connection refused") != std::string_view::npos)
        ++refusals_;
    });
  }
  void TearDown() override { common::SetLogSinkForTest(nullptr); }

  static ZapRequest Request(const std::string& domain,
                            const std::string& mechanism,
                            const std::string& key = "") {
    return ZapRequest{domain, "127.0.0.1", mechanism, key};
  }
  ZapDecision DecideCurve(const std::string& domain, const std::string& key) {
    return authenticator_.Decide(Request(domain, "CURVE", key));
  }

  // Starts the ZAP handler and a Curve ROUTER on the players domain.
  void StartPlayerRouter() {
    ASSERT_OK(authenticator_.Start());
    EndpointOptions options;
    options.curve_server_secret = &server_.secret_key;
    options.zap_domain = kPlayerDomain;
    auto router = Endpoint::Router(&context_, "players", options);
    ASSERT_OK(router.status());
    router_ = std::move(router.value());
    auto bound = router_->Bind("tcp://127.0.0.1:*");
    ASSERT_OK(bound.status());
    address_ = bound.value();
  }
  // A player's DEALER with `keys` that has sent `payload`.
  std::unique_ptr<Endpoint> SendAs(const CurveKeyPair& keys,
                                   const std::string& payload) {
    EndpointOptions options;
    options.curve_server_public = server_.public_key;
    options.curve_client = &keys;
    auto dealer = Endpoint::Dealer(&context_, "player", options);
    EXPECT_OK(dealer.status());
    if (!dealer.ok()) return nullptr;
    EXPECT_OK(dealer.value()->Connect(address_));
    EXPECT_OK(dealer.value()->Send(payload));
    return std::move(dealer.value());
  }
  // Runs the loop a conductor runs (answer ZAP, receive) until `done` or
  // the deadline; false on the deadline.
  bool PumpUntil(const std::function<bool()>& done) {
    common::SystemClock clock;
    const common::TimeMs deadline = clock.Monotonic() + kDeadlineMs;
    while (!done()) {
      const common::TimeMs left = deadline - clock.Monotonic();
      if (left <= 0) return false;
      Poller poller;
      const size_t zap = poller.AddSocket(authenticator_.handle());
      const size_t players = poller.AddSocket(router_->handle());
      if (!poller.Wait(left).ok()) return false;
      if (poller.IsReady(zap)) authenticator_.HandleRequests();
      if (poller.IsReady(players)) {
        while (std::optional<Inbound> in = router_->TryReceive())
          received_.push_back(std::move(*in));
      }
    }
    return true;
  }
  bool Received(const std::string& payload) const {
    for (const Inbound& in : received_) {
      if (in.payload == payload) return true;
    }
    return false;
  }
  // Sends as an outsider, waits until it is refused, then shows that a
  // listed player still gets through and the outsider never did.
  void ExpectRefused(const CurveKeyPair& keys) {
    auto outsider = SendAs(keys, "intruder");
    ASSERT_TRUE(PumpUntil([this] { return refusals_ > 0; }));
    auto player = SendAs(player_, "hello");
    ASSERT_TRUE(PumpUntil([this] { return Received("hello"); }));
    EXPECT_FALSE(Received("intruder"));
  }

  Context context_;
  Authenticator authenticator_{&context_};
  std::unique_ptr<Endpoint> router_;
  std::string address_;
  CurveKeyPair server_, player_, stranger_, client_;
  std::vector<Inbound> received_;
  int refusals_ = 0;
};

// ---- decisions ----

TEST_F(AuthenticatorTest, ListedPlayerKeyIsAllowedAsItsName) {
  ZapDecision d = DecideCurve(kPlayerDomain, player_.public_key);
  EXPECT_TRUE(d.allow);
  EXPECT_EQ("web-3", d.user_id);
}

TEST_F(AuthenticatorTest, UnknownPlayerKeyIsRefused) {
  ZapDecision d = DecideCurve(kPlayerDomain, stranger_.public_key);
  EXPECT_FALSE(d.allow);
  EXPECT_EQ("", d.user_id);
  EXPECT_FALSE(d.reason.empty());
}

TEST_F(AuthenticatorTest, RevokedKeyIsRefusedEvenIfListed) {
  authenticator_.SetRevoked({player_.public_key});
  ZapDecision d = DecideCurve(kPlayerDomain, player_.public_key);
  EXPECT_FALSE(d.allow);
  EXPECT_EQ("revoked key", d.reason);
}

TEST_F(AuthenticatorTest, RemovedPlayerIsRefusedAfterReload) {
  authenticator_.SetPlayers({{stranger_.public_key, "web-4"}});
  EXPECT_FALSE(DecideCurve(kPlayerDomain, player_.public_key).allow);
  EXPECT_EQ("web-4", DecideCurve(kPlayerDomain, stranger_.public_key).user_id);
}

TEST_F(AuthenticatorTest, NullMechanismIsRefusedOnThePlayersDomain) {
  EXPECT_FALSE(authenticator_.Decide(Request(kPlayerDomain, "NULL")).allow);
  EXPECT_FALSE(authenticator_.Decide(Request(kPlayerDomain, "PLAIN")).allow);
}

TEST_F(AuthenticatorTest, ListedAudienceKeyIsAllowedAsItsName) {
  ZapDecision d = DecideCurve(kAudienceDomain, client_.public_key);
  EXPECT_TRUE(d.allow);
  EXPECT_EQ("ops", d.user_id);
}

TEST_F(AuthenticatorTest, KeysOfOneDomainDoNotOpenTheOther) {
  EXPECT_FALSE(DecideCurve(kAudienceDomain, player_.public_key).allow);
  EXPECT_FALSE(DecideCurve(kPlayerDomain, client_.public_key).allow);
}

TEST_F(AuthenticatorTest, RevokedAudienceKeyIsRefused) {
  authenticator_.SetRevoked({client_.public_key});
  EXPECT_FALSE(DecideCurve(kAudienceDomain, client_.public_key).allow);
}

TEST_F(AuthenticatorTest, NullMechanismIsAllowedOnTheAudienceDomain) {
  ZapDecision d = authenticator_.Decide(Request(kAudienceDomain, "NULL"));
  EXPECT_TRUE(d.allow);
  EXPECT_EQ("", d.user_id);
}

TEST_F(AuthenticatorTest, UnknownDomainIsRefused) {
  EXPECT_FALSE(DecideCurve("", player_.public_key).allow);
  EXPECT_FALSE(DecideCurve("admin", player_.public_key).allow);
  EXPECT_FALSE(authenticator_.Decide(Request("", "NULL")).allow);
}

// The key comes from libzmq, the trusted map from a file: even if a bad
// entry slipped into the map, a request without a real key never matches.
TEST_F(AuthenticatorTest, MalformedKeyIsRefused) {
  authenticator_.SetPlayers({{"", "ghost"}, {"short", "imp"}});
  EXPECT_FALSE(DecideCurve(kPlayerDomain, "").allow);
  EXPECT_FALSE(DecideCurve(kPlayerDomain, "short").allow);
}

// ---- real handshakes ----

TEST_F(AuthenticatorTest, ListedPlayerIsNamedOnEveryMessage) {
  StartPlayerRouter();
  auto player = SendAs(player_, "hello");
  ASSERT_TRUE(PumpUntil([this] { return !received_.empty(); }));
  EXPECT_EQ("hello", received_[0].payload);
  EXPECT_EQ("web-3", received_[0].user_id);
  EXPECT_FALSE(received_[0].peer.empty());
}

// Every message of an admitted connection carries the key that opened it
// and the trust epoch of the decision.
TEST_F(AuthenticatorTest, EveryMessageNamesItsConnectionsKeyAndEpoch) {
  authenticator_.SetPlayers(
      {{player_.public_key, "web-3"}, {stranger_.public_key, "web-4"}});
  authenticator_.SetEpoch(7);
  StartPlayerRouter();
  auto first = SendAs(player_, "one");
  ASSERT_TRUE(PumpUntil([this] { return Received("one"); }));
  authenticator_.SetEpoch(8);
  auto second = SendAs(stranger_, "two");
  ASSERT_TRUE(PumpUntil([this] { return Received("two"); }));
  ASSERT_OK(first->Send("three"));
  ASSERT_TRUE(PumpUntil([this] { return Received("three"); }));
  ASSERT_EQ(3u, received_.size());
  EXPECT_EQ(player_.public_key, received_[0].key);
  EXPECT_EQ(7, received_[0].epoch);
  EXPECT_EQ(stranger_.public_key, received_[1].key);
  EXPECT_EQ("web-4", received_[1].user_id);
  EXPECT_EQ(8, received_[1].epoch);
  EXPECT_EQ(7, received_[2].epoch) << "bound at the handshake";
  EXPECT_EQ(received_[0].peer, received_[2].peer);
  EXPECT_NE(received_[0].peer, received_[1].peer);
  for (const Inbound& in : received_) EXPECT_GE(in.fd, 0);
}

TEST_F(AuthenticatorTest, MetadataIsZmtpPropertiesInOrder) {
  const std::string m = Authenticator::Metadata("id", "k", 12);
  const std::string expected = std::string("\x08Identity\0\0\0\x02id", 15) +
                               std::string("\x0dOrchestra-Key\0\0\0\x01k", 19) +
                               std::string(
                                   "\x0fOrchestra-Epoch\0\0\0\x02"
                                   "12",
                                   22);
  EXPECT_EQ(expected, m);
}

TEST_F(AuthenticatorTest, UnlistedKeyNeverGetsAMessageThrough) {
  StartPlayerRouter();
  ExpectRefused(stranger_);
}

TEST_F(AuthenticatorTest, EachRefusalIsToldToTheRefusalHook) {
  std::vector<std::string> refused;
  authenticator_.SetRefusalHook(
      [&](const ZapRequest& r) { refused.push_back(r.domain); });
  StartPlayerRouter();
  ExpectRefused(stranger_);
  ASSERT_FALSE(refused.empty());
  for (const std::string& domain : refused) EXPECT_EQ(kPlayerDomain, domain);
  authenticator_.SetRefusalHook(nullptr);
}

TEST_F(AuthenticatorTest, RevokedKeyNeverGetsAMessageThrough) {
  authenticator_.SetPlayers(
      {{player_.public_key, "web-3"}, {stranger_.public_key, "web-4"}});
  authenticator_.SetRevoked({stranger_.public_key});
  StartPlayerRouter();
  ExpectRefused(stranger_);
}

}  // namespace
}  // namespace orchestra::broker
