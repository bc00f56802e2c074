#include "broker/poller.h"

#include <cerrno>

namespace orchestra::broker {

size_t Poller::AddSocket(void* socket_handle) {
  items_.push_back({socket_handle, 0, ZMQ_POLLIN, 0});
  return items_.size() - 1;
}

size_t Poller::AddFd(int fd) {
  items_.push_back({nullptr, fd, ZMQ_POLLIN, 0});
  return items_.size() - 1;
}

common::Status Poller::Wait(long timeout_ms) {
  for (zmq_pollitem_t& item : items_) item.revents = 0;
  int rc = zmq_poll(items_.data(), static_cast<int>(items_.size()),
                    timeout_ms);
  if (rc < 0 && errno != EINTR)
    return common::Status::IoError("poll", zmq_strerror(errno));
  return common::Status();
}

bool Poller::IsReady(size_t index) const {
  return index < items_.size() &&
         (items_[index].revents & (ZMQ_POLLIN | ZMQ_POLLERR)) != 0;
}

}  // namespace orchestra::broker
