// SignalFd turns signals into a readable descriptor a daemon's loop can
// poll (Linux signalfd): the signals are blocked for the process and read
// one by one. Create it in main() before any thread starts.

#ifndef ORCHESTRA_COMMON_SIGNAL_FD_H_
#define ORCHESTRA_COMMON_SIGNAL_FD_H_

#include <initializer_list>

#include "common/result.h"
#include "common/unique_fd.h"

namespace orchestra::common {

class SignalFd {
 public:
  // Blocks `signals` and opens a descriptor that reports them.
  static Result<SignalFd> Open(std::initializer_list<int> signals);

  int fd() const { return fd_.get(); }
  // The next pending signal, or 0 when none is pending. Never blocks.
  int Read();

 private:
  explicit SignalFd(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_;
};

}  // namespace orchestra::common

#endif  // ORCHESTRA_COMMON_SIGNAL_FD_H_
