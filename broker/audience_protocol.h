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
#include "broker/states.h"
#include "common/clock.h"
#include "common/result.h"

namespace orchestra::broker {

constexpr size_t kMaxJobPlayers = 100000;
constexpr size_t kMaxIdempotencyKey = 128;

// The client's "req": absent, an integer or a short string; echoed verbatim.
using RequestId = std::variant<std::monostate, int64_t, std::string>;

enum class ErrorCode {
  kBadRequest,
  kUnknownOp,
  kMissingField,
  kInvalidScope,
  kInvalidPlayer,
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
};

// ---- requests ----

struct SubmitRequest {  // op "submit" (alias "queue")
  std::string score;
  Scope scope = Scope::kOne;
  std::vector<std::string> players;
  StringMap params;
  std::optional<int64_t> timeout_s;
  std::optional<int64_t> delivery_timeout_s;
  std::string key;  // Idempotency key; empty when not given.
};
struct StatusRequest {
  JobId job = 0;
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
struct PlayersRequest {};

using AudienceOp = std::variant<SubmitRequest, StatusRequest, WaitRequest,
                                CancelRequest, JobsRequest, PlayersRequest>;

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

struct TaskRecord {
  TaskId task = 0;
  std::string player;  // Empty while a `one` task waits for a player.
  int64_t attempt = 1;
  TaskState state = TaskState::kQueued;
  std::optional<int64_t> exit_code;
  std::optional<int64_t> signal;
  std::string stdout_text;
  std::string stderr_text;
  bool stdout_truncated = false;
  bool stderr_truncated = false;
  StringMap response;
  common::TimeMs dispatched_at = 0;
  common::TimeMs started_at = 0;
  common::TimeMs finished_at = 0;
  std::string error;
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
};

struct PlayerInfo {
  std::string name;
  bool connected = false;
  common::TimeMs last_seen = 0;
  std::string version;
  int64_t slots = 0;
  int64_t running = 0;
  std::vector<std::string> scores;
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
};
struct PlayersReply {
  std::vector<PlayerInfo> players;
};
struct ProgressReply {  // interim, before a wait's final reply
  Progress progress;
};
struct ErrorReply {
  AudienceError error;
};

using AudienceReplyBody = std::variant<SubmitReply, JobReply, JobsReply,
                                       PlayersReply, ProgressReply, ErrorReply>;

struct AudienceReply {
  RequestId req;
  AudienceReplyBody body;
};

std::string EncodeAudienceReply(const AudienceReply& reply);
common::Result<AudienceReply> DecodeAudienceReply(std::string_view bytes);

}  // namespace orchestra::broker

#endif  // ORCHESTRA_BROKER_AUDIENCE_PROTOCOL_H_
