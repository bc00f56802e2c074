// A tiny logger: one line per event on stderr, terse facts with key=value
// fields ("player joined player=web-3 slots=4"). When stderr is the journal
// (JOURNAL_STREAM names it) a line is a <N> priority prefix that journald
// understands and the
// event, as journald adds time and program; elsewhere a UTC timestamp, the
// level and the program lead the line.
// Not thread-safe in its configuration; writes are single fwrite calls.

#ifndef ORCHESTRA_COMMON_LOG_H_
#define ORCHESTRA_COMMON_LOG_H_

#include <functional>
#include <string>
#include <string_view>

namespace orchestra::common {

enum class LogLevel { kError, kWarning, kInfo, kDebug };

// Sets the program name shown on each line and the most verbose level shown.
void InitLogging(std::string_view program, LogLevel level);
LogLevel CurrentLogLevel();

// "error", "warning", "info", "debug" (any case); false for anything else.
bool ParseLogLevel(std::string_view text, LogLevel* level);
const char* LogLevelName(LogLevel level);

void LogError(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
void LogWarning(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
void LogInfo(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
void LogDebug(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

// Quotes `text` for a key=value field when it holds spaces, quotes or
// control characters; returns it unchanged otherwise.
std::string LogQuote(std::string_view text);

// While held, lines gather in memory and FlushLogLines() writes them with
// one write(2) (the conductor flushes at the end of each loop turn, where a
// line a message costs a system call each); an error line, 64 KiB of lines
// or HoldLogLines(false) flushes at once.
void HoldLogLines(bool hold);
void FlushLogLines();

// Routes log lines to `sink` instead of stderr (tests); nullptr restores.
void SetLogSinkForTest(std::function<void(LogLevel, std::string_view)> sink);

}  // namespace orchestra::common

#endif  // ORCHESTRA_COMMON_LOG_H_
