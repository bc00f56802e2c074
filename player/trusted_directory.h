// TrustedDirectory is a directory reached from "/" one name at a time, with
// links followed by hand, where every directory and link on the way passed
// the owner and mode checks of DESIGN.md section 7 (OpenSSH's StrictModes).
// Files named in it are opened by the same walk, so what is opened is what
// was checked. Immutable once opened; used by the player loop thread.

#ifndef ORCHESTRA_PLAYER_TRUSTED_DIRECTORY_H_
#define ORCHESTRA_PLAYER_TRUSTED_DIRECTORY_H_

#include <sys/stat.h>
#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/unique_fd.h"

namespace orchestra::player {

// Why `st`, the stat of `what`, may not be trusted by a player running as
// `owner` (owned by neither root nor `owner`, or writable by group or
// others), or "" when it may.
std::string OwnershipProblem(const struct stat& st, uid_t owner,
                             const std::string& what);

// A regular file opened by TrustedDirectory::OpenFile.
struct OpenedFile {
  common::UniqueFd fd;    // O_RDONLY | O_CLOEXEC | O_NONBLOCK
  std::string real_path;  // Links resolved
  bool via_link = false;  // The name was a link
};

class TrustedDirectory {
 public:
  // Walks to directory `path` (absolute) for a player running as `owner`.
  // Every directory and link passed must be owned by root or `owner`. The
  // directories above `path` may be writable by group or others only if
  // sticky; `path` itself not at all. The error names what failed and why.
  static common::Result<TrustedDirectory> Open(const std::string& path,
                                               uid_t owner);

  // Opens the regular file that `name` names here, following links (at
  // most 40) under the same checks; the directory holding the file must
  // not be writable by group or others even if sticky. The file itself is
  // left to the caller to judge. The error says why (e.g. "not a regular
  // file").
  common::Result<OpenedFile> OpenFile(const std::string& name) const;

  // This directory's descriptor (O_PATH), shared with whoever keeps it.
  const std::shared_ptr<const common::UniqueFd>& fd() const {
    return steps_.back().fd;
  }
  const std::string& real_path() const { return steps_.back().path; }
  uid_t owner() const { return owner_; }

  // One directory on the real path, from "/" down.
  struct Step {
    std::shared_ptr<const common::UniqueFd> fd;  // O_PATH
    std::string path;
    struct stat st;  // Of `fd`, as checked
  };

 private:
  TrustedDirectory(std::vector<Step> steps, uid_t owner)
      : steps_(std::move(steps)), owner_(owner) {}

  std::vector<Step> steps_;  // "/" first, this directory last
  uid_t owner_;
};

}  // namespace orchestra::player

#endif  // ORCHESTRA_PLAYER_TRUSTED_DIRECTORY_H_
