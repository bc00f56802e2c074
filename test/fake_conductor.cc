#include "test/fake_conductor.h"

#include <memory>
#include <optional>
#include <utility>

#include "broker/authenticator.h"
#include "broker/context.h"
#include "broker/poller.h"
#include "common/result.h"

namespace orchestra::test {

using broker::AudienceReply;
using common::Result;

FakeConductor::FakeConductor(const Setup& setup, Answer answer)
    : answer_(std::move(answer)) {
  std::promise<std::string> bound;
  std::future<std::string> address = bound.get_future();
  thread_ = std::thread([this, setup, &bound] { Serve(setup, &bound); });
  endpoint_ = address.get();
}

FakeConductor::~FakeConductor() {
  stop_ = true;
  thread_.join();
}

std::vector<broker::AudienceOp> FakeConductor::ops() {
  std::lock_guard<std::mutex> lock(mu_);
  return ops_;
}

void FakeConductor::Serve(const Setup& setup,
                          std::promise<std::string>* bound) {
  broker::Context context;
  broker::Authenticator authenticator(&context);
  if (setup.authenticate && !authenticator.Start().ok())
    return bound->set_value("");
  Result<std::unique_ptr<broker::Endpoint>> router =
      broker::Endpoint::Router(&context, "fake conductor", setup.options);
  Result<std::string> address =
      router.ok() ? router.value()->Bind(setup.address) : router.status();
  bound->set_value(address.ok() ? address.value() : "");
  if (!address.ok()) return;
  broker::Poller poller;
  poller.AddSocket(router.value()->handle());
  if (setup.authenticate) poller.AddSocket(authenticator.handle());
  while (!stop_) {
    if (!poller.Wait(10).ok()) return;
    if (setup.authenticate) authenticator.HandleRequests();
    while (std::optional<broker::Inbound> in = router.value()->TryReceive())
      Respond(router.value().get(), *in);
  }
}

void FakeConductor::Respond(broker::Endpoint* router,
                            const broker::Inbound& in) {
  broker::DecodedRequest request = broker::DecodeAudienceRequest(in.payload);
  if (!request.op) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    ops_.push_back(*request.op);
  }
  for (const AudienceReply& reply : answer_({request.req, *request.op})) {
    std::string payload = broker::EncodeAudienceReply(reply);
    if (!router->SendTo(in.peer, in.request_style, payload).ok()) return;
  }
}

}  // namespace orchestra::test
