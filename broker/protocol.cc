#include "broker/protocol.h"

#include "broker/wire.h"
#include "common/text.h"

namespace orchestra::broker {

namespace {

using common::Result;
using common::Status;

constexpr size_t kMaxHeldTasks = 100000;
constexpr size_t kMaxParamValue = 64 << 10;
constexpr size_t kMaxParamsTotal = 256 << 10;
constexpr int64_t kMaxTimeoutS = 10LL * 365 * 24 * 3600;

// ---- encoding ----

void WriteScores(WireWriter* w, const std::vector<ScoreInfo>& scores) {
  w->Array(scores.size());
  for (const ScoreInfo& score : scores) {
    w->Map(3);
    w->Key("name"); w->Str(score.name);
    w->Key("sha256"); w->Str(score.sha256);
    w->Key("interface"); w->Str(score.interface);
  }
}

struct Encoder {
  WireWriter* w;

  void Type(const char* type, size_t fields) {
    w->Map(fields + 1);
    w->Key("type");
    w->Str(type);
  }
  void operator()(const Hello& m) {
    Type("hello", 5);
    w->Key("proto"); w->Int(m.proto);
    w->Key("version"); w->Str(m.version);
    w->Key("slots"); w->Int(m.slots);
    w->Key("scores"); WriteScores(w, m.scores);
    w->Key("tasks"); w->Array(m.tasks.size());
    for (const HeldTask& t : m.tasks) {
      w->Map(2);
      w->Key("task"); w->Int(t.task);
      w->Key("state"); w->Str(t.done ? "done" : "running");
    }
  }
  void operator()(const Welcome& m) {
    Type("welcome", 2);
    w->Key("proto"); w->Int(m.proto);
    w->Key("heartbeat_ms"); w->Int(m.heartbeat_ms);
  }
  void operator()(const SessionError& m) {
    Type("error", 2);
    w->Key("code"); w->Str(m.code);
    w->Key("message"); w->Str(m.message);
  }
  void operator()(const RunTask& m) {
    Type("task", 5);
    w->Key("task"); w->Int(m.task);
    w->Key("job"); w->Int(m.job);
    w->Key("score"); w->Str(m.score);
    w->Key("params"); w->Strings(m.params);
    w->Key("timeout_s"); w->OptionalInt(m.timeout_s);
  }
  void operator()(const Accepted& m) { TaskOnly("accepted", m.task); }
  void operator()(const TaskResult& m) {
    Type("result", 12);
    w->Key("task"); w->Int(m.task);
    w->Key("state"); w->Str(TaskStateName(m.state));
    w->Key("exit_code"); w->OptionalInt(m.exit_code);
    w->Key("signal"); w->OptionalInt(m.signal);
    w->Key("stdout"); w->Str(m.stdout_text);
    w->Key("stderr"); w->Str(m.stderr_text);
    w->Key("stdout_truncated"); w->Bool(m.stdout_truncated);
    w->Key("stderr_truncated"); w->Bool(m.stderr_truncated);
    w->Key("response"); w->Strings(m.response);
    w->Key("started_at"); w->Time(m.started_at);
    w->Key("finished_at"); w->Time(m.finished_at);
    w->Key("error"); w->Str(m.error);
  }
  void operator()(const ResultAck& m) { TaskOnly("result_ack", m.task); }
  void operator()(const CancelTask& m) { TaskOnly("cancel", m.task); }
  void operator()(const ScoreList& m) {
    Type("scores", 1);
    w->Key("scores"); WriteScores(w, m.scores);
  }
  void operator()(const Heartbeat&) { Type("heartbeat", 0); }

