#include "common/log.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "common/clock.h"
#include "common/text.h"

namespace orchestra::common {

namespace {

std::string g_program = "orchestra";
LogLevel g_level = LogLevel::kInfo;
// True when stderr is the stream systemd connected to the journal: the
// device and inode JOURNAL_STREAM names (sd_journal_stream_fd(3)). A child
// whose stderr goes elsewhere inherits the variable but not the stream.
bool StderrIsJournal() {
  const char* stream = std::getenv("JOURNAL_STREAM");
  if (stream == nullptr) return false;
  unsigned long long device = 0, inode = 0;
  if (std::sscanf(stream, "%llu:%llu", &device, &inode) != 2) return false;
  struct stat st;
  if (::fstat(STDERR_FILENO, &st) != 0) return false;
  return st.st_dev == device && st.st_ino == inode;
}

bool g_journal = StderrIsJournal();
std::function<void(LogLevel, std::string_view)> g_sink;
bool g_hold = false;
std::string g_held;  // lines not yet written while held
constexpr size_t kMaxHeldBytes = 64 << 10;

int JournalPriority(LogLevel level) {
  switch (level) {
    case LogLevel::kError: return 3;
    case LogLevel::kWarning: return 4;
    case LogLevel::kInfo: return 6;
    case LogLevel::kDebug: return 7;
  }
  return 6;
}

void Emit(LogLevel level, const char* fmt, va_list args) {
  if (level > g_level) return;
  char body[4096];
  int n = std::vsnprintf(body, sizeof(body), fmt, args);
  if (n < 0) return;
  std::string_view text(body, static_cast<size_t>(n) < sizeof(body)
                                  ? static_cast<size_t>(n)
                                  : sizeof(body) - 1);
  if (g_sink) {
    g_sink(level, text);
    return;
  }
  std::string line;
  line.reserve(text.size() + 64);
  if (g_journal) {
    // journald adds the time, the program and its pid, and keeps the
    // level as the entry's priority (journalctl -p warning).
    line += "<" + std::to_string(JournalPriority(level)) + ">";
  } else {
    line += FormatTime(SystemClock().Now());
    line += ' ';
    line += LogLevelName(level);
    line += ' ';
    line += g_program;
    line += ": ";
  }
  line += text;
  line += '\n';
  if (g_hold) {
    g_held += line;
    if (level == LogLevel::kError || g_held.size() >= kMaxHeldBytes)
      FlushLogLines();
    return;
  }
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

}  // namespace

void HoldLogLines(bool hold) {
  g_hold = hold;
  if (!hold) FlushLogLines();
}

void FlushLogLines() {
  if (g_held.empty()) return;
  std::fwrite(g_held.data(), 1, g_held.size(), stderr);
  std::fflush(stderr);
  g_held.clear();
}

void InitLogging(std::string_view program, LogLevel level) {
  g_program = std::string(program);
  g_level = level;
}

LogLevel CurrentLogLevel() { return g_level; }

bool ParseLogLevel(std::string_view text, LogLevel* level) {
  std::string lower = ToLower(text);
  if (lower == "error") *level = LogLevel::kError;
  else if (lower == "warning") *level = LogLevel::kWarning;
  else if (lower == "info") *level = LogLevel::kInfo;
  else if (lower == "debug") *level = LogLevel::kDebug;
  else return false;
  return true;
}

const char* LogLevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kError: return "error";
    case LogLevel::kWarning: return "warning";
    case LogLevel::kInfo: return "info";
    case LogLevel::kDebug: return "debug";
  }
  return "info";
}

#define ORCHESTRA_LOG_BODY(level) \
  va_list args;                   \
  va_start(args, fmt);            \
  Emit(level, fmt, args);         \
  va_end(args)

void LogError(const char* fmt, ...) { ORCHESTRA_LOG_BODY(LogLevel::kError); }
void LogWarning(const char* fmt, ...) {
  ORCHESTRA_LOG_BODY(LogLevel::kWarning);
}
void LogInfo(const char* fmt, ...) { ORCHESTRA_LOG_BODY(LogLevel::kInfo); }
void LogDebug(const char* fmt, ...) { ORCHESTRA_LOG_BODY(LogLevel::kDebug); }

std::string LogQuote(std::string_view text) {
  bool plain = !text.empty();
  for (unsigned char c : text) {
    if (c <= ' ' || c == '"' || c == '=' || c == 0x7f) plain = false;
  }
  if (plain) return std::string(text);
  std::string out = "\"";
  for (unsigned char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < ' ' || c == 0x7f) {
      char hex[8];
      std::snprintf(hex, sizeof(hex), "\\x%02x", c);
      out += hex;
    } else {
      out += static_cast<char>(c);
    }
  }
  out += '"';
  return out;
}

void SetLogSinkForTest(std::function<void(LogLevel, std::string_view)> sink) {
  g_sink = std::move(sink);
}

}  // namespace orchestra::common
