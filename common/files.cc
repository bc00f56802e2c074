#include "common/files.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "common/unique_fd.h"

namespace orchestra::common {

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
  std::string temp = path + ".tmp" + std::to_string(::getpid());
  UniqueFd fd(::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
                     mode));
  if (!fd.valid()) return Status::FromErrno(temp, errno);
  if (::fchmod(fd.get(), mode) != 0) return Status::FromErrno(temp, errno);
  size_t written = 0;
  while (written < content.size()) {
    ssize_t n = ::write(fd.get(), content.data() + written,
                        content.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      int saved = errno;
      ::unlink(temp.c_str());
      return Status::FromErrno(temp, saved);
    }
    written += static_cast<size_t>(n);
  }
  if (::fsync(fd.get()) != 0 || ::close(fd.Release()) != 0) {
    int saved = errno;
    ::unlink(temp.c_str());
    return Status::FromErrno(temp, saved);
  }
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    int saved = errno;
    ::unlink(temp.c_str());
    return Status::FromErrno(path, saved);
  }
  return Status();
}

Status CheckPrivateFile(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return Status::FromErrno(path, errno);
  if ((st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof(mode), "%04o", st.st_mode & 07777);
    return Status::PermissionDenied(
        path, std::string("secret key file has mode ") + mode +
                  "; group and others must not read it (chmod 600 " + path +
                  ")");
  }
  return Status();
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
