// Helpers for tests whose scores report progress through files: wait for
// a file to change (inotify on its directory, with a deadline, never a
// sleep), read it, and wait for a process that is not our child to end.

#ifndef ORCHESTRA_TEST_FILE_WATCH_H_
#define ORCHESTRA_TEST_FILE_WATCH_H_

#include <poll.h>
#include <sys/inotify.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "common/unique_fd.h"

namespace orchestra::test {

inline std::string ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

inline std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// Waits (at most `timeout`) until `done()` holds, checking again whenever
// something in directory `dir` is created or written. False at the
// deadline.
inline bool WaitForFiles(
    const std::string& dir, const std::function<bool()>& done,
    std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
  common::UniqueFd watch(::inotify_init1(IN_CLOEXEC | IN_NONBLOCK));
  if (!watch.valid() ||
      ::inotify_add_watch(watch.get(), dir.c_str(),
                          IN_MODIFY | IN_CLOSE_WRITE | IN_CREATE) < 0)
    return false;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    struct pollfd item = {watch.get(), POLLIN, 0};
    ::poll(&item, 1, static_cast<int>(left.count()));
    char events[4096];
    while (::read(watch.get(), events, sizeof(events)) > 0) {
    }
  }
  return true;
}

// Waits until file `path` holds at least `count` whole lines and returns
// them; fewer at the deadline.
inline std::vector<std::string> WaitForLines(const std::string& path,
                                             size_t count) {
  std::vector<std::string> lines;
  WaitForFiles(path.substr(0, path.rfind('/')), [&] {
    std::string text = ReadText(path);
    if (!text.empty() && text.back() != '\n') return false;
    lines = Lines(text);
    return lines.size() >= count;
  });
  return lines;
}

// Waits (at most 10 s) for process `pid`, not necessarily our child, to
// end. True once it has exited (a zombie counts) or is gone.
inline bool ProcessEnds(pid_t pid) {
  common::UniqueFd fd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  if (!fd.valid()) return errno == ESRCH;
  struct pollfd item = {fd.get(), POLLIN, 0};
  return ::poll(&item, 1, 10000) == 1;
}

}  // namespace orchestra::test

#endif  // ORCHESTRA_TEST_FILE_WATCH_H_
