// Why the socket file is made this way. chmod() and chown() on the path
// after zmq_bind() left a window in which the socket had libzmq's default
// mode (0777 less the umask: open to every local user under umask 022), and
// both follow a link that someone able to write the directory could put
// there. Instead:
//
// - libzmq 4.3.4 makes an ipc socket file with bind(2) in the thread that
//   calls zmq_bind() (ipc_listener_t::set_local_address), so the process
//   umask at that moment decides the file's first mode. We set 0177 around
//   the call: the file is born 0600, reachable by our user only. The umask
//   is process-wide; no other thread of the conductor creates files then
//   (libzmq's I/O threads create none).
// - The file is then opened with O_PATH|O_NOFOLLOW beside the directory
//   descriptor that was checked, checked to be a socket of ours, and given
//   its group (fchownat(AT_EMPTY_PATH)) and then its mode. fchmod() refuses
//   O_PATH descriptors, so the mode goes through /proc/self/fd/N, which
//   names that very inode: what glibc 2.36's fchmodat(AT_SYMLINK_NOFOLLOW)
//   does too. The result is checked with fstat() and fstatat().

#include "conductor/audience_socket.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>

#include "common/files.h"
#include "common/unique_fd.h"

namespace orchestra::conductor {

using common::Result;
using common::Status;
using common::UniqueFd;

namespace {

constexpr char kIpcPrefix[] = "ipc://";
constexpr char kExample[] = "ipc:///run/orchestra/conductor.sock";

std::string Octal(mode_t mode) {
  char text[8];
  std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(mode & 07777));
  return text;
}

std::string DirectoryOf(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == 0 ? "/" : path.substr(0, slash);
}

// Only the directory's owner may add, remove or rename entries, and that
// owner is root or us. A sticky bit does not help: it keeps others from
// removing our socket, not from planting a file or link before we bind.
Status CheckSocketDirectory(const std::string& dir, const struct stat& st) {
  if (!S_ISDIR(st.st_mode))
    return Status::InvalidArgument("", dir + " is not a directory");
  if ((st.st_mode & 022) != 0)
    return Status::InvalidArgument(
        "", "directory " + dir + " is writable by group or others (mode " +
                Octal(st.st_mode) +
                "), who could replace the socket; use a directory only root "
                "or the conductor's user may write (chmod go-w " +
                dir + ")");
  const uid_t us = ::geteuid();
  if (st.st_uid != 0 && st.st_uid != us)
    return Status::InvalidArgument(
        "", "directory " + dir + " belongs to uid " +
                std::to_string(st.st_uid) +
                ", who could replace the socket; use a directory of root or "
                "of the conductor's user (uid " +
                std::to_string(us) + ")");
  return Status();
}

Status CheckDirectoryOf(const std::string& address, int dir_fd,
                        const std::string& dir) {
  struct stat st;
  if (::fstat(dir_fd, &st) != 0) return Status::FromErrno(dir, errno);
  Status s = CheckSocketDirectory(dir, st);
  if (!s.ok()) return Status::InvalidArgument(address, s.message());
  return Status();
}

// See the top of the file: the socket file is born mode 0600.
Result<std::string> BindPrivately(broker::Endpoint* endpoint,
                                  const std::string& address) {
  const mode_t saved = ::umask(0177);
  Result<std::string> bound = endpoint->Bind(address);
  ::umask(saved);
  return bound;
}

// The socket `name` in `dir_fd` is still the one we bound, with `mode` and
// `group`.
Status CheckSocketFile(int dir_fd, int fd, const std::string& path, int mode,
                       gid_t group) {
  struct stat held, named;
  if (::fstat(fd, &held) != 0) return Status::FromErrno(path, errno);
  const std::string name = path.substr(path.rfind('/') + 1);
  if (::fstatat(dir_fd, name.c_str(), &named, AT_SYMLINK_NOFOLLOW) != 0)
    return Status::FromErrno(path, errno);
  if (!S_ISSOCK(named.st_mode) || named.st_ino != held.st_ino ||
      named.st_dev != held.st_dev)
    return Status::PermissionDenied(
        path, "was replaced while we set its mode; refusing to serve it");
  if ((held.st_mode & 07777) != static_cast<mode_t>(mode) ||
      (group != static_cast<gid_t>(-1) && held.st_gid != group))
    return Status::IoError(
        path, "has mode " + Octal(held.st_mode) + ", not " + Octal(mode));
  return Status();
}

Status SetModeAndGroup(int dir_fd, const std::string& path, int mode,
                       gid_t group) {
  const std::string name = path.substr(path.rfind('/') + 1);
  UniqueFd fd(::openat(dir_fd, name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
  if (!fd.valid()) return Status::FromErrno(path, errno);
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return Status::FromErrno(path, errno);
  if (!S_ISSOCK(st.st_mode) || st.st_uid != ::geteuid())
    return Status::PermissionDenied(
        path, "is not the socket we just bound; refusing to serve it");
  if (group != static_cast<gid_t>(-1) &&
      ::fchownat(fd.get(), "", static_cast<uid_t>(-1), group, AT_EMPTY_PATH) !=
          0)
    return Status::FromErrno(path, errno);
  const std::string proc = "/proc/self/fd/" + std::to_string(fd.get());
  if (::chmod(proc.c_str(), static_cast<mode_t>(mode)) != 0)
    return Status::FromErrno(path + " (through " + proc + ")", errno);
  return CheckSocketFile(dir_fd, fd.get(), path, mode, group);
}

}  // namespace

std::string IpcPath(std::string_view address) {
  if (address.rfind(kIpcPrefix, 0) != 0) return "";
  return std::string(address.substr(sizeof kIpcPrefix - 1));
}

Status CheckIpcAddress(std::string_view address) {
  const std::string path = IpcPath(address);
  const std::string quoted = "'" + std::string(address) + "'";
  if (!path.empty() && path[0] == '@')
    return Status::InvalidArgument(
        "", quoted +
                " is an abstract socket, which every local user may "
                "connect to; give a file path such as " +
                kExample);
  if (path.empty() || path[0] != '/' || path.back() == '/')
    return Status::InvalidArgument(
        "", quoted +
                " does not name a socket file by its absolute path; "
                "give one such as " +
                kExample);
  const std::string dir = DirectoryOf(path);
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0) return Status();  // Made at bind.
  Status s = CheckSocketDirectory(dir, st);
  if (!s.ok()) return Status::InvalidArgument("", quoted + ": " + s.message());
  return Status();
}

Result<std::string> BindIpcSocket(broker::Endpoint* endpoint,
                                  const std::string& address, int mode,
                                  gid_t group) {
  Status s = CheckIpcAddress(address);
  if (!s.ok()) return s;
  const std::string path = IpcPath(address);
  const std::string dir = DirectoryOf(path);
  s = common::MakeDirectories(dir, 0755);
  if (!s.ok()) return s;
  // The directory may not have existed when the settings were checked.
  UniqueFd dir_fd(::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!dir_fd.valid()) return Status::FromErrno(dir, errno);
  s = CheckDirectoryOf(address, dir_fd.get(), dir);
  if (!s.ok()) return s;
  Result<std::string> bound = BindPrivately(endpoint, address);
  if (!bound.ok()) return bound.status();
  s = SetModeAndGroup(dir_fd.get(), path, mode, group);
  if (!s.ok()) return s;
  return bound;
}

}  // namespace orchestra::conductor
