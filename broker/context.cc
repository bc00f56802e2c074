#include "broker/context.h"

namespace orchestra::broker {

Context::Context(int io_threads) : context_(io_threads) {
  context_.set(zmq::ctxopt::blocky, 0);
}

}  // namespace orchestra::broker
