// Process runs one of the project's binaries for end-to-end tests: it
// captures stderr (the log) on a reader thread so tests can wait for a log
// line with a deadline, and kills the process if the test forgets to. A
// sanitizer report in the log (`make test SANITIZE=1`) fails the test.

#ifndef ORCHESTRA_TEST_PROCESS_H_
#define ORCHESTRA_TEST_PROCESS_H_

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <regex>
#include <string>
#include <thread>
#include <vector>

namespace orchestra::test {

// The directory holding the binaries (that of the running test binary).
std::string BinaryDir();

// The first AddressSanitizer, LeakSanitizer or UndefinedBehaviorSanitizer
// report in `log` (from its line on, at most a few KiB), or "".
std::string SanitizerReport(const std::string& log);

class Process {
 public:
  // Starts `program` (a path) with `args` and our environment plus (or
  // overridden by) `extra_env` ("NAME=value"); stdout goes to /dev/null.
  // "JOURNAL_STREAM=stderr" becomes the device and inode of the log pipe,
  // as systemd sets it for a service logging to the journal. With
  // `open_file_limit` > 0 the process runs under RLIMIT_NOFILE of that
  // (soft and hard). pid() is 0 on failure.
  Process(const std::string& program, const std::vector<std::string>& args,
          const std::vector<std::string>& extra_env = {},
          int open_file_limit = 0);
  // Kills the process unless it was reaped; adds a test failure naming the
  // program if its log holds a sanitizer report.
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  bool started() const { return pid_ > 0; }

  // Waits until the log holds a line matching `pattern` (from `from` on)
  // and returns the first submatch (or the whole match); nullopt at the
  // deadline.
  std::optional<std::string> WaitForLog(const std::string& pattern,
                                        std::chrono::milliseconds timeout,
                                        size_t from = 0);
  // Number of log lines matching `pattern` so far.
  size_t CountLog(const std::string& pattern);
  // The log so far.
  std::string Log();
  size_t LogSize();

  void Signal(int signal);
  // Waits for the process to exit; its wait status, or nullopt at timeout.
  std::optional<int> Wait(std::chrono::milliseconds timeout);

 private:
  void ReadLog(int fd);

  std::string program_;
  pid_t pid_ = 0;
  bool reaped_ = false;
  int status_ = 0;
  std::mutex mu_;
  std::condition_variable changed_;
  std::string log_;
  bool log_closed_ = false;
  std::thread reader_;
};

// Runs `program` with `args` to completion (at most `timeout`), returning
// its exit code (-1 on timeout or signal) and what it printed. A sanitizer
// report on its stderr fails the test.
struct CommandResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};
CommandResult RunCommand(const std::string& program,
                         const std::vector<std::string>& args,
                         std::chrono::milliseconds timeout,
                         const std::vector<std::string>& extra_env = {});

}  // namespace orchestra::test

#endif  // ORCHESTRA_TEST_PROCESS_H_
