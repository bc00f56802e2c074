#include "common/signal_fd.h"

#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>

namespace orchestra::common {

Result<SignalFd> SignalFd::Open(std::initializer_list<int> signals) {
  sigset_t mask;
  sigemptyset(&mask);
  for (int signal : signals) sigaddset(&mask, signal);
  if (pthread_sigmask(SIG_BLOCK, &mask, nullptr) != 0)
    return Status::FromErrno("sigprocmask", errno);
  int fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
  if (fd < 0) return Status::FromErrno("signalfd", errno);
  return SignalFd(UniqueFd(fd));
}

int SignalFd::Read() {
  struct signalfd_siginfo info;
  ssize_t n = ::read(fd_.get(), &info, sizeof(info));
  if (n != static_cast<ssize_t>(sizeof(info))) return 0;
  return static_cast<int>(info.ssi_signo);
}

}  // namespace orchestra::common
