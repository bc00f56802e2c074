// FakeConductor: a stand-in for the conductor's audience channel, for tests
// of the audience client and the CLI. A ROUTER on its own thread (which owns
// it) answers each request with the replies `answer` gives for it, and
// records the ops asked; ops() may be called from any thread.

#ifndef ORCHESTRA_TEST_FAKE_CONDUCTOR_H_
#define ORCHESTRA_TEST_FAKE_CONDUCTOR_H_

#include <atomic>
#include <functional>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "broker/audience_protocol.h"
#include "broker/endpoint.h"

namespace orchestra::test {

class FakeConductor {
 public:
  // Called on the fake's thread for each valid request; the replies are sent
  // in order.
  using Answer = std::function<std::vector<broker::AudienceReply>(
      const broker::AudienceRequest&)>;
  struct Setup {
    std::string address;
    broker::EndpointOptions options;
    bool authenticate = false;  // ZAP on, with no audience key allowed
  };

  // Binds `setup.address` and starts serving; endpoint() is empty if that
  // failed.
  FakeConductor(const Setup& setup, Answer answer);
  // Stops the thread, which closes the socket.
  ~FakeConductor();
  FakeConductor(const FakeConductor&) = delete;
  FakeConductor& operator=(const FakeConductor&) = delete;

  // The address bound, with the port resolved; empty if binding failed.
  const std::string& endpoint() const { return endpoint_; }
  // The ops of the valid requests received so far, oldest first.
  std::vector<broker::AudienceOp> ops();

 private:
  void Serve(const Setup& setup, std::promise<std::string>* bound);
  void Respond(broker::Endpoint* router, const broker::Inbound& in);

  Answer answer_;
  std::mutex mu_;
  std::vector<broker::AudienceOp> ops_;  // Guarded by mu_.
  std::atomic<bool> stop_{false};
  std::string endpoint_;
  std::thread thread_;
};

}  // namespace orchestra::test

#endif  // ORCHESTRA_TEST_FAKE_CONDUCTOR_H_
