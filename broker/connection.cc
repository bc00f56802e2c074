#include "broker/connection.h"

#include <linux/sockios.h>
#include <netdb.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

namespace orchestra::broker {

namespace {

// The remote end of socket `fd` as numeric address and port (getnameinfo,
// as libzmq formats Peer-Address); false for anything but TCP over IP.
bool RemoteOf(int fd, std::string* address, std::string* port) {
  struct sockaddr_storage ss;
  socklen_t size = sizeof(ss);
  if (fd < 0 || ::getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &size) != 0)
    return false;
  if (ss.ss_family != AF_INET && ss.ss_family != AF_INET6) return false;
  char host[NI_MAXHOST];
  char service[NI_MAXSERV];
  if (::getnameinfo(reinterpret_cast<sockaddr*>(&ss), size, host, sizeof(host),
                    service, sizeof(service),
                    NI_NUMERICHOST | NI_NUMERICSERV) != 0)
    return false;
  *address = host;
  *port = service;
  return true;
}

}  // namespace

Connection ConnectionOf(const Inbound& in) {
  std::string address, port;
  if (!RemoteOf(in.fd, &address, &port) || address != in.peer_address)
    return Connection();
  return Connection{in.fd, address + " " + port};
}

bool Close(const Connection& connection) {
  std::string address, port;
  if (!connection.known() || !RemoteOf(connection.fd, &address, &port) ||
      address + " " + port != connection.remote)
    return false;
  return ::shutdown(connection.fd, SHUT_RDWR) == 0;
}

int64_t UnsentBytes(int fd) {
  int bytes = 0;
  if (fd < 0 || ::ioctl(fd, SIOCOUTQ, &bytes) != 0) return -1;
  return bytes;
}

int64_t SendBufferBytes(int fd) {
  int bytes = 0;
  socklen_t size = sizeof(bytes);
  if (fd < 0 || ::getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bytes, &size) != 0)
    return -1;
  return bytes;
}

}  // namespace orchestra::broker
