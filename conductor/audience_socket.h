// The ipc:// audience socket file (DESIGN.md section 2). Whoever may
// connect to it may do anything, so where it lives and who may reach it are
// checked: a file path (an abstract socket, ipc://@name, is open to every
// local user), in a directory that only root or the conductor's user may
// write (anyone else could replace the socket), created with no access for
// group or others and only then given its configured group and mode. Used
// by the conductor's config (at load and on SIGHUP) and its loop thread.

#ifndef ORCHESTRA_CONDUCTOR_AUDIENCE_SOCKET_H_
#define ORCHESTRA_CONDUCTOR_AUDIENCE_SOCKET_H_

#include <sys/types.h>

#include <string>
#include <string_view>

#include "broker/endpoint.h"
#include "common/result.h"
#include "common/status.h"

namespace orchestra::conductor {

// The path of an "ipc://" address; "" for any other.
std::string IpcPath(std::string_view address);

// Checks an "ipc://" address: InvalidArgument, with the fix, for an
// abstract socket, an empty or relative path, or a path whose directory
// exists and is writable by group or others, or belongs to a user other
// than root or ours. A missing directory passes (BindIpcSocket makes it).
common::Status CheckIpcAddress(std::string_view address);

// Binds `endpoint` to the ipc `address`: makes its directory if missing and
// checks it again, binds with umask 0177 (the file starts as mode 0600),
// then gives the socket file `group` (unless it is -1) and `mode` without
// following links, and checks that the file is still our socket with that
// mode. Returns the address bound. InvalidArgument or PermissionDenied for
// a directory or file that fails the checks.
common::Result<std::string> BindIpcSocket(broker::Endpoint* endpoint,
                                          const std::string& address, int mode,
                                          gid_t group);

}  // namespace orchestra::conductor

#endif  // ORCHESTRA_CONDUCTOR_AUDIENCE_SOCKET_H_
