// ConfigFile reads the original Orchestra's configuration syntax: one
// `key = value` a line, keys case-insensitive and possibly with spaces,
// `#` or `;` lines are comments, the value is everything after the first `=`,
// trimmed. ConfigReader binds keys to typed fields, one call per key, and
// reports the first problem as "FILE:LINE: what (fix)".

#ifndef ORCHESTRA_COMMON_CONFIG_FILE_H_
#define ORCHESTRA_COMMON_CONFIG_FILE_H_

#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/log.h"
#include "common/result.h"
#include "common/status.h"

namespace orchestra::common {

struct ConfigEntry {
  std::string key;    // Lower case, inner blanks collapsed to one space.
  std::string value;  // Trimmed.
  int line = 0;
};

class ConfigFile {
 public:
  // Reads and parses `path`. NotFound if it cannot be opened;
  // InvalidArgument "path:line: ..." for a line without '=' or a key given
  // twice.
  static Result<ConfigFile> Read(const std::string& path);
  // Parses `text` as if read from `path` (tests, files read elsewhere).
  static Result<ConfigFile> Parse(const std::string& path,
                                  std::string_view text);

  const std::string& path() const { return path_; }
  const std::vector<ConfigEntry>& entries() const { return entries_; }

 private:
  std::string path_;
  std::vector<ConfigEntry> entries_;
};

// Binds the entries of a ConfigFile to fields. The first error wins; Finish()
// returns it, or an error for the first key nobody asked for.
class ConfigReader {
 public:
  enum Need { kOptional, kRequired };

  explicit ConfigReader(const ConfigFile& file) : file_(file) {}

  void String(std::string_view key, std::string* out, Need need = kOptional);
  void Int(std::string_view key, int64_t min, int64_t max, int64_t* out,
           Need need = kOptional);
  void Int(std::string_view key, int min, int max, int* out,
           Need need = kOptional);
  // A non-negative decimal number, fractions allowed ("0.5").
  void Number(std::string_view key, double min, double max, double* out);
  // An octal file mode such as 0660.
  void Mode(std::string_view key, int* out);
  void Level(std::string_view key, LogLevel* out);
  // `parse` turns the value into a field; its error text is put after
  // "FILE:LINE: bad value for 'key': ".
  void Custom(std::string_view key,
              const std::function<Status(std::string_view value)>& parse,
              Need need = kOptional);

  // The first error met, else an error naming the first unknown key (with
  // the closest known key as a suggestion), else OK.
  Status Finish();

 private:
  const ConfigEntry* Find(std::string_view key, Need need);
  void Fail(const ConfigEntry& entry, std::string_view what);

  const ConfigFile& file_;
  std::set<std::string> known_;
  Status first_error_;
};

}  // namespace orchestra::common

#endif  // ORCHESTRA_COMMON_CONFIG_FILE_H_
