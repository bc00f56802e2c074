// The ROUTER thread answers three kinds of message: "e..." is echoed at
// once (round trips), "p..." is counted and every kCreditEvery of them is
// answered with one "c" (pipelining with flow control), "stop" ends the
// thread. The DEALER keeps at most kWindow pipelined messages unanswered,
// below both high-water marks, so a send never fails for a full queue.

#include "tools/bench/curve_probe.h"

#include <future>

#include "broker/curve_keys.h"
#include "broker/poller.h"
#include "tools/bench/stopwatch.h"

namespace orchestra::bench {

using common::Result;
using common::Status;

namespace {

constexpr int kCreditEvery = 1000;
constexpr int kWindow = 50000;
constexpr int kTimeoutMs = 10000;

// The ROUTER side: binds, reports its address (or the error), then serves
// until "stop". `secret_key` need last only until the address is reported.
void ServeEchoes(const broker::SecretKey* secret_key,
                 std::promise<Result<std::string>> bound) {
  broker::Context context;
  broker::EndpointOptions options;
  options.curve_server_secret = secret_key;
  Result<std::unique_ptr<broker::Endpoint>> router =
      broker::Endpoint::Router(&context, "bench router", options);
  if (!router.ok()) return bound.set_value(router.status());
  Result<std::string> address = router.value()->Bind("tcp://127.0.0.1:*");
  bound.set_value(address);
  if (!address.ok()) return;
  broker::Endpoint& socket = *router.value();
  long counted = 0;
  for (;;) {
    broker::Poller poller;
    poller.AddSocket(socket.handle());
    if (!poller.Wait(1000).ok()) return;
    while (std::optional<broker::Inbound> in = socket.TryReceive()) {
      if (in->payload == "stop") return;
      if (!in->payload.empty() && in->payload[0] == 'p') {
        if (++counted % kCreditEvery == 0)
          (void)socket.SendTo(in->peer, false, "c");
      } else {
        (void)socket.SendTo(in->peer, false, in->payload);
      }
    }
  }
}

}  // namespace

Result<std::unique_ptr<CurveProbe>> CurveProbe::Open() {
  std::unique_ptr<CurveProbe> probe(new CurveProbe());
  Status s = probe->Start();
  if (!s.ok()) return s;
  return probe;
}

Status CurveProbe::Start() {
  Result<broker::CurveKeyPair> server = broker::GenerateKeyPair();
  Result<broker::CurveKeyPair> client = broker::GenerateKeyPair();
  if (!server.ok()) return server.status();
  if (!client.ok()) return client.status();
  std::promise<Result<std::string>> bound;
  std::future<Result<std::string>> address = bound.get_future();
  router_thread_ =
      std::thread(ServeEchoes, &server.value().secret_key, std::move(bound));
  Result<std::string> endpoint = address.get();
  if (!endpoint.ok()) return endpoint.status();
  broker::EndpointOptions options;
  options.curve_server_public = server.value().public_key;
  options.curve_client = &client.value();
  Result<std::unique_ptr<broker::Endpoint>> dealer =
      broker::Endpoint::Dealer(&context_, "bench dealer", options);
  if (!dealer.ok()) return dealer.status();
  dealer_ = std::move(dealer.value());
  Status s = dealer_->Connect(endpoint.value());
  if (!s.ok()) return s;
  s = dealer_->Send("e");  // The first round trip includes the handshake
  if (!s.ok()) return s;
  return Receive(kTimeoutMs).status();
}

CurveProbe::~CurveProbe() {
  if (dealer_) (void)dealer_->Send("stop");
  if (router_thread_.joinable()) router_thread_.join();
}

Result<std::string> CurveProbe::Receive(int timeout_ms) {
  if (std::optional<broker::Inbound> in = dealer_->TryReceive())
    return in->payload;
  broker::Poller poller;
  poller.AddSocket(dealer_->handle());
  Status s = poller.Wait(timeout_ms);
  if (!s.ok()) return s;
  if (std::optional<broker::Inbound> in = dealer_->TryReceive())
    return in->payload;
  return Status::Unavailable("curve probe", "no reply from the router");
}

Result<Samples> CurveProbe::RoundTrips(int count, size_t bytes) {
  const std::string message = "e" + std::string(bytes > 1 ? bytes - 1 : 0, 'x');
  Samples samples;
  for (int i = 0; i < count; ++i) {
    Stopwatch watch;
    Status s = dealer_->Send(message);
    if (!s.ok()) return s;
    Result<std::string> reply = Receive(kTimeoutMs);
    if (!reply.ok()) return reply.status();
    samples.Add(watch.Micros());
  }
  return samples;
}

Result<double> CurveProbe::Pipelined(int count, size_t bytes) {
  count -= count % kCreditEvery;
  const std::string message = "p" + std::string(bytes > 1 ? bytes - 1 : 0, 'x');
  long sent = 0;
  long credited = 0;
  Stopwatch watch;
  while (credited < count) {
    while (sent < count && sent - credited < kWindow) {
      Status s = dealer_->Send(message);
      if (!s.ok()) return s;
      ++sent;
    }
    Result<std::string> credit = Receive(kTimeoutMs);
    if (!credit.ok()) return credit.status();
    credited += kCreditEvery;
  }
  return count / watch.Seconds();
}

}  // namespace orchestra::bench
