// SocketMonitor reads the libzmq socket events (ZMQ_EVENT_*: connected,
// handshake succeeded or failed, disconnected, ...) of one socket through
// an inproc PAIR socket of the same context. Used by AudienceClient (is the
// conductor there?), the player (greet a new connection at once) and the
// conductor's DescriptorGuard (descriptors taken and given back). Owned by
// one thread, the watched socket's until it hands the monitor on.

#ifndef ORCHESTRA_BROKER_SOCKET_MONITOR_H_
#define ORCHESTRA_BROKER_SOCKET_MONITOR_H_

#include <memory>
#include <zmq.hpp>

#include "broker/context.h"
#include "broker/endpoint.h"
#include "common/result.h"

namespace orchestra::broker {

class SocketMonitor {
 public:
  // The events that take or give back a descriptor, and a listener's own.
  static constexpr int kDescriptorEvents =
      ZMQ_EVENT_LISTENING | ZMQ_EVENT_ACCEPTED | ZMQ_EVENT_ACCEPT_FAILED |
      ZMQ_EVENT_DISCONNECTED;

  // Watches `events` (ZMQ_EVENT_* bits) of `watched`, which must outlive
  // this monitor. The queue from libzmq has no bound (its sending end must
  // never wait for us), so keep reading it. Internal if libzmq refuses.
  static common::Result<std::unique_ptr<SocketMonitor>> Attach(
      Context* context, Endpoint* watched, int events = ZMQ_EVENT_ALL);
  // Stops the events of `watched`, so that none is sent to a monitor about
  // to close. Call it from the thread that owns `watched`.
  static void Detach(Endpoint* watched);

  // The next event as its ZMQ_EVENT_* id and value; false when none waits.
  bool TryRead(int* event, int* value);

  // True for the event of a completed handshake (a new live connection).
  static bool IsHandshakeSucceeded(int event) {
    return event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED;
  }
  // Events of kDescriptorEvents; the value of each is a descriptor, but
  // for a failed accept, whose value is errno.
  static bool IsListening(int event) { return event == ZMQ_EVENT_LISTENING; }
  static bool IsAccepted(int event) { return event == ZMQ_EVENT_ACCEPTED; }
  static bool IsAcceptFailed(int event) {
    return event == ZMQ_EVENT_ACCEPT_FAILED;
  }
  static bool IsDisconnected(int event) {
    return event == ZMQ_EVENT_DISCONNECTED;
  }

  // The PAIR socket, for Poller.
  void* handle() { return socket_.handle(); }

 private:
  explicit SocketMonitor(Context* context);

  zmq::socket_t socket_;
};

}  // namespace orchestra::broker

#endif  // ORCHESTRA_BROKER_SOCKET_MONITOR_H_
