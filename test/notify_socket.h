// NotifySocket plays systemd's side of sd_notify for tests: a datagram
// socket bound in a directory, whose path goes into NOTIFY_SOCKET, and a
// deadline-bound wait for the next notification (or one holding a field).

#ifndef ORCHESTRA_TEST_NOTIFY_SOCKET_H_
#define ORCHESTRA_TEST_NOTIFY_SOCKET_H_

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

namespace orchestra::test {

class NotifySocket {
 public:
  // Binds `dir`/notify.sock; check ok().
  explicit NotifySocket(const std::string& dir) : path_(dir + "/notify.sock") {
    fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un address = {};
    address.sun_family = AF_UNIX;
    if (fd_ < 0 || path_.size() >= sizeof(address.sun_path)) return;
    std::memcpy(address.sun_path, path_.c_str(), path_.size() + 1);
    bound_ = bind(fd_, reinterpret_cast<struct sockaddr*>(&address),
                  sizeof(address)) == 0;
  }
  ~NotifySocket() {
    if (fd_ >= 0) close(fd_);
    unlink(path_.c_str());
  }
  NotifySocket(const NotifySocket&) = delete;
  NotifySocket& operator=(const NotifySocket&) = delete;

  bool ok() const { return bound_; }
  const std::string& path() const { return path_; }
  // "NOTIFY_SOCKET=PATH", for a child's environment.
  std::string Environment() const { return "NOTIFY_SOCKET=" + path_; }

  // The next notification, or nullopt after `timeout`.
  std::optional<std::string> Receive(std::chrono::milliseconds timeout) {
    struct pollfd p = {fd_, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(timeout.count())) != 1)
      return std::nullopt;
    char buf[4096];
    ssize_t n = recv(fd_, buf, sizeof(buf), 0);
    if (n < 0) return std::nullopt;
    std::string message(buf, static_cast<size_t>(n));
    received_.push_back(message);
    return message;
  }

  // Waits until a notification holds the line `field` (e.g. "READY=1");
  // returns that notification, or nullopt at the deadline.
  std::optional<std::string> WaitFor(const std::string& field,
                                     std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return std::nullopt;
      std::optional<std::string> message = Receive(left);
      if (!message) return std::nullopt;
      if (HasField(*message, field)) return message;
    }
  }

  // Every notification received so far, in order.
  const std::vector<std::string>& received() const { return received_; }

  static bool HasField(const std::string& message, const std::string& field) {
    size_t at = 0;
    for (;;) {
      size_t end = message.find('\n', at);
      if (message.compare(at, end == std::string::npos ? std::string::npos
                                                       : end - at,
                          field) == 0)
        return true;
      if (end == std::string::npos) return false;
      at = end + 1;
    }
  }

 private:
  std::string path_;
  int fd_ = -1;
  bool bound_ = false;
  std::vector<std::string> received_;
};

}  // namespace orchestra::test

#endif  // ORCHESTRA_TEST_NOTIFY_SOCKET_H_
