// SmallDisk: a small tmpfs mounted on a fresh temporary directory, for tests
// of a full disk with the kernel's own ENOSPC. Fill() takes every free byte
// with a filler file, Free() deletes it again. Mounting needs root (the
// tests run as root); when it fails, error() says why and the test skips.
// Unmounted (lazily, so a daemon still holding a file cannot block it) when
// the object goes away.

#ifndef ORCHESTRA_TEST_SMALL_DISK_H_
#define ORCHESTRA_TEST_SMALL_DISK_H_

#include <fcntl.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "common/unique_fd.h"
#include "test/test_util.h"

namespace orchestra::test {

class SmallDisk {
 public:
  explicit SmallDisk(size_t bytes) {
    const std::string options = "size=" + std::to_string(bytes) + ",mode=0755";
    if (::mount("tmpfs", dir_.path().c_str(), "tmpfs", MS_NOSUID | MS_NODEV,
                options.c_str()) != 0) {
      error_ = std::string("cannot mount a tmpfs (needs root): ") +
               std::strerror(errno);
    }
  }
  ~SmallDisk() {
    if (error_.empty()) ::umount2(dir_.path().c_str(), MNT_DETACH);
  }
  SmallDisk(const SmallDisk&) = delete;
  SmallDisk& operator=(const SmallDisk&) = delete;

  // Empty once mounted; otherwise why it is not.
  const std::string& error() const { return error_; }
  const std::string& path() const { return dir_.path(); }
  std::string File(const std::string& name) const { return dir_.File(name); }

  // Writes the filler until the file system has no byte left. True when it
  // ended with ENOSPC (the disk is full).
  bool Fill() {
    common::UniqueFd fd(::open(
        filler().c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
    if (!fd.valid()) return errno == ENOSPC;
    const std::vector<char> block(64 * 1024, 'x');
    for (size_t size = block.size(); size > 0;) {
      ssize_t n = ::write(fd.get(), block.data(), size);
      if (n >= 0) continue;
      if (errno != ENOSPC) return false;
      size /= 2;  // The last free bytes: ever smaller writes
    }
    return true;
  }
  // Deletes the filler: the space is free again.
  void Free() { ::unlink(filler().c_str()); }

 private:
  std::string filler() const { return dir_.File(".filler"); }

  TempDir dir_;
  std::string error_;
};

}  // namespace orchestra::test

#endif  // ORCHESTRA_TEST_SMALL_DISK_H_
