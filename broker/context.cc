#include "broker/context.h"

namespace orchestra::broker {

Context::Context(int io_threads, int max_sockets) : context_(io_threads) {
  context_.set(zmq::ctxopt::blocky, 0);
  if (max_sockets > 0) context_.set(zmq::ctxopt::max_sockets, max_sockets);
}

}  // namespace orchestra::broker
