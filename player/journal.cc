// The journal holds each task's `task` message and, once it has one, its
// `result` message, both in the broker codec's encoding (base64 text), so a
// stored result is resent byte for byte as it was first sent. Columns that
// an operator may want to query (job, score, phase, result state) are kept
// beside them. The file is created mode 0600: parameters may be secrets.

#include "player/journal.h"

#include <fcntl.h>
#include <sodium.h>
#include <unistd.h>

#include <cerrno>

#include "common/files.h"
#include "common/unique_fd.h"

namespace orchestra::player {

using broker::RunTask;
using broker::TaskId;
using broker::TaskResult;
using common::Result;
using common::Statement;
using common::Status;
using common::TimeMs;

namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS tasks (
  task INTEGER PRIMARY KEY,
  job INTEGER NOT NULL,
  score TEXT NOT NULL,
  phase TEXT NOT NULL CHECK (phase IN ('accepted', 'started', 'done')),
  message TEXT NOT NULL,   -- the `task` message, base64 of its encoding
  result_state TEXT,       -- OK, FAIL, ... once done
  result TEXT,             -- the `result` message, base64 of its encoding
  accepted_at INTEGER NOT NULL,  -- ms since the epoch
  started_at INTEGER
);
PRAGMA user_version = 1;
)sql";

std::string ToBase64(const std::string& bytes) {
  std::string text(
      sodium_base64_ENCODED_LEN(bytes.size(), sodium_base64_VARIANT_ORIGINAL),
      '\0');
  sodium_bin2base64(text.data(), text.size(),
                    reinterpret_cast<const unsigned char*>(bytes.data()),
                    bytes.size(), sodium_base64_VARIANT_ORIGINAL);
  text.resize(text.size() - 1);  // The terminating NUL
  return text;
}

Result<broker::PlayerMessage> DecodeStored(const std::string& text,
                                           const std::string& where) {
  std::string bytes(text.size(), '\0');
  size_t length = 0;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(bytes.data()),
                        bytes.size(), text.data(), text.size(), nullptr,
                        &length, nullptr, sodium_base64_VARIANT_ORIGINAL) != 0)
    return Status::IoError(where, "stored message is not base64");
  bytes.resize(length);
  Result<broker::PlayerMessage> message = broker::DecodePlayerMessage(bytes);
  if (!message.ok()) return Status::IoError(where, message.status().message());
  return message;
}

// The entry in `row` (task, phase, message, result) of the journal `path`.
Result<JournalEntry> ReadEntry(const Statement& row, const std::string& path) {
  const std::string where = path + ": task " + std::to_string(row.Int(0));
  JournalEntry entry;
  std::string phase = row.Text(1);
  entry.phase = phase == "done"      ? TaskPhase::kDone
                : phase == "started" ? TaskPhase::kStarted
                                     : TaskPhase::kAccepted;
  Result<broker::PlayerMessage> task = DecodeStored(row.Text(2), where);
  if (!task.ok()) return task.status();
  const RunTask* run = std::get_if<RunTask>(&task.value());
  if (run == nullptr) return Status::IoError(where, "not a task message");
  entry.task = *run;
  if (entry.phase == TaskPhase::kDone) {
    Result<broker::PlayerMessage> result = DecodeStored(row.Text(3), where);
    if (!result.ok()) return result.status();
    const TaskResult* stored = std::get_if<TaskResult>(&result.value());
    if (stored == nullptr)
      return Status::IoError(where, "not a result message");
    entry.result = *stored;
  }
  return entry;
}

// Creates `path` with mode 0600 (and missing parents 0700) unless it exists.
Status CreatePrivateFile(const std::string& path) {
  if (path == ":memory:") return Status();
  size_t slash = path.find_last_of('/');
  if (slash != std::string::npos && slash > 0) {
    Status s = common::MakeDirectories(path.substr(0, slash), 0700);
    if (!s.ok()) return s;
  }
  common::UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (!fd.valid()) return Status::FromErrno(path, errno);
  return Status();
}

}  // namespace

