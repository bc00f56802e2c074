// Poller waits until one of a set of sockets or file descriptors can be
// read, or a timeout passes: the heart of each daemon's loop. The set is
// rebuilt with Clear()/Add*() whenever it changes.

#ifndef ORCHESTRA_BROKER_POLLER_H_
#define ORCHESTRA_BROKER_POLLER_H_

#include <zmq.h>

#include <vector>

#include "common/status.h"

namespace orchestra::broker {

class Poller {
 public:
  void Clear() { items_.clear(); }
  // Each Add returns the index to ask IsReady() about.
  size_t AddSocket(void* socket_handle);
  size_t AddFd(int fd);

  // Waits up to `timeout_ms` (-1: no limit). EINTR counts as a timeout.
  common::Status Wait(long timeout_ms);
  bool IsReady(size_t index) const;

 private:
  std::vector<zmq_pollitem_t> items_;
};

}  // namespace orchestra::broker

#endif  // ORCHESTRA_BROKER_POLLER_H_
