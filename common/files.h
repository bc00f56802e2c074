// File helpers shared by the daemons and tools: whole-file reads, atomic
// writes, files created new, and key files read with their owner and mode
// checked on the descriptor that reads them.

#ifndef ORCHESTRA_COMMON_FILES_H_
#define ORCHESTRA_COMMON_FILES_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"
#include "common/status.h"

namespace orchestra::common {

// The whole content of `path`, at most `max_bytes`; InvalidArgument if
// larger.
Result<std::string> ReadFile(const std::string& path,
                             size_t max_bytes = 16 << 20);

// Writes `content` to `path` with `mode` through a temporary file, fsync and
// rename, so readers see the old or the new file, never half of one. The
// temporary file has a random name beside `path` and is created new
// (O_EXCL), so nothing planted there is followed or written.
Status WriteFileAtomically(const std::string& path, const std::string& content,
                           int mode);

// Creates `path` holding `content` with `mode` (whatever the umask), never
// over an existing file and never through a link: Conflict "already
// exists" then. Durable when it returns (fsync of the file and of its
// directory); removes the file again when writing it fails.
Status WriteNewFile(const std::string& path, std::string_view content,
                    int mode);

// A key file holds 40 characters and a newline; anything beyond this is not
// a key file.
constexpr size_t kMaxKeyFileBytes = 4096;

enum class KeyFileKind { kPublic, kSecret };

// Reads key file `path` into `buffer` (at most `size` bytes) and returns
// the number of bytes read. The file is opened once, never through a
// symbolic link and never waiting on a FIFO, and checked through that
// descriptor: InvalidArgument if it is a link, not a regular file, or
// larger than `size`. A kSecret file is PermissionDenied, with the fix,
// when group or others may read or write it, or when it belongs to a user
// other than our effective user or root.
Result<size_t> ReadKeyFile(const std::string& path, KeyFileKind kind,
                           char* buffer, size_t size);

// Creates directory `path` (and missing parents) with `mode`.
Status MakeDirectories(const std::string& path, int mode);

// Raises the soft limit on open descriptors (RLIMIT_NOFILE) to the hard
// limit and returns the new soft limit: a daemon or tool with thousands of
// peers needs a descriptor for each connection.
Result<uint64_t> RaiseOpenFileLimit();

}  // namespace orchestra::common

#endif  // ORCHESTRA_COMMON_FILES_H_
