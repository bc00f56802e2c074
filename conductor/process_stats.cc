// /proc/self/stat holds the CPU time (fields 14 and 15, in clock ticks),
// the start time (field 22, ticks since boot) and the resident set (field
// 24, in pages), as proc(5) numbers them; the second field, the command
// name in parentheses, may itself hold spaces and parentheses, so fields
// are counted from the last ')'. The boot time is /proc/stat's "btime".
// The start time does not change: it is read once.

#include "conductor/process_stats.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdlib>
#include <limits>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "common/files.h"
#include "common/result.h"

namespace orchestra::conductor {

namespace {

constexpr size_t kMaxProcFileBytes = 4 << 20;
// Fields of /proc/self/stat, counted from the first after the command name
// (field 3, the state).
constexpr size_t kUtime = 14 - 3;
constexpr size_t kStime = 15 - 3;
constexpr size_t kStartTime = 22 - 3;
constexpr size_t kRss = 24 - 3;

struct DirCloser {
  void operator()(DIR* dir) const { ::closedir(dir); }
};

// The fields of /proc/self/stat after the command name, or {}.
std::vector<std::string> StatFields() {
  common::Result<std::string> stat =
      common::ReadFile("/proc/self/stat", kMaxProcFileBytes);
  if (!stat.ok()) return {};
  const size_t paren = stat.value().rfind(')');
  if (paren == std::string::npos) return {};
  std::istringstream in(stat.value().substr(paren + 1));
  std::vector<std::string> fields;
  for (std::string field; in >> field;) fields.push_back(field);
  return fields;
}

double Field(const std::vector<std::string>& fields, size_t i) {
  return i < fields.size() ? std::strtod(fields[i].c_str(), nullptr) : 0;
}

// Seconds since the epoch at boot, from /proc/stat; 0 if unknown.
double BootTime() {
  common::Result<std::string> stat =
      common::ReadFile("/proc/stat", kMaxProcFileBytes);
  if (!stat.ok()) return 0;
  std::istringstream in(stat.value());
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("btime ", 0) == 0) return std::strtod(&line[6], nullptr);
  }
  return 0;
}

double StartTime(const std::vector<std::string>& fields, double ticks) {
  static const double start = BootTime() + Field(fields, kStartTime) / ticks;
  return start;
}

double MaxDescriptors() {
  struct rlimit limit;
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return 0;
  if (limit.rlim_cur == RLIM_INFINITY)
    return std::numeric_limits<double>::infinity();
  return static_cast<double>(limit.rlim_cur);
}

}  // namespace

ProcessStats ReadProcessStats() {
  ProcessStats p;
  const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(::sysconf(_SC_PAGESIZE));
  const std::vector<std::string> fields = StatFields();
  if (ticks > 0 && !fields.empty()) {
    p.cpu_seconds = (Field(fields, kUtime) + Field(fields, kStime)) / ticks;
    p.start_time_seconds = StartTime(fields, ticks);
  }
  p.resident_memory_bytes = static_cast<int64_t>(Field(fields, kRss) * page);
  p.open_fds = CountOpenDescriptors();
  if (p.open_fds < 0) p.open_fds = 0;
  p.max_fds = MaxDescriptors();
  return p;
}

int64_t CountOpenDescriptors() {
  std::unique_ptr<DIR, DirCloser> dir(::opendir("/proc/self/fd"));
  if (dir == nullptr) return -1;
  int64_t n = 0;
  while (const struct dirent* entry = ::readdir(dir.get())) {
    if (entry->d_name[0] != '.') ++n;
  }
  return n - 1;  // not the directory's own
}

}  // namespace orchestra::conductor
