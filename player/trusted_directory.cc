// The walk is OpenSSH's StrictModes (auth.c, safe_path) done by descriptor
// instead of realpath(3), so that no name is looked up twice: each
// directory is opened (O_PATH, O_NOFOLLOW) relative to the one above it and
// judged by an fstat of that descriptor; links are read and followed here,
// at most 40 of them (the kernel's own limit), and ".." goes back along the
// real path walked so far. The rules, and why:
//
// - Every directory and every link passed is owned by root or the player's
//   user: the owner of a directory can replace anything below it, and the
//   owner of a link can replace the link (a link in a sticky directory).
// - A directory above the score directory, or holding a link on the way,
//   may be writable by group or others only if it is sticky (/tmp, 1777):
//   there nobody may rename or remove an entry they do not own, and every
//   entry on the path is owned by root or the player's user (checked). So
//   a score directory may live under /tmp, as the tests' do.
// - The score directory and the directory holding a link's final target
//   may not be writable by group or others at all, sticky or not: whoever
//   may create a name there may make it a hard link to any program owned
//   by root, which would pass every check on the file itself.

#include "player/trusted_directory.h"

#include <fcntl.h>
#include <limits.h>
#include <unistd.h>

#include <cerrno>
#include <deque>

namespace orchestra::player {

using common::Result;
using common::Status;
using common::UniqueFd;
using Step = TrustedDirectory::Step;

namespace {

constexpr int kMaxLinks = 40;

std::string Join(const std::string& dir, const std::string& name) {
  return dir == "/" ? "/" + name : dir + "/" + name;
}

std::vector<std::string> Split(const std::string& path) {
  std::vector<std::string> names;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    if (end > start) names.push_back(path.substr(start, end - start));
    start = end + 1;
  }
  return names;
}

std::string NotOwnedProblem(const struct stat& st, uid_t owner,
                            const std::string& what) {
  if (st.st_uid == 0 || st.st_uid == owner) return "";
  return what + " is owned by uid " + std::to_string(st.st_uid) +
         ", not root or the player's user";
}

// Why the directory `path` may not be passed through, or "".
std::string AncestorProblem(const struct stat& st, uid_t owner,
                            const std::string& path) {
  std::string problem = NotOwnedProblem(st, owner, "directory " + path);
  if (problem.empty() && (st.st_mode & (S_IWGRP | S_IWOTH)) != 0 &&
      (st.st_mode & S_ISVTX) == 0)
    problem =
        "directory " + path + " is writable by group or others and not sticky";
  return problem;
}

// Walks names from the last of `steps`, entering directories and following
// links, until what is left is the last name of a file, or nothing.
class Walk {
 public:
  Walk(std::vector<Step> steps, uid_t owner)
      : steps_(std::move(steps)), owner_(owner) {}

  // Walks `path`; with `file`, its last name must be a regular file, which
  // is opened into `file`.
  Status Follow(const std::string& path, OpenedFile* file);
  std::vector<Step> TakeSteps() { return std::move(steps_); }

 private:
  Status Enter(const std::string& name, const std::string& path,
               const struct stat& st);
  Status FollowLink(const std::string& name, const std::string& path,
                    const struct stat& st);
  Status OpenLast(const std::string& name, const std::string& path,
                  const struct stat& st, OpenedFile* file);

