// StoreBatch is one loop turn's writes as values, not as SQL run in place:
// the loop records them and hands them to StoreThread, which runs them on
// the store's engine and commits (DESIGN.md sections 8 and 17). Every
// write is one of the statements of StoreWriteSql(), the same text for
// every engine, with its parameters bound in order (?1, ?2, ...).

#ifndef ORCHESTRA_CONDUCTOR_STORE_WRITES_H_
#define ORCHESTRA_CONDUCTOR_STORE_WRITES_H_

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace orchestra::conductor {

// A parameter: NULL, an integer, text or a float.
using StoreValue = std::variant<std::monostate, int64_t, std::string, double>;

enum class WriteKind : uint8_t {
  kInsertJob,
  kInsertJobPlayer,
  kInsertTask,
  kUpdateTask,
  kUpdateJob,
  kDeleteTasks,
  kDeleteJobPlayers,
  kDeleteJob,
  kSaveKey,
  kSaveSession,
  kDeleteScores,
  kInsertScore,
  kMarkAllDisconnected,
  kProbe,
};
constexpr size_t kWriteKinds = static_cast<size_t>(WriteKind::kProbe) + 1;

// The schema's version (PRAGMA user_version; conductor/schema.h).
constexpr int kSchemaVersion = 6;

// The SQL of `kind`.
std::string StoreWriteSql(WriteKind kind);

struct StoreWrite {
  WriteKind kind;
  std::vector<StoreValue> values;  // ?1, ?2, ...
};

struct StoreBatch {
  uint64_t turn = 0;   // the loop's turn, increasing
  uint64_t epoch = 0;  // see StoreThread
  std::vector<StoreWrite> writes;
  bool checkpoint = false;  // copy the WAL into the database after it
};

}  // namespace orchestra::conductor

#endif  // ORCHESTRA_CONDUCTOR_STORE_WRITES_H_
