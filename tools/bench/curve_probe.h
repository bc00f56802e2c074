// CurveProbe measures the messaging limit of this machine: a DEALER talking
// to a ROUTER over tcp://127.0.0.1 with CurveZMQ, as a player talks to the
// conductor (broker::Endpoint on both sides, no authenticator). The ROUTER
// lives on its own thread, which echoes. Use one probe from one thread.

#ifndef ORCHESTRA_TOOLS_BENCH_CURVE_PROBE_H_
#define ORCHESTRA_TOOLS_BENCH_CURVE_PROBE_H_

#include <memory>
#include <string>
#include <thread>

#include "broker/context.h"
#include "broker/endpoint.h"
#include "common/result.h"
#include "tools/bench/samples.h"

namespace orchestra::bench {

class CurveProbe {
 public:
  // Generates fresh key pairs, starts the echoing ROUTER on a free port and
  // connects the DEALER. Unavailable if the handshake does not complete.
  static common::Result<std::unique_ptr<CurveProbe>> Open();
  ~CurveProbe();  // Stops and joins the ROUTER's thread

  // `count` round trips of a `bytes`-byte message, one in flight; each
  // sample is one round trip in microseconds.
  common::Result<Samples> RoundTrips(int count, size_t bytes);

  // Sends `count` messages of `bytes` bytes with many in flight; returns
  // messages the ROUTER received per second.
  common::Result<double> Pipelined(int count, size_t bytes);

 private:
  CurveProbe() = default;
  common::Status Start();
  // Waits up to `timeout_ms` for one message on the DEALER.
  common::Result<std::string> Receive(int timeout_ms);

  broker::Context context_;  // The DEALER's; before the socket
  std::unique_ptr<broker::Endpoint> dealer_;
  std::thread router_thread_;
};

}  // namespace orchestra::bench

#endif  // ORCHESTRA_TOOLS_BENCH_CURVE_PROBE_H_
