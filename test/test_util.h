// Helpers shared by the tests: Status assertions, temporary directories,
// file modes and a look into a database as a reporting tool has it.

#ifndef ORCHESTRA_TEST_TEST_UTIL_H_
#define ORCHESTRA_TEST_TEST_UTIL_H_

#include <gtest/gtest.h>
#include <sodium.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <fstream>
#include <string>

#include "common/sqlite.h"
#include "common/status.h"

#define ASSERT_OK(expr)                            \
  do {                                             \
    const ::orchestra::common::Status _s = (expr); \
    ASSERT_TRUE(_s.ok()) << _s.ToString();         \
  } while (0)

#define EXPECT_OK(expr)                            \
  do {                                             \
    const ::orchestra::common::Status _s = (expr); \
    EXPECT_TRUE(_s.ok()) << _s.ToString();         \
  } while (0)

namespace orchestra::test {

// A fresh directory under $TMPDIR (or /tmp), removed with its contents when
// the object goes away.
class TempDir {
 public:
  TempDir() {
    const char* base = getenv("TMPDIR");
    std::string pattern = std::string(base ? base : "/tmp") + "/orc-XXXXXX";
    char* made = mkdtemp(pattern.data());
    path_ = made ? made : "";
  }
  ~TempDir() {
    if (!path_.empty()) {
      std::string command = "rm -rf '" + path_ + "'";
      if (system(command.c_str()) != 0) {
      }
    }
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }
  // Writes `content` to the file `name` in this directory, sets its mode and
  // returns its path.
  std::string MakeFile(const std::string& name, const std::string& content,
                       mode_t mode) const {
    std::string path = File(name);
    std::ofstream(path) << content;
    chmod(path.c_str(), mode);
    return path;
  }

 private:
  std::string path_;
};

// The SHA-256 of `bytes` in lower-case hex, as a player reports a score's.
inline std::string Sha256Hex(const std::string& bytes) {
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest,
                     reinterpret_cast<const unsigned char*>(bytes.data()),
                     bytes.size());
  char hex[crypto_hash_sha256_BYTES * 2 + 1];
  sodium_bin2hex(hex, sizeof(hex), digest, sizeof(digest));
  return hex;
}

// The permission bits of `path` (mode & 07777), or 0 if it cannot be stat'ed.
inline mode_t ModeOf(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 ? (st.st_mode & 07777) : 0;
}

// The first row of `sql` (`columns` wide) in the database at `path`, read
// through a connection of its own, as a reporting tool would: "a|b|c", or
// "no row".
inline std::string FirstRow(const std::string& path, const std::string& sql,
                            int columns = 1) {
  common::Result<common::Database> db = common::Database::Open(path);
  if (!db.ok()) return db.status().ToString();
  common::Result<common::Statement> stmt = db.value().Prepare(sql.c_str());
  if (!stmt.ok()) return stmt.status().ToString();
  common::Result<bool> row = stmt.value().Step();
  if (!row.ok()) return row.status().ToString();
  if (!row.value()) return "no row";
  std::string out;
  for (int i = 0; i < columns; ++i)
    out += (i ? "|" : "") + stmt.value().Text(i);
  return out;
}

}  // namespace orchestra::test

#endif  // ORCHESTRA_TEST_TEST_UTIL_H_
