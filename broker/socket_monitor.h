// SocketMonitor reads the libzmq socket events (ZMQ_EVENT_*: connected,
// handshake succeeded or failed, disconnected, ...) of one socket through
// an inproc PAIR socket of the same context. Used by AudienceClient (is the
// conductor there?) and the player (greet a new connection at once). Owned
// by the thread that owns the watched socket.

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
  // Watches every event of `watched`, which must outlive this monitor or be
  // closed after it. Internal if libzmq refuses.
  static common::Result<std::unique_ptr<SocketMonitor>> Attach(
      Context* context, Endpoint* watched);

  // The next event as its ZMQ_EVENT_* id and value; false when none waits.
  bool TryRead(int* event, int* value);

  // True for the event of a completed handshake (a new live connection).
  static bool IsHandshakeSucceeded(int event) {
    return event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED;
  }

  // The PAIR socket, for Poller.
  void* handle() { return socket_.handle(); }

 private:
  explicit SocketMonitor(Context* context);

  zmq::socket_t socket_;
};

}  // namespace orchestra::broker

#endif  // ORCHESTRA_BROKER_SOCKET_MONITOR_H_