Result<std::unique_ptr<Journal>> Journal::Open(const std::string& path) {
  if (sodium_init() < 0) return Status::Internal("journal", "libsodium");
  Status s = CreatePrivateFile(path);
  if (!s.ok()) return s;
  Result<common::Database> db = common::Database::Open(path);
  if (!db.ok()) return db.status();
  std::unique_ptr<Journal> journal(new Journal(std::move(db.value())));
  Result<Statement> version = journal->db_.Prepare("PRAGMA user_version");
  if (!version.ok()) return version.status();
  Result<bool> row = version.value().Step();
  if (!row.ok()) return row.status();
  const int64_t current = row.value() ? version.value().Int(0) : 0;
  version.value().Reset();
  if (current > 1)
    return Status::InvalidArgument(
        path, "journal was written by a newer player; upgrade this one");
  // A journal that exists is only read here: a player whose disk is full
  // still starts (and refuses tasks until it has space).
  if (current == 0) s = journal->db_.Exec(kSchema);
  if (!s.ok()) return s;
  s = journal->Prepare();
  if (!s.ok()) return s;
  return journal;
}

Status Journal::Prepare() {
  return db_.PrepareAll({
      {&insert_,
       "INSERT INTO tasks (task, job, score, phase, message, accepted_at) "
       "VALUES (?1, ?2, ?3, 'accepted', ?4, ?5) ON CONFLICT DO NOTHING"},
      {&mark_started_,
       "UPDATE tasks SET phase = 'started', started_at = ?2 WHERE task = ?1"},
      {&save_result_,
       "UPDATE tasks SET phase = 'done', result_state = ?2, result = ?3 "
       "WHERE task = ?1"},
      {&forget_, "DELETE FROM tasks WHERE task = ?1"},
      {&probe_, "PRAGMA user_version = 1"},
  });
}

Result<std::vector<JournalEntry>> Journal::Load() {
  Result<Statement> select = db_.Prepare(
      "SELECT task, phase, message, result FROM tasks ORDER BY task");
  if (!select.ok()) return select.status();
  std::vector<JournalEntry> entries;
  Status s = select.value().ForEachRow([&](const Statement& row) {
    Result<JournalEntry> entry = ReadEntry(row, db_.path());
    if (entry.ok()) entries.push_back(std::move(entry.value()));
    return entry.status();
  });
  if (!s.ok()) return s;
  return entries;
}

Status Journal::Write(Statement* statement, bool urgent) {
  if (urgent) batch_urgent_ = true;
  if (!batch_error_.ok()) {
    statement->Reset();
    return batch_error_;
  }
  Status s = batch_.Run(statement);
  if (!s.ok()) batch_error_ = s;
  return s;
}

Status Journal::Add(const RunTask& task, TimeMs now) {
  insert_.Bind(1, task.task)
      .Bind(2, task.job)
      .Bind(3, task.score)
      .Bind(4, ToBase64(broker::EncodePlayerMessage(task)))
      .Bind(5, now);
  Status s = Write(&insert_);
  if (s.ok() && db_.Changes() == 0)
    return Status::Conflict("task " + std::to_string(task.task),
                            "already in the journal");
  return s;
}

Status Journal::MarkStarted(TaskId task, TimeMs now) {
  mark_started_.Bind(1, task).Bind(2, now);
  return Write(&mark_started_);
}

Status Journal::SaveResult(const TaskResult& result) {
  save_result_.Bind(1, result.task)
      .Bind(2, broker::TaskStateName(result.state))
      .Bind(3, ToBase64(broker::EncodePlayerMessage(result)));
  return Write(&save_result_);
}

Status Journal::Forget(TaskId task) {
  forget_.Bind(1, task);
  return Write(&forget_, /*urgent=*/false);
}

Status Journal::Probe() { return Write(&probe_); }

Status Journal::CommitUrgent() {
  if (!batch_urgent_ && batch_error_.ok()) return Status();
  return Commit();
}

Status Journal::Commit() {
  batch_urgent_ = false;
  Status s = batch_error_.ok() ? batch_.Commit() : batch_error_;
  batch_.Rollback();  // After a failed write: none of the batch stays
  batch_error_ = Status();
  return s;
}

}  // namespace orchestra::player
