#include "common/files.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "common/unique_fd.h"

namespace orchestra::common {

namespace {

// Writes all of `content` to `fd`, sets `mode` (whatever the umask), and
// flushes it to disk; closes `fd`.
Status WriteAndSync(UniqueFd* fd, const std::string& path,
                    std::string_view content, int mode) {
  if (::fchmod(fd->get(), mode) != 0) return Status::FromErrno(path, errno);
  size_t written = 0;
  while (written < content.size()) {
    ssize_t n =
        ::write(fd->get(), content.data() + written, content.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::FromErrno(path, errno);
    written += static_cast<size_t>(n);
  }
  if (::fsync(fd->get()) != 0 || ::close(fd->Release()) != 0)
    return Status::FromErrno(path, errno);
  return Status();
}

// Makes a new or renamed directory entry durable.
Status SyncDirectoryOf(const std::string& path) {
  const size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "."
                          : slash == 0               ? "/"
                                                     : path.substr(0, slash);
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid() || ::fsync(fd.get()) != 0)
    return Status::FromErrno(dir, errno);
  return Status();
}

Status TooLarge(const std::string& path, size_t size) {
  return Status::InvalidArgument(
      path, "is larger than " + std::to_string(size) +
                " bytes; a key file holds one key (40 characters)");
}

// Why open(O_NOFOLLOW) failed: "too many levels of symbolic links" would
// puzzle an operator whose setting names a link.
Status OpenError(const std::string& path, int error) {
  struct stat st;
  if (error == ELOOP && ::lstat(path.c_str(), &st) == 0 && S_ISLNK(st.st_mode))
    return Status::InvalidArgument(
        path, "is a symbolic link; point the setting at the file itself");
  return Status::FromErrno(path, error);
}

Status CheckKeyFile(const std::string& path, const struct stat& st,
                    size_t size) {
  if (!S_ISREG(st.st_mode))
    return Status::InvalidArgument(
        path, "is not a regular file; a key file holds one key");
  if (st.st_size > static_cast<off_t>(size)) return TooLarge(path, size);
  return Status();
}

// A secret key must be ours alone: nobody else may read it, and nobody
// else may have written it (a key another user wrote is a key they know).
Status CheckSecretFile(const std::string& path, const struct stat& st) {
  if ((st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof(mode), "%04o", st.st_mode & 07777);
    return Status::PermissionDenied(
        path, std::string("secret key file has mode ") + mode +
                  "; group and others must not read it (chmod 600 " + path +
                  ")");
  }
  const uid_t us = ::geteuid();
  if (st.st_uid != us && st.st_uid != 0) {
    const std::string user = std::to_string(us);
    return Status::PermissionDenied(
        path, "secret key file belongs to uid " + std::to_string(st.st_uid) +
                  ", not to this program's user (uid " + user +
                  ") or root; give it to the user that runs this program "
                  "(chown " +
                  user + " " + path + ")");
  }
  return Status();
}

}  // namespace

Result<std::string> ReadFile(const std::string& path, size_t max_bytes) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return Status::FromErrno(path, errno);
  std::string content;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::FromErrno(path, errno);
    }
    if (n == 0) break;
    content.append(buf, static_cast<size_t>(n));
    if (content.size() > max_bytes)
      return Status::InvalidArgument(
          path, "larger than " + std::to_string(max_bytes) + " bytes");
  }
  return content;
}

Status WriteFileAtomically(const std::string& path, const std::string& content,
                           int mode) {
  // mkostemp() creates the file with O_EXCL under a name nobody can
  // prepare for: a link planted beside `path` is never followed.
  std::string temp = path + ".tmp.XXXXXX";
  UniqueFd fd(::mkostemp(temp.data(), O_CLOEXEC));
  if (!fd.valid()) return Status::FromErrno(path + ".tmp", errno);
  Status s = WriteAndSync(&fd, temp, content, mode);
  if (s.ok() && ::rename(temp.c_str(), path.c_str()) != 0)
    s = Status::FromErrno(path, errno);
  if (!s.ok()) {
    ::unlink(temp.c_str());
    return s;
  }
  return SyncDirectoryOf(path);
}

Status WriteNewFile(const std::string& path, std::string_view content,
                    int mode) {
  UniqueFd fd(::open(path.c_str(),
                     O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                     mode));
  if (!fd.valid()) {
    if (errno == EEXIST) return Status::Conflict(path, "already exists");
    return Status::FromErrno(path, errno);
  }
  Status s = WriteAndSync(&fd, path, content, mode);
  if (!s.ok()) {
    ::unlink(path.c_str());
    return s;
  }
  return SyncDirectoryOf(path);
}

Result<size_t> ReadKeyFile(const std::string& path, KeyFileKind kind,
                           char* buffer, size_t size) {
  // O_NONBLOCK: opening a FIFO must not wait for a writer. It does not
  // change reads of a regular file, the only kind read below.
  UniqueFd fd(
      ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK));
  if (!fd.valid()) return OpenError(path, errno);
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return Status::FromErrno(path, errno);
  Status s = CheckKeyFile(path, st, size);
  if (s.ok() && kind == KeyFileKind::kSecret) s = CheckSecretFile(path, st);
  if (!s.ok()) return s;
  size_t done = 0;
  while (done < size) {
    ssize_t n = ::read(fd.get(), buffer + done, size - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::FromErrno(path, errno);
    if (n == 0) return done;
    done += static_cast<size_t>(n);
  }
  char more;  // Full: the file grew since fstat(), or holds exactly `size`.
  const ssize_t extra = ::read(fd.get(), &more, 1);
  ::explicit_bzero(&more, sizeof more);  // A byte of a secret key, maybe.
  if (extra != 0) return TooLarge(path, size);
  return done;
}

Status MakeDirectories(const std::string& path, int mode) {
  if (path.empty()) return Status();
  struct stat st;
  if (::stat(path.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) return Status();
    return Status::InvalidArgument(path, "exists and is not a directory");
  }
  size_t slash = path.find_last_of('/');
  if (slash != std::string::npos && slash > 0) {
    Status s = MakeDirectories(path.substr(0, slash), mode);
    if (!s.ok()) return s;
  }
  if (::mkdir(path.c_str(), mode) != 0 && errno != EEXIST)
    return Status::FromErrno(path, errno);
  return Status();
}

Result<uint64_t> RaiseOpenFileLimit() {
  struct rlimit limit;
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0)
    return Status::FromErrno("RLIMIT_NOFILE", errno);
  if (limit.rlim_cur != limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &limit) != 0)
      return Status::FromErrno("RLIMIT_NOFILE", errno);
  }
  return static_cast<uint64_t>(limit.rlim_cur);
}

}  // namespace orchestra::common
