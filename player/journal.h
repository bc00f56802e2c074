// Journal is the player's SQLite record of the tasks it holds (DESIGN.md
// section 4): a task is added before `accepted` is sent, marked started
// before its process is spawned, given its result before `result` is sent,
// and forgotten after `result_ack`. Writes between two commits share one
// transaction (group commit); a forget alone waits for the next commit
// (see CommitUrgent). Owned by the player loop thread.

#ifndef ORCHESTRA_PLAYER_JOURNAL_H_
#define ORCHESTRA_PLAYER_JOURNAL_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "broker/protocol.h"
#include "common/clock.h"
#include "common/result.h"
#include "common/sqlite.h"

namespace orchestra::player {

enum class TaskPhase { kAccepted, kStarted, kDone };

struct JournalEntry {
  broker::RunTask task;
  TaskPhase phase = TaskPhase::kAccepted;
  std::optional<broker::TaskResult> result;  // Set when kDone
};

class Journal {
 public:
  // Opens (creating with mode 0600 if needed) the journal at `path`.
  static common::Result<std::unique_ptr<Journal>> Open(const std::string& path);

  // Every task held, by task id, in the phase it reached: after a
  // restart, a task still kStarted was running when the player stopped.
  common::Result<std::vector<JournalEntry>> Load();

  // Records a task just accepted. Conflict if the task is already held.
  common::Status Add(const broker::RunTask& task, common::TimeMs now);
  // Records that the task's process is about to be spawned.
  common::Status MarkStarted(broker::TaskId task, common::TimeMs now);
  // Records the task's result (the task must be held).
  common::Status SaveResult(const broker::TaskResult& result);
  // Forgets the task and its result. No effect on an unknown task. Not
  // urgent: until committed, a crash only makes the player resend a result
  // the conductor has already acknowledged.
  common::Status Forget(broker::TaskId task);
  // Rewrites the schema version, unchanged: a write that makes the next
  // commit reach the disk, to learn whether the journal takes writes.
  common::Status Probe();

  // Makes the writes since the last commit durable. If any of them failed,
  // they are all rolled back and the first error is returned.
  common::Status Commit();
  // Commit() if a pending write is urgent (every write but Forget: a
  // message or a spawn waits for it) or failed; otherwise leaves the
  // forgets pending, to share the next commit.
  common::Status CommitUrgent();
  bool HasPending() const { return batch_.is_open(); }

  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;

 private:
  explicit Journal(common::Database db) : db_(std::move(db)) {}
  common::Status Prepare();
  common::Status Write(common::Statement* statement, bool urgent = true);

  common::Database db_;
  common::Statement insert_;
  common::Statement mark_started_;
  common::Statement save_result_;
  common::Statement forget_;
  common::Statement probe_;
  common::Transaction batch_{&db_};  // Open between commits
  common::Status batch_error_;       // First failed write
  bool batch_urgent_ = false;        // Holds a write but Forget
};

}  // namespace orchestra::player

#endif  // ORCHESTRA_PLAYER_JOURNAL_H_