  std::vector<Step> steps_;          // The real path walked so far
  std::deque<std::string> pending_;  // Names still to walk
  int links_ = 0;                    // Links followed
  uid_t owner_;
};

Status Walk::Follow(const std::string& path, OpenedFile* file) {
  for (std::string& name : Split(path)) pending_.push_back(std::move(name));
  while (!pending_.empty()) {
    const std::string name = std::move(pending_.front());
    pending_.pop_front();
    if (name == ".") continue;
    if (name == "..") {
      if (steps_.size() > 1) steps_.pop_back();
      continue;
    }
    const std::string here = Join(steps_.back().path, name);
    struct stat st;
    if (::fstatat(steps_.back().fd->get(), name.c_str(), &st,
                  AT_SYMLINK_NOFOLLOW) != 0)
      return Status::FromErrno(here, errno);
    Status s;
    if (S_ISLNK(st.st_mode))
      s = FollowLink(name, here, st);
    else if (file != nullptr && pending_.empty())
      return OpenLast(name, here, st, file);
    else
      s = Enter(name, here, st);
    if (!s.ok()) return s;
  }
  if (file != nullptr) return Status::InvalidArgument("", "not a regular file");
  return Status();
}

Status Walk::Enter(const std::string& name, const std::string& path,
                   const struct stat& st) {
  if (!S_ISDIR(st.st_mode))
    return Status::InvalidArgument(path, "not a directory");
  Step step;
  int fd = ::openat(steps_.back().fd->get(), name.c_str(),
                    O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return Status::FromErrno(path, errno);
  step.fd = std::make_shared<const UniqueFd>(fd);
  step.path = path;
  if (::fstat(fd, &step.st) != 0) return Status::FromErrno(path, errno);
  std::string problem = AncestorProblem(step.st, owner_, path);
  if (!problem.empty()) return Status::PermissionDenied("", problem);
  steps_.push_back(std::move(step));
  return Status();
}

// The directory holding the link is on the walked path, so it passed
// AncestorProblem already.
Status Walk::FollowLink(const std::string& name, const std::string& path,
                        const struct stat& st) {
  std::string problem = NotOwnedProblem(st, owner_, "link " + path);
  if (!problem.empty()) return Status::PermissionDenied("", problem);
  if (++links_ > kMaxLinks)
    return Status::InvalidArgument(
        path, "more than " + std::to_string(kMaxLinks) + " links on the way");
  char target[PATH_MAX];
  ssize_t n = ::readlinkat(steps_.back().fd->get(), name.c_str(), target,
                           sizeof(target));
  if (n < 0) return Status::FromErrno(path, errno);
  if (n == 0 || static_cast<size_t>(n) == sizeof(target))
    return Status::InvalidArgument(path, "link target empty or too long");
  if (target[0] == '/') steps_.resize(1);  // Back to "/"
  std::vector<std::string> names = Split(std::string(target, n));
  pending_.insert(pending_.begin(), names.begin(), names.end());
  return Status();
}

Status Walk::OpenLast(const std::string& name, const std::string& path,
                      const struct stat& st, OpenedFile* file) {
  if (!S_ISREG(st.st_mode))  // Not opened: a FIFO or device is never touched
    return Status::InvalidArgument("", "not a regular file");
  const Step& holder = steps_.back();
  std::string problem =
      OwnershipProblem(holder.st, owner_, "directory " + holder.path);
  if (!problem.empty()) return Status::PermissionDenied("", problem);
  // O_NONBLOCK: had a FIFO replaced the file since the fstatat, opening it
  // would wait for a writer.
  file->fd.Reset(
      ::openat(holder.fd->get(), name.c_str(),
               O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOFOLLOW | O_NOCTTY));
  if (!file->fd.valid()) return Status::FromErrno(path, errno);
  file->real_path = path;
  file->via_link = links_ > 0;
  return Status();
}

Result<Step> OpenRoot(uid_t owner) {
  Step root;
  int fd = ::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Status::FromErrno("/", errno);
  root.fd = std::make_shared<const UniqueFd>(fd);
  root.path = "/";
  if (::fstat(fd, &root.st) != 0) return Status::FromErrno("/", errno);
  std::string problem = AncestorProblem(root.st, owner, "/");
  if (!problem.empty()) return Status::PermissionDenied("", problem);
  return root;
}

}  // namespace

std::string OwnershipProblem(const struct stat& st, uid_t owner,
                             const std::string& what) {
  std::string problem = NotOwnedProblem(st, owner, what);
  if (problem.empty() && (st.st_mode & (S_IWGRP | S_IWOTH)) != 0)
    problem = what + " is writable by group or others";
  return problem;
}

Result<TrustedDirectory> TrustedDirectory::Open(const std::string& path,
                                                uid_t owner) {
  if (path.empty() || path[0] != '/')
    return Status::InvalidArgument(path, "not an absolute path");
  Result<Step> root = OpenRoot(owner);
  if (!root.ok()) return root.status();
  Walk walk({root.value()}, owner);
  Status s = walk.Follow(path, nullptr);
  if (!s.ok()) return s;
  std::vector<Step> steps = walk.TakeSteps();
  const Step& dir = steps.back();
  std::string problem =
      OwnershipProblem(dir.st, owner, "directory " + dir.path);
  if (!problem.empty()) return Status::PermissionDenied("", problem);
  return TrustedDirectory(std::move(steps), owner);
}

Result<OpenedFile> TrustedDirectory::OpenFile(const std::string& name) const {
  Walk walk(steps_, owner_);
  OpenedFile file;
  Status s = walk.Follow(name, &file);
  if (!s.ok()) return s;
  return file;
}

}  // namespace orchestra::player
