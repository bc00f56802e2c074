#include "broker/listener_gate.h"

#include <errno.h>
#include <linux/filter.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <string>

namespace orchestra::broker {

using common::Status;

namespace {

std::string Where(int fd) { return "listener fd=" + std::to_string(fd); }

// The descriptor may have been reused since libzmq reported it: act only
// on a listening TCP socket.
Status CheckListener(int fd) {
  int listening = 0, protocol = 0;
  socklen_t size = sizeof(listening);
  if (::getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &size) != 0)
    return Status::FromErrno(Where(fd), errno);
  size = sizeof(protocol);
  if (::getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &protocol, &size) != 0)
    return Status::FromErrno(Where(fd), errno);
  if (listening != 1 || protocol != IPPROTO_TCP)
    return Status::InvalidArgument(Where(fd), "not a listening TCP socket");
  return Status();
}

}  // namespace

Status ShutListener(int fd) {
  Status s = CheckListener(fd);
  if (!s.ok()) return s;
  // One instruction: accept 0 bytes of every packet, i.e. drop it.
  struct sock_filter drop_all[] = {BPF_STMT(BPF_RET | BPF_K, 0)};
  struct sock_fprog program = {1, drop_all};
  if (::setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &program,
                   sizeof(program)) != 0)
    return Status::FromErrno(Where(fd), errno);
  return Status();
}

Status OpenListener(int fd) {
  Status s = CheckListener(fd);
  if (!s.ok()) return s;
  int unused = 0;
  if (::setsockopt(fd, SOL_SOCKET, SO_DETACH_FILTER, &unused,
                   sizeof(unused)) != 0 &&
      errno != ENOENT)  // none attached
    return Status::FromErrno(Where(fd), errno);
  return Status();
}

}  // namespace orchestra::broker
