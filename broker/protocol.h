// The player channel of DESIGN.md section 4: one struct per message, the
// PlayerMessage variant and its msgpack codec. Every message is one frame
// holding one map with a "type". The grammar is in broker/PROTOCOL.md.
// The decoder validates every field and never asserts on input.

#ifndef ORCHESTRA_BROKER_PROTOCOL_H_
#define ORCHESTRA_BROKER_PROTOCOL_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "broker/states.h"
#include "common/clock.h"
#include "common/limits.h"
#include "common/result.h"

namespace orchestra::broker {

using JobId = int64_t;
using TaskId = int64_t;
using StringMap = std::map<std::string, std::string>;

constexpr int kProtocolVersion = 1;

struct ScoreInfo {
  std::string name;
  std::string sha256;     // 64 lower-case hex digits
  std::string interface;  // "env" or "pipe"

  bool operator==(const ScoreInfo& o) const {
    return name == o.name && sha256 == o.sha256 && interface == o.interface;
  }
  bool operator!=(const ScoreInfo& o) const { return !(*this == o); }
};

// A task the player's journal holds, reported in hello.
struct HeldTask {
  TaskId task = 0;
  bool done = false;  // "done" (a result waits for its ack) or "running"
};

struct Hello {  // P: first message of every session
  int proto = kProtocolVersion;
  std::string version;
  int slots = 0;
  std::vector<ScoreInfo> scores;
  std::vector<HeldTask> tasks;
};

struct Welcome {  // C: session accepted
  int proto = kProtocolVersion;
  int heartbeat_ms = 0;
  // The cell's epoch (DESIGN.md section 17): it grows at every change of
  // the active conductor. A task of an older epoch is dropped.
  int64_t epoch = 0;
};

struct SessionError {  // C: session refused; the peer is then ignored
  std::string code;
  std::string message;
  // With `not_leader`: the active conductor's player endpoint, if known.
  std::string leader;
};

struct RunTask {  // C: "task", run this
  TaskId task = 0;
  JobId job = 0;
  std::string score;
  StringMap params;
  std::optional<int64_t> timeout_s;  // The job's limit, if it set one.
  int64_t epoch = 0;  // The cell's epoch when it was sent (Welcome::epoch).
};

struct Accepted {  // P: journaled; it will run
  TaskId task = 0;
};

// How a task ended: what a player's result reports and what a job record's
// task shows (broker/audience_protocol.h), one struct for both.
struct TaskOutcome {
  TaskState state = TaskState::kQueued;
  std::optional<int64_t> exit_code;  // Unset when a signal ended the score.
  std::optional<int64_t> signal;     // The signal that ended it, if one did.
  std::string stdout_text;
  std::string stderr_text;
  bool stdout_truncated = false;
  bool stderr_truncated = false;
  StringMap response;
  common::TimeMs started_at = 0;
  common::TimeMs finished_at = 0;
  std::string error;
  // What the task cost, from its cgroup (DESIGN.md 16); unset without one.
  std::optional<int64_t> cpu_us;             // CPU time, user + system
  std::optional<int64_t> memory_peak_bytes;  // where the memory controller is
};

struct TaskResult : TaskOutcome {  // P: the task's end; resent until acked
  TaskId task = 0;
};

struct ResultAck {  // C: stored durably; the player may forget it
  TaskId task = 0;
};

struct CancelTask {  // C: "cancel", stop it
  TaskId task = 0;
};

struct ScoreList {  // P: "scores", the score list changed
  std::vector<ScoreInfo> scores;
};

struct Heartbeat {};  // both: liveness when idle

using PlayerMessage =
    std::variant<Hello, Welcome, SessionError, RunTask, Accepted, TaskResult,
                 ResultAck, CancelTask, ScoreList, Heartbeat>;

// The wire "type" of a message ("hello", "task", "result", ...): one name
// per alternative of PlayerMessage, in its order.
const char* MessageType(const PlayerMessage& message);

std::string EncodePlayerMessage(const PlayerMessage& message);

// Job parameters: keys [A-Za-z_][A-Za-z0-9_]{0,63}, values UTF-8 without
// NUL, at most 64 KiB each and 256 KiB in all. Returns what is wrong, or an
// empty string when `params` is acceptable.
std::string CheckParams(const StringMap& params);
// The same; `*too_large` tells whether the problem is a size limit (the
// audience's too_large) rather than a bad key or value (invalid_param).
std::string CheckParams(const StringMap& params, bool* too_large);

// InvalidArgument naming the problem for anything that is not a valid
// player-channel message.
common::Result<PlayerMessage> DecodePlayerMessage(std::string_view bytes);

}  // namespace orchestra::broker

#endif  // ORCHESTRA_BROKER_PROTOCOL_H_
