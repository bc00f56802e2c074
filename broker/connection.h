// Connection names the socket under one peer's session on a ROUTER, as
// libzmq reports it with each message (ZMQ_SRCFD), so that the conductor
// can end a session that its trust lists no longer allow: libzmq 4.3 has
// no call that closes one peer of a ROUTER. Plain data; the conductor's
// loop thread uses it.
//
// libzmq's I/O thread owns the socket. We only shut it down, never close
// it: libzmq then sees the connection end and drops the session as if the
// peer had left. The descriptor may have been closed and reused by another
// connection since the message arrived, so a Connection also records the
// remote address and port, and Close() acts only while they still match.

#ifndef ORCHESTRA_BROKER_CONNECTION_H_
#define ORCHESTRA_BROKER_CONNECTION_H_

#include <string>

#include "broker/endpoint.h"

namespace orchestra::broker {

struct Connection {
  int fd = -1;
  std::string remote;  // "address port" of the other end; empty: unknown

  bool known() const { return fd >= 0 && !remote.empty(); }
};

// The TCP connection message `in` arrived on, or an unknown one when it
// cannot be told (ipc, no descriptor, or the descriptor no longer leads to
// the address libzmq saw).
Connection ConnectionOf(const Inbound& in);

// Shuts `connection` down if its descriptor still leads to the same remote
// address and port. True when it did.
bool Close(const Connection& connection);

// Bytes written to socket `fd` that its peer has not taken yet (the
// kernel's send queue, SIOCOUTQ), or -1 when it cannot be told.
int64_t UnsentBytes(int fd);
// The size of `fd`'s kernel send buffer (SO_SNDBUF), -1 if unknown. A unix
// socket's is ~208 KiB, and its UnsentBytes() never exceeds it.
int64_t SendBufferBytes(int fd);

}  // namespace orchestra::broker

#endif  // ORCHESTRA_BROKER_CONNECTION_H_
