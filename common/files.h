// File helpers shared by the daemons and tools: whole-file reads and
// atomic writes, and the permission checks for secret files.

#ifndef ORCHESTRA_COMMON_FILES_H_
#define ORCHESTRA_COMMON_FILES_H_

#include <cstdint>
#include <string>

#include "common/result.h"
#include "common/status.h"

namespace orchestra::common {

// The whole content of `path`, at most `max_bytes`; InvalidArgument if
// larger.
Result<std::string> ReadFile(const std::string& path,
                             size_t max_bytes = 16 << 20);

// Writes `content` to `path` with `mode` through a temporary file, fsync and
// rename, so readers see the old or the new file, never half of one.
Status WriteFileAtomically(const std::string& path, const std::string& content,
                           int mode);

// PermissionDenied if group or others may read or write `path` (a secret
// key must be mode 0600 or stricter).
Status CheckPrivateFile(const std::string& path);

// Creates directory `path` (and missing parents) with `mode`.
Status MakeDirectories(const std::string& path, int mode);

// Raises the soft limit on open descriptors (RLIMIT_NOFILE) to the hard
// limit and returns the new soft limit: a daemon or tool with thousands of
// peers needs a descriptor for each connection.
Result<uint64_t> RaiseOpenFileLimit();

}  // namespace orchestra::common

#endif  // ORCHESTRA_COMMON_FILES_H_
