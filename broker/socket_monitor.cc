#include "broker/socket_monitor.h"

#include <zmq.h>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <string>

namespace orchestra::broker {

using common::Result;
using common::Status;

SocketMonitor::SocketMonitor(Context* context)
    : socket_(context->zmq(), ZMQ_PAIR) {}

Result<std::unique_ptr<SocketMonitor>> SocketMonitor::Attach(Context* context,
                                                             Endpoint* watched,
                                                             int events) {
  // Each monitor needs its own inproc address; a socket may be replaced by
  // a fresh one (and monitor) in the same context.
  static std::atomic<uint64_t> next{1};
  const std::string address =
      "inproc://orchestra-monitor-" + std::to_string(next++);
  if (zmq_socket_monitor(watched->handle(), address.c_str(), events) != 0)
    return Status::Internal("socket monitor", zmq_strerror(zmq_errno()));
  try {
    // The socket too may fail (EMFILE: out of sockets or descriptors).
    std::unique_ptr<SocketMonitor> monitor(new SocketMonitor(context));
    monitor->socket_.set(zmq::sockopt::linger, 0);
    // libzmq sends events with a blocking send: at a bound, a reader that
    // falls behind would stop the I/O thread that sends them.
    monitor->socket_.set(zmq::sockopt::rcvhwm, 0);
    monitor->socket_.connect(address);
    return monitor;
  } catch (const zmq::error_t& e) {
    Detach(watched);
    return Status::Internal("socket monitor", e.what());
  }
}

void SocketMonitor::Detach(Endpoint* watched) {
  zmq_socket_monitor(watched->handle(), nullptr, 0);
}

bool SocketMonitor::TryRead(int* event, int* value) {
  try {
    zmq::message_t head;
    if (!socket_.recv(head, zmq::recv_flags::dontwait)) return false;
    while (head.more()) {  // The address frame; always sent with the head.
      zmq::message_t rest;
      if (!socket_.recv(rest, zmq::recv_flags::dontwait) || !rest.more()) break;
    }
    uint16_t id = 0;
    uint32_t data = 0;
    if (head.size() >= 6) {
      std::memcpy(&id, head.data(), 2);
      std::memcpy(&data, static_cast<const char*>(head.data()) + 2, 4);
    }
    *event = id;
    *value = static_cast<int>(data);
    return true;
  } catch (const zmq::error_t&) {
    return false;
  }
}

}  // namespace orchestra::broker
