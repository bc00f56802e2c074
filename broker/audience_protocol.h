// The audience channel of DESIGN.md section 4: requests (a map with "op" and
// an optional client-chosen "req"), replies (the echoed "req", "ok", and the
// op's fields or an error), the job record of section 5, and their codec.
// Used by the conductor (requests in, replies out) and by clients (the
// other way round).

#ifndef ORCHESTRA_BROKER_AUDIENCE_PROTOCOL_H_
#define ORCHESTRA_BROKER_AUDIENCE_PROTOCOL_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "broker/protocol.h"
#include "broker/rollout_limit.h"
#include "broker/states.h"
#include "common/clock.h"
#include "common/result.h"

namespace orchestra::broker {

// A reply never exceeds the message limit (DESIGN.md section 6): the
// conductor sends none larger than kMaxReplyBytes (room is left for the
// transport: the Curve MESSAGE command), and fits a job record, a job list
// or a player list into kMaxReplyBodyBytes (room is left for the envelope:
// req, ok, timed_out and the counts of what was left out).
constexpr size_t kMaxReplyBytes = kMaxMessageBytes - (16 << 10);
constexpr size_t kMaxReplyBodyBytes = kMaxMessageBytes - (64 << 10);
// The most a job record's players list takes in a reply; the rest of the
// names are counted in `players_omitted`.
constexpr size_t kMaxRecordPlayersBytes = 1 << 20;
// The most tasks a `status` page may ask for (a job has at most one task a
// player, and a `one` job one an attempt).
constexpr int64_t kMaxTasksLimit = 100000;

// The client's "req": absent, an integer or a short string; echoed verbatim.
using RequestId = std::variant<std::monostate, int64_t, std::string>;

enum class ErrorCode {
  kBadRequest,
  kUnknownOp,
  kMissingField,
  kInvalidScope,
  kInvalidPlayer,
  kInvalidTarget,  // a malformed target expression, or one no player matches
  kUnknownScore,
  kInvalidParam,
  kTooLarge,
  kNotFound,
  kUnauthorized,
  kUnavailable,
  kConflict,  // an idempotency key reused for a different request
  kBusy,      // a limit on pending requests was reached; retry later
  kLastErrorCode = kBusy,
};
const char* ErrorCodeName(ErrorCode code);
bool ParseErrorCode(std::string_view text, ErrorCode* code);

struct AudienceError {
  ErrorCode code = ErrorCode::kBadRequest;
  std::string message;
  // With `unavailable` from a conductor of a cell that is not active: the
  // active one's audience endpoint, if known (DESIGN.md section 17).
  std::string leader;
};

// ---- requests ----

// A submit names its players by `players` or by `target` (DESIGN.md section
// 13), never both; the decoder refuses a request with both or neither, and
// rollout limits on a `one` job (bad_request).
struct SubmitRequest {  // op "submit" (alias "queue")
  std::string score;
  Scope scope = Scope::kOne;
  std::vector<std::string> players;  // Empty when `target` is given.
  StringMap params;
  std::optional<int64_t> timeout_s;
  std::optional<int64_t> delivery_timeout_s;
  std::string key;       // Idempotency key; empty when not given.
  std::string target{};  // A target expression; empty when not given.
  std::optional<RolloutLimit> max_concurrency{};  // `all` jobs only
  std::optional<RolloutLimit> max_errors{};       // `all` jobs only
  int64_t priority = 0;                           // -100 to 100
};
struct StatusRequest {
  JobId job = 0;
  int64_t tasks_from = 0;                // Index of the first task wanted.
  int64_t tasks_limit = kMaxTasksLimit;  // At most this many tasks.
};
struct WaitRequest {
  JobId job = 0;
  int64_t timeout_ms = 0;  // 0: wait as long as it takes
  bool progress = false;
};
struct CancelRequest {
  JobId job = 0;
};
struct JobsRequest {
  std::optional<JobState> state;
  std::string score;   // Empty: any.
  std::string player;  // Empty: any.
  int64_t limit = 100;
  std::optional<JobId> before;  // Only jobs with smaller ids.
};
struct PlayersRequest {
  std::string after;               // Only names sorting after it.
  int64_t limit = kMaxJobPlayers;  // At most this many players.
  std::string target{};            // Only players it matches; empty: all.
};

// One read-only statement run on the active conductor's database (DESIGN.md
// section 17); the decoder refuses an empty one.
struct SqlRequest {
  std::string sql;
};

using AudienceOp =
    std::variant<SubmitRequest, StatusRequest, WaitRequest, CancelRequest,
                 JobsRequest, PlayersRequest, SqlRequest>;

struct AudienceRequest {
  RequestId req;
  AudienceOp op;
};

// A request as decoded: `op` when valid, else `error` (with `req` when it
// could be read, so that even the error reply is matched by the client).
struct DecodedRequest {
  RequestId req;
  std::optional<AudienceOp> op;
  AudienceError error;
};

std::string EncodeAudienceRequest(const AudienceRequest& request);
DecodedRequest DecodeAudienceRequest(std::string_view bytes);
const char* OpName(const AudienceOp& op);

// ---- records ----

// A task as a job record shows it: its outcome (broker/protocol.h), where
// and when it was sent.
struct TaskRecord : TaskOutcome {
  TaskId task = 0;
  std::string player;  // Empty while a `one` task waits for a player.
  int64_t attempt = 1;
  common::TimeMs dispatched_at = 0;
  // The conductor cut this task to fit one reply: stdout and stderr keep
  // their last bytes (their *_truncated flags set), then response entries
  // and the end of `error` go. Only a task too large for a page alone.
  bool cut = false;
  // Why a QUEUED task waits, when the record was built (never stored).
  std::optional<WaitReason> waiting{};
};

struct JobRecord {
  JobId id = 0;
  std::string score;
  Scope scope = Scope::kOne;
  std::vector<std::string> players;
  StringMap params;
  JobState state = JobState::kPending;
  std::string submitted_by;
  std::optional<int64_t> timeout_s;
  std::optional<int64_t> delivery_timeout_s;
  common::TimeMs created_at = 0;
  common::TimeMs finished_at = 0;
  std::vector<TaskRecord> tasks;
  // A page (DESIGN.md section 6): when set, `tasks` are the job's tasks
  // from index `tasks_from` on, of `tasks_total`; unset, they are all.
  int64_t tasks_from = 0;
  std::optional<int64_t> tasks_total;
  int64_t players_omitted = 0;  // Names left out of `players`.
  // DESIGN.md section 13: the target expression `players` was resolved
  // from (empty: listed by name), the rollout's limits, the priority.
  std::string target{};
  std::optional<RolloutLimit> max_concurrency{};
  std::optional<RolloutLimit> max_errors{};
  int64_t priority = 0;
};

// One line of a `jobs` listing.
struct JobSummary {
  JobId id = 0;
  std::string score;
  Scope scope = Scope::kOne;
  JobState state = JobState::kPending;
  std::string submitted_by;
  int64_t players = 0;  // How many were listed.
  std::map<std::string, int64_t> tasks_by_state;
  common::TimeMs created_at = 0;
  common::TimeMs finished_at = 0;
  std::string target{};  // Empty: its players were listed by name.
  int64_t priority = 0;
};

struct PlayerInfo {
  std::string name;
  bool connected = false;
  common::TimeMs last_seen = 0;
  std::string version;
  int64_t slots = 0;
  int64_t running = 0;
  std::vector<std::string> scores;
  StringMap labels{};  // From the players file (DESIGN.md section 13).
};

struct Progress {
  int64_t done = 0;
  int64_t total = 0;
  std::map<std::string, int64_t> by_state;
};

// ---- replies ----

struct SubmitReply {
  JobId job = 0;
};
struct JobReply {  // status, wait, cancel
  JobRecord job;
  bool timed_out = false;
};
struct JobsReply {
  std::vector<JobSummary> jobs;
  // Jobs within the request's `limit` left out to fit the reply; the list
  // goes on with `before` set to the last id listed.
  int64_t jobs_omitted = 0;
};
struct PlayersReply {
  std::vector<PlayerInfo> players;
  // Players after the last listed that this reply left out; the list goes
  // on with `after` set to the last name listed.
  int64_t players_omitted = 0;
};
// A value of a result row: nil, an integer, a float or a string.
using SqlValue = std::variant<std::monostate, int64_t, double, std::string>;
struct SqlReply {
  std::vector<std::string> columns;
  std::vector<std::vector<SqlValue>> rows;  // Each as long as `columns`.
  bool truncated = false;  // Rows were left out to fit the reply.
};
struct ProgressReply {  // interim, before a wait's final reply
  Progress progress;
};
struct ErrorReply {
  AudienceError error;
};

using AudienceReplyBody =
    std::variant<SubmitReply, JobReply, JobsReply, PlayersReply, ProgressReply,
                 ErrorReply, SqlReply>;

struct AudienceReply {
  RequestId req;
  AudienceReplyBody body;
};

// The reply's "kind" ("submit", "job", "jobs", "players", "progress",
// "error", "sql"): one per alternative of AudienceReplyBody, in its order.
const char* ReplyKind(const AudienceReplyBody& body);

std::string EncodeAudienceReply(const AudienceReply& reply);
common::Result<AudienceReply> DecodeAudienceReply(std::string_view bytes);

// ---- sizes ----
// Exactly the bytes the encoder writes for each part, counted without
// encoding (a sum of field sizes): what the conductor uses to fit a reply
// into kMaxReplyBodyBytes.

size_t EncodedSize(const TaskRecord& task);
size_t EncodedSize(const JobSummary& summary);
size_t EncodedSize(const PlayerInfo& player);
// A job record without its tasks: all of it but the tasks' own maps.
size_t EncodedHeaderSize(const JobRecord& job);
// One msgpack string of `bytes` bytes, its header included.
size_t EncodedStringSize(size_t bytes);

}  // namespace orchestra::broker

#endif  // ORCHESTRA_BROKER_AUDIENCE_PROTOCOL_H_
