// The protocol's one table: each message and record of both channels
// (DESIGN.md section 4), its fields in wire order, what each maps to, whether
// it is required, and its range. The codecs write, read, size and document
// messages from these descriptions (broker/fields.h), and broker/PROTOCOL.md
// is checked against them. Internal to broker/.

#ifndef ORCHESTRA_BROKER_MESSAGE_FIELDS_H_
#define ORCHESTRA_BROKER_MESSAGE_FIELDS_H_

#include <cstdint>

#include "broker/audience_protocol.h"
#include "broker/fields.h"
#include "broker/protocol.h"
#include "common/limits.h"

namespace orchestra::broker {

constexpr Range kIds{1, INT64_MAX};
constexpr Range kCount32{0, INT32_MAX};
constexpr Range kTimeLimit{0, kMaxTimeLimitS};
constexpr Range kPriority{kMinPriority, kMaxPriority};
constexpr Range kCost{0, INT64_MAX};  // a task's CPU microseconds, its bytes

template <>
struct EnumNames<ErrorCode> {
  static const char* Name(ErrorCode c) { return ErrorCodeName(c); }
  static bool Parse(std::string_view t, ErrorCode* c) {
    return ParseErrorCode(t, c);
  }
  static constexpr int kCount = static_cast<int>(ErrorCode::kLastErrorCode) + 1;
  static constexpr const char* kCode = "bad_request";
};

// ---- the player channel: one map with a "type" ----

template <typename V>
void Fields(V& v, ScoreInfo& m) {
  v.Str("name", m.name, Need::kRequired, kMaxScoreNameBytes);
  v.Str("sha256", m.sha256, Need::kRequired, 64);        // lower-case hex
  v.Str("interface", m.interface, Need::kRequired, 16);  // env or pipe
}
void Check(FieldReader& r, ScoreInfo* m);

template <typename V>
void Fields(V& v, HeldTask& m) {
  v.Int("task", m.task, Need::kRequired, kIds);
  v.Switch("state", m.done, Need::kRequired, "done", "running");
}

template <typename V>
void Fields(V& v, Hello& m) {
  v.Int("proto", m.proto, Need::kRequired, {0, 1000000});
  v.Str("version", m.version, Need::kOptional, kMaxVersionBytes);
  v.Int("slots", m.slots, Need::kRequired, {1, kMaxSlots});
  v.Objects("scores", m.scores, Need::kRequired, kMaxScores, "score");
  v.Objects("tasks", m.tasks, Need::kOptional, kMaxHeldTasks, "held task");
}

template <typename V>
void Fields(V& v, Welcome& m) {
  v.Int("proto", m.proto, Need::kRequired, {0, 1000000});
  v.Int("heartbeat_ms", m.heartbeat_ms, Need::kRequired, {10, 3600000});
  v.Int("epoch", m.epoch, Need::kWhenSet, {0, INT64_MAX});
}

template <typename V>
void Fields(V& v, SessionError& m) {
  v.Str("code", m.code, Need::kRequired, 64);
  v.Str("message", m.message, Need::kOptional, kMaxErrorBytes);
  v.Str("leader", m.leader, Need::kWhenSet, kMaxEndpointBytes);
}

template <typename V>
void Fields(V& v, RunTask& m) {
  v.Int("task", m.task, Need::kRequired, kIds);
  v.Int("job", m.job, Need::kRequired, kIds);
  v.Str("score", m.score, Need::kRequired, kMaxScoreNameBytes);
  v.Strings("params", m.params, Need::kOptional, kMaxParams,
            kMaxParamValueBytes);
  v.OptionalInt("timeout_s", m.timeout_s, Need::kOptional, kTimeLimit);
  v.Int("epoch", m.epoch, Need::kWhenSet, {0, INT64_MAX});
}
void Check(FieldReader& r, RunTask* m);

template <typename V, typename M>
void TaskOnlyFields(V& v, M& m) {
  v.Int("task", m.task, Need::kRequired, kIds);
}
template <typename V>
void Fields(V& v, Accepted& m) {
  TaskOnlyFields(v, m);
}
template <typename V>
void Fields(V& v, ResultAck& m) {
  TaskOnlyFields(v, m);
}
template <typename V>
void Fields(V& v, CancelTask& m) {
  TaskOnlyFields(v, m);
}

// A task's outcome as a player may report it, and as the conductor shows it
// (sanitised to UTF-8, which may triple an invalid output's size; the pager
// keeps a reply within the message limit).
struct OutcomeLimits {
  Allowed<TaskState> states;  // null: any
  Need need;  // of exit_code, signal, stdout, stderr and the times
  Range exit_code;
  Range signal;
  size_t output_bytes;
  size_t response_entries;
  size_t response_bytes;
  size_t error_bytes;
};
constexpr OutcomeLimits kResultLimits{IsPlayerResultState, Need::kNullable,
                                      {-1, 255},           {1, 128},
                                      kMaxOutputBytes,     kMaxResponseEntries,
                                      kMaxResponseBytes,   kMaxErrorBytes};
constexpr OutcomeLimits kRecordLimits{
    nullptr,    Need::kOptional, {INT32_MIN, INT32_MAX},
    {0, 1024},  kMaxString,      kMaxMapEntries,
    kMaxString, kMaxString};

// The outcome's fields up to the response; the times and the error follow
// (OutcomeTail) after whatever a record adds between (its dispatched_at),
// so both encodings keep the order they always had.
template <typename V>
void OutcomeHead(V& v, TaskOutcome& m, const OutcomeLimits& l) {
  const Need text = l.need == Need::kNullable ? Need::kRequired : l.need;
  v.Enum("state", m.state, Need::kRequired, l.states);
  v.OptionalInt("exit_code", m.exit_code, l.need, l.exit_code);
  v.OptionalInt("signal", m.signal, l.need, l.signal);
  v.Str("stdout", m.stdout_text, text, l.output_bytes);
  v.Str("stderr", m.stderr_text, text, l.output_bytes);
  v.Bool("stdout_truncated", m.stdout_truncated, Need::kOptional);
  v.Bool("stderr_truncated", m.stderr_truncated, Need::kOptional);
  v.Strings("response", m.response, Need::kOptional, l.response_entries,
            l.response_bytes);
}
template <typename V>
void OutcomeTail(V& v, TaskOutcome& m, const OutcomeLimits& l) {
  v.Time("started_at", m.started_at, l.need);
  v.Time("finished_at", m.finished_at, l.need);
  v.Str("error", m.error, Need::kOptional, l.error_bytes);
  v.OptionalInt("cpu_us", m.cpu_us, Need::kWhenSet, kCost);
  v.OptionalInt("memory_peak_bytes", m.memory_peak_bytes, Need::kWhenSet,
                kCost);
}

template <typename V>
void Fields(V& v, TaskResult& m) {
  v.Int("task", m.task, Need::kRequired, kIds);
  OutcomeHead(v, m, kResultLimits);
  OutcomeTail(v, m, kResultLimits);
}

template <typename V>
void Fields(V& v, ScoreList& m) {
  v.Objects("scores", m.scores, Need::kRequired, kMaxScores, "score");
}

template <typename V>
void Fields(V&, Heartbeat&) {}

// ---- the audience channel: requests by "op" ----

template <typename V>
void Fields(V& v, SubmitRequest& m) {
  v.Str("score", m.score, Need::kRequired, kMaxScoreNameBytes);
  v.Enum("scope", m.scope, Need::kRequired);
  // One of the two (Check): always `players` before DESIGN.md section 13.
  v.StringList("players", m.players, Need::kWhenSet, kMaxJobPlayers,
               kMaxPlayerNameBytes);
  v.Str("target", m.target, Need::kWhenSet, kMaxTargetBytes);
  v.Strings("params", m.params, Need::kOptional, kMaxParams,
            kMaxParamValueBytes);
  v.OptionalInt("timeout_s", m.timeout_s, Need::kOptional, {1, kMaxTimeLimitS});
  v.OptionalInt("delivery_timeout_s", m.delivery_timeout_s, Need::kOptional,
                kTimeLimit);
  v.Str("key", m.key, Need::kNilWhenEmpty, kMaxIdempotencyKeyBytes);
  v.Limit("max_concurrency", m.max_concurrency, Need::kWhenSet,
          kMinConcurrency);
  v.Limit("max_errors", m.max_errors, Need::kWhenSet, kMinErrors);
  v.Int("priority", m.priority, Need::kWhenSet, kPriority);
}
void Check(FieldReader& r, SubmitRequest* m);

template <typename V>
void Fields(V& v, StatusRequest& m) {
  v.Int("job", m.job, Need::kRequired, kIds);
  v.Int("tasks_from", m.tasks_from, Need::kWhenSet, kCount32);
  v.Int("tasks_limit", m.tasks_limit, Need::kWhenSet, {1, kMaxTasksLimit},
        kMaxTasksLimit);
}

template <typename V>
void Fields(V& v, WaitRequest& m) {
  v.Int("job", m.job, Need::kRequired, kIds);
  v.Int("timeout_ms", m.timeout_ms, Need::kOptional,
        {0, kMaxTimeLimitS * 1000});
  v.Bool("progress", m.progress, Need::kOptional);
}

template <typename V>
void Fields(V& v, CancelRequest& m) {
  v.Int("job", m.job, Need::kRequired, kIds);
}

template <typename V>
void Fields(V& v, JobsRequest& m) {
  v.Enum("state", m.state, Need::kOptional);
  v.Str("score", m.score, Need::kNilWhenEmpty, kMaxScoreNameBytes);
  v.Str("player", m.player, Need::kNilWhenEmpty, kMaxPlayerNameBytes);
  v.Int("limit", m.limit, Need::kOptional, {1, 10000}, 100);
  v.OptionalInt("before", m.before, Need::kOptional, kIds);
}

template <typename V>
void Fields(V& v, PlayersRequest& m) {
  const int64_t most = static_cast<int64_t>(kMaxJobPlayers);
  v.Str("after", m.after, Need::kWhenSet, kMaxPlayerNameBytes);
  v.Int("limit", m.limit, Need::kWhenSet, {1, most}, most);
  v.Str("target", m.target, Need::kWhenSet, kMaxTargetBytes);
}

template <typename V>
void Fields(V& v, SqlRequest& m) {
  v.Str("sql", m.sql, Need::kRequired, kMaxSqlBytes);
}
void Check(FieldReader& r, SqlRequest* m);

// ---- the audience channel: records ----

template <typename V>
void Fields(V& v, TaskRecord& m) {
  v.Int("task", m.task, Need::kRequired, kIds);
  v.Str("player", m.player, Need::kNilWhenEmpty, kMaxPlayerNameBytes);
  v.Int("attempt", m.attempt, Need::kOptional, {1, INT32_MAX}, 1);
  OutcomeHead(v, m, kRecordLimits);
  v.Time("dispatched_at", m.dispatched_at, Need::kOptional);
  OutcomeTail(v, m, kRecordLimits);
  v.Bool("cut", m.cut, Need::kWhenSet);
  v.Enum("waiting", m.waiting, Need::kWhenSet);
}

template <typename V>
void Fields(V& v, JobRecord& m) {
  v.Int("id", m.id, Need::kRequired, kIds);
  v.Str("score", m.score, Need::kRequired, kMaxScoreNameBytes);
  v.Enum("scope", m.scope, Need::kRequired);
  v.StringList("players", m.players, Need::kOptional, kMaxArray,
               kMaxPlayerNameBytes);
  v.Str("target", m.target, Need::kWhenSet, kMaxTargetBytes);
  v.Strings("params", m.params, Need::kOptional, kMaxMapEntries, kMaxString);
  v.Enum("state", m.state, Need::kRequired);
  v.Str("submitted_by", m.submitted_by, Need::kOptional, 256);
  v.OptionalInt("timeout_s", m.timeout_s, Need::kOptional, {0, INT64_MAX});
  v.OptionalInt("delivery_timeout_s", m.delivery_timeout_s, Need::kOptional,
                {0, INT64_MAX});
  v.Limit("max_concurrency", m.max_concurrency, Need::kWhenSet,
          kMinConcurrency);
  v.Limit("max_errors", m.max_errors, Need::kWhenSet, kMinErrors);
  v.Int("priority", m.priority, Need::kWhenSet, kPriority);
  v.Time("created_at", m.created_at, Need::kOptional);
  v.Time("finished_at", m.finished_at, Need::kOptional);
  v.Objects("tasks", m.tasks, Need::kOptional, kMaxArray, "task");
  // A page carries both; a whole record neither.
  v.Int("tasks_from", m.tasks_from,
        m.tasks_total ? Need::kOptional : Need::kWhenSet, kCount32);
  v.OptionalInt("tasks_total", m.tasks_total, Need::kWhenSet, kCount32);
  v.Int("players_omitted", m.players_omitted, Need::kWhenSet, kCount32);
}
void Check(FieldReader& r, JobRecord* m);

template <typename V>
void Fields(V& v, JobSummary& m) {
  v.Int("id", m.id, Need::kRequired, kIds);
  v.Str("score", m.score, Need::kRequired, kMaxScoreNameBytes);
  v.Enum("scope", m.scope, Need::kRequired);
  v.Enum("state", m.state, Need::kRequired);
  v.Str("submitted_by", m.submitted_by, Need::kOptional, 256);
  v.Int("players", m.players, Need::kOptional, {0, INT64_MAX});
  v.CountMap("tasks", m.tasks_by_state, Need::kOptional);
  v.Time("created_at", m.created_at, Need::kOptional);
  v.Time("finished_at", m.finished_at, Need::kOptional);
  v.Str("target", m.target, Need::kWhenSet, kMaxTargetBytes);
  v.Int("priority", m.priority, Need::kWhenSet, kPriority);
}

template <typename V>
void Fields(V& v, PlayerInfo& m) {
  v.Str("name", m.name, Need::kRequired, kMaxPlayerNameBytes);
  v.Bool("connected", m.connected, Need::kOptional);
  v.Time("last_seen", m.last_seen, Need::kOptional);
  v.Str("version", m.version, Need::kOptional, kMaxVersionBytes);
  v.Int("slots", m.slots, Need::kOptional, {0, INT64_MAX});
  v.Int("running", m.running, Need::kOptional, {0, INT64_MAX});
  v.StringList("scores", m.scores, Need::kOptional, kMaxArray,
               kMaxScoreNameBytes);
  v.Strings("labels", m.labels, Need::kWhenSet, kMaxMapEntries,
            kMaxLabelValueBytes);
}

template <typename V>
void Fields(V& v, Progress& m) {
  v.Int("done", m.done, Need::kRequired, {0, INT64_MAX});
  v.Int("total", m.total, Need::kRequired, {0, INT64_MAX});
  v.CountMap("by_state", m.by_state, Need::kOptional);
}

template <typename V>
void Fields(V& v, AudienceError& m) {
  v.Enum("code", m.code, Need::kRequired);
  v.Str("message", m.message, Need::kOptional, 65536);
  v.Str("leader", m.leader, Need::kWhenSet, kMaxEndpointBytes);
}

// ---- the audience channel: replies by "kind" ----

template <typename V>
void Fields(V& v, SubmitReply& m) {
  v.Int("job", m.job, Need::kRequired, kIds);
}

template <typename V>
void Fields(V& v, JobReply& m) {
  v.Object("job", m.job, Need::kRequired, "job");
  v.Bool("timed_out", m.timed_out, Need::kWhenSet);
}

template <typename V>
void Fields(V& v, JobsReply& m) {
  v.Objects("jobs", m.jobs, Need::kRequired, kMaxArray, "job summary");
  v.Int("jobs_omitted", m.jobs_omitted, Need::kWhenSet, kCount32);
}

template <typename V>
void Fields(V& v, PlayersReply& m) {
  v.Objects("players", m.players, Need::kRequired, kMaxArray, "player");
  v.Int("players_omitted", m.players_omitted, Need::kWhenSet, kCount32);
}

template <typename V>
void Fields(V& v, SqlReply& m) {
  v.StringList("columns", m.columns, Need::kRequired, kMaxSqlColumns,
               kMaxSqlColumnNameBytes);
  v.Rows("rows", m.rows, Need::kRequired, kMaxSqlRows, kMaxSqlColumns);
  v.Bool("truncated", m.truncated, Need::kOptional);
}
void Check(FieldReader& r, SqlReply* m);

template <typename V>
void Fields(V& v, ProgressReply& m) {
  v.Object("progress", m.progress, Need::kRequired, "progress");
}

template <typename V>
void Fields(V& v, ErrorReply& m) {
  v.Object("error", m.error, Need::kRequired, "error");
}

// Every message of a channel, by its wire name (broker/protocol.cc and
// broker/audience_protocol.cc hold the names), for ProtocolSchema().
void DescribePlayerChannel(FieldDescriber* d);
void DescribeAudienceChannel(FieldDescriber* d);

}  // namespace orchestra::broker

#endif  // ORCHESTRA_BROKER_MESSAGE_FIELDS_H_
