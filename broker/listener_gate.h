// The door of a listening TCP socket, shut and opened again without
// closing the socket: libzmq 4.3 can only unbind a listener, which also
// ends every session accepted through it. Shut, a socket filter drops
// every segment addressed to the listening socket, so the kernel completes
// no new connection (peers retry their SYN, as at a full backlog), while
// connections already established, which are sockets of their own, go on;
// what its queue held is still accepted. Linux (SO_ATTACH_FILTER).
// Plain setsockopt calls: any thread may call them.

#ifndef ORCHESTRA_BROKER_LISTENER_GATE_H_
#define ORCHESTRA_BROKER_LISTENER_GATE_H_

#include "common/status.h"

namespace orchestra::broker {

// Stops listening TCP socket `fd` taking new connections. InvalidArgument
// when `fd` is not a listening TCP socket.
common::Status ShutListener(int fd);

// Lets listening TCP socket `fd` take new connections again.
common::Status OpenListener(int fd);

}  // namespace orchestra::broker

#endif  // ORCHESTRA_BROKER_LISTENER_GATE_H_
