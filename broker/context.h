// Context owns the ZeroMQ context that a process's endpoints and its
// authenticator share. Create it first and destroy it last: members declared
// before the sockets that use it.

#ifndef ORCHESTRA_BROKER_CONTEXT_H_
#define ORCHESTRA_BROKER_CONTEXT_H_

#include <zmq.hpp>

namespace orchestra::broker {

class Context {
 public:
  // `io_threads` background threads move the bytes (one suffices for
  // thousands of peers; Curve handshakes are the cost).
  // `max_sockets` bounds the sockets the context may hold (ZMQ_MAX_SOCKETS;
  // libzmq's default is 1023).
  explicit Context(int io_threads = 1, int max_sockets = 0);
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  zmq::context_t& zmq() { return context_; }

 private:
  zmq::context_t context_;
};

}  // namespace orchestra::broker

#endif  // ORCHESTRA_BROKER_CONTEXT_H_