  void TaskOnly(const char* type, TaskId task) {
    Type(type, 1);
    w->Key("task"); w->Int(task);
  }
};

// ---- decoding ----

bool IsHex64(const std::string& text) {
  if (text.size() != 64) return false;
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

std::vector<ScoreInfo> ReadScores(WireReader* r) {
  std::vector<ScoreInfo> scores;
  for (const msgpack::object* item :
       r->Array("scores", WireReader::kRequired, kMaxScores)) {
    WireReader s = r->Nested(*item, "score " + std::to_string(scores.size()));
    ScoreInfo score;
    score.name = s.Str("name", WireReader::kRequired, 128);
    score.sha256 = s.Str("sha256", WireReader::kRequired, 64);
    score.interface = s.Str("interface", WireReader::kRequired, 16);
    if (!s.ok()) return {};
    if (!common::IsValidScoreName(score.name))
      s.Fail("bad_request", "invalid score name '" + score.name + "'");
    else if (!IsHex64(score.sha256))
      s.Fail("bad_request", "score '" + score.name +
                                "': sha256 must be 64 lower-case hex digits");
    else if (score.interface != "env" && score.interface != "pipe")
      s.Fail("bad_request", "score '" + score.name +
                                "': interface must be env or pipe");
    if (!s.ok()) return {};
    scores.push_back(std::move(score));
  }
  return scores;
}

TaskId ReadTaskId(WireReader* r) {
  return r->Int("task", WireReader::kRequired, 1, INT64_MAX);
}

Hello ReadHello(WireReader* r) {
  Hello m;
  m.proto = static_cast<int>(r->Int("proto", WireReader::kRequired, 0,
                                    1000000));
  m.version = r->Str("version", WireReader::kOptional, 128);
  m.slots =
      static_cast<int>(r->Int("slots", WireReader::kRequired, 1, kMaxSlots));
  m.scores = ReadScores(r);
  for (const msgpack::object* item :
       r->Array("tasks", WireReader::kOptional, kMaxHeldTasks)) {
    WireReader t = r->Nested(*item, "held task");
    HeldTask held;
    held.task = ReadTaskId(&t);
    std::string state = t.Str("state", WireReader::kRequired, 16);
    if (!t.ok()) break;
    if (state != "running" && state != "done") {
      t.Fail("bad_request", "held task state must be running or done");
      break;
    }
    held.done = (state == "done");
    m.tasks.push_back(held);
  }
  return m;
}

Welcome ReadWelcome(WireReader* r) {
  Welcome m;
  m.proto = static_cast<int>(r->Int("proto", WireReader::kRequired, 0,
                                    1000000));
  m.heartbeat_ms = static_cast<int>(
      r->Int("heartbeat_ms", WireReader::kRequired, 10, 3600000));
  return m;
}

SessionError ReadSessionError(WireReader* r) {
  SessionError m;
  m.code = r->Str("code", WireReader::kRequired, 64);
  m.message = r->Str("message", WireReader::kOptional, 4096);
  return m;
}

RunTask ReadRunTask(WireReader* r) {
  RunTask m;
  m.task = ReadTaskId(r);
  m.job = r->Int("job", WireReader::kRequired, 1, INT64_MAX);
  m.score = r->Str("score", WireReader::kRequired, 128);
  m.params = r->Strings("params", WireReader::kOptional, 4096,
                        kMaxParamValue);
  m.timeout_s = r->OptionalInt("timeout_s", 0, kMaxTimeoutS);
  if (!r->ok()) return m;
  if (!common::IsValidScoreName(m.score)) {
    r->Fail("bad_request", "invalid score name");
    return m;
  }
  std::string problem = CheckParams(m.params);
  if (!problem.empty()) r->Fail("invalid_param", problem);
  return m;
}

TaskResult ReadTaskResult(WireReader* r) {
  TaskResult m;
  m.task = ReadTaskId(r);
  std::string state = r->Str("state", WireReader::kRequired, 32);
  m.exit_code = r->OptionalInt("exit_code", -1, 255);
  m.signal = r->OptionalInt("signal", 1, 128);
  m.stdout_text = r->Str("stdout", WireReader::kOptional, kMaxOutputBytes);
  m.stderr_text = r->Str("stderr", WireReader::kOptional, kMaxOutputBytes);
  m.stdout_truncated = r->Bool("stdout_truncated");
  m.stderr_truncated = r->Bool("stderr_truncated");
  m.response = r->Strings("response", WireReader::kOptional,
                          kMaxResponseEntries, kMaxResponseBytes);
  m.started_at = r->Time("started_at");
  m.finished_at = r->Time("finished_at");
  m.error = r->Str("error", WireReader::kOptional, 4096);
  if (r->ok() && (!ParseTaskState(state, &m.state) ||
                  !IsPlayerResultState(m.state)))
    r->Fail("bad_request", "result state '" + state +
                               "' is not one a player may report");
  return m;
}

ScoreList ReadScoreList(WireReader* r) { return ScoreList{ReadScores(r)}; }

template <typename T>
T ReadTaskOnly(WireReader* r) {
  T m;
  m.task = ReadTaskId(r);
  return m;
}

// Decodes the fields of the message named `type` from `r`.
bool ReadByType(const std::string& type, WireReader* r, PlayerMessage* out) {
  if (type == "hello") *out = ReadHello(r);
  else if (type == "welcome") *out = ReadWelcome(r);
  else if (type == "error") *out = ReadSessionError(r);
  else if (type == "task") *out = ReadRunTask(r);
  else if (type == "accepted") *out = ReadTaskOnly<Accepted>(r);
  else if (type == "result") *out = ReadTaskResult(r);
  else if (type == "result_ack") *out = ReadTaskOnly<ResultAck>(r);
  else if (type == "cancel") *out = ReadTaskOnly<CancelTask>(r);
  else if (type == "scores") *out = ReadScoreList(r);
  else if (type == "heartbeat") *out = Heartbeat{};
  else return false;
  return true;
}

}  // namespace

const char* MessageType(const PlayerMessage& message) {
  static const char* const kTypes[] = {
      "hello",      "welcome",    "error",  "task",   "accepted",
      "result",     "result_ack", "cancel", "scores", "heartbeat"};
  return kTypes[message.index()];
}

std::string EncodePlayerMessage(const PlayerMessage& message) {
  WireWriter writer;
  std::visit(Encoder{&writer}, message);
  return writer.Take();
}

Result<PlayerMessage> DecodePlayerMessage(std::string_view bytes) {
  WireProblem problem;
  msgpack::object_handle handle;
  if (!Unpack(bytes, &handle, &problem))
    return Status::InvalidArgument("player message", problem.message);
  WireReader reader(handle.get(), &problem);
  std::string type = reader.Str("type", WireReader::kRequired, 32);
  PlayerMessage message;
  if (reader.ok() && !ReadByType(type, &reader, &message))
    return Status::InvalidArgument("player message",
                                   "unknown type '" + type + "'");
  if (!problem.ok())
    return Status::InvalidArgument(
        type.empty() ? "player message" : "'" + type + "' message",
        problem.message);
  return message;
}

std::string CheckParams(const StringMap& params) {
  bool too_large = false;
  return CheckParams(params, &too_large);
}

std::string CheckParams(const StringMap& params, bool* too_large) {
  *too_large = false;
  size_t total = 0;
  for (const auto& [key, value] : params) {
    if (!common::IsValidParamKey(key))
      return "parameter key '" + common::SanitizeUtf8(key.substr(0, 64)) +
             "' must match [A-Za-z_][A-Za-z0-9_]{0,63}";
    if (value.size() > kMaxParamValue) {
      *too_large = true;
      return "parameter '" + key + "' is longer than 64 KiB";
    }
    if (value.find('\0') != std::string::npos || !common::IsValidUtf8(value))
      return "parameter '" + key + "' must be UTF-8 text without NUL";
    total += key.size() + value.size();
  }
  if (total > kMaxParamsTotal) {
    *too_large = true;
    return "parameters exceed 256 KiB in all";
  }
  return "";
}

}  // namespace orchestra::broker
