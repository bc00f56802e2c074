#include "broker/audience_protocol.h"

#include <iterator>
#include <set>

#include "broker/wire.h"
#include "common/text.h"

namespace orchestra::broker {

namespace {

using common::Result;
using common::Status;

constexpr const char* kErrorCodeNames[] = {
    "bad_request",   "unknown_op",    "missing_field", "invalid_scope",
    "invalid_player", "unknown_score", "invalid_param", "too_large",
    "not_found",     "unauthorized",  "unavailable",   "conflict",
    "busy"};
static_assert(std::size(kErrorCodeNames) ==
                  static_cast<size_t>(ErrorCode::kLastErrorCode) + 1,
              "one name per error code");
constexpr int64_t kMaxTimeoutS = 10LL * 365 * 24 * 3600;
constexpr size_t kMaxReqString = 256;

// ---- writing ----

void WriteReq(WireWriter* w, const RequestId& req) {
  w->Key("req");
  if (const int64_t* n = std::get_if<int64_t>(&req)) {
    w->Int(*n);
  } else {
    w->Str(std::get<std::string>(req));
  }
}

void WriteCounts(WireWriter* w, const std::map<std::string, int64_t>& counts) {
  w->Map(counts.size());
  for (const auto& [name, count] : counts) {
    w->Str(name);
    w->Int(count);
  }
}

void WriteTask(WireWriter* w, const TaskRecord& t) {
  w->Map(t.cut ? 16 : 15);
  w->Key("task"); w->Int(t.task);
  w->Key("player");
  if (t.player.empty()) w->Nil(); else w->Str(t.player);
  w->Key("attempt"); w->Int(t.attempt);
  w->Key("state"); w->Str(TaskStateName(t.state));
  w->Key("exit_code"); w->OptionalInt(t.exit_code);
  w->Key("signal"); w->OptionalInt(t.signal);
  w->Key("stdout"); w->Str(t.stdout_text);
  w->Key("stderr"); w->Str(t.stderr_text);
  w->Key("stdout_truncated"); w->Bool(t.stdout_truncated);
  w->Key("stderr_truncated"); w->Bool(t.stderr_truncated);
  w->Key("response"); w->Strings(t.response);
  w->Key("dispatched_at"); w->Time(t.dispatched_at);
  w->Key("started_at"); w->Time(t.started_at);
  w->Key("finished_at"); w->Time(t.finished_at);
  w->Key("error"); w->Str(t.error);
  if (t.cut) {
    w->Key("cut"); w->Bool(true);
  }
}

void WriteJob(WireWriter* w, const JobRecord& j) {
  w->Map(12 + (j.tasks_total ? 2 : 0) + (j.players_omitted > 0 ? 1 : 0));
  w->Key("id"); w->Int(j.id);
  w->Key("score"); w->Str(j.score);
  w->Key("scope"); w->Str(ScopeName(j.scope));
  w->Key("players"); w->Strings(j.players);
  w->Key("params"); w->Strings(j.params);
  w->Key("state"); w->Str(JobStateName(j.state));
  w->Key("submitted_by"); w->Str(j.submitted_by);
  w->Key("timeout_s"); w->OptionalInt(j.timeout_s);
  w->Key("delivery_timeout_s"); w->OptionalInt(j.delivery_timeout_s);
  w->Key("created_at"); w->Time(j.created_at);
  w->Key("finished_at"); w->Time(j.finished_at);
  w->Key("tasks"); w->Array(j.tasks.size());
  for (const TaskRecord& t : j.tasks) WriteTask(w, t);
  if (j.tasks_total) {
    w->Key("tasks_from"); w->Int(j.tasks_from);
    w->Key("tasks_total"); w->Int(*j.tasks_total);
  }
  if (j.players_omitted > 0) {
    w->Key("players_omitted"); w->Int(j.players_omitted);
  }
}

void WriteSummary(WireWriter* w, const JobSummary& s) {
  w->Map(9);
  w->Key("id"); w->Int(s.id);
  w->Key("score"); w->Str(s.score);
  w->Key("scope"); w->Str(ScopeName(s.scope));
  w->Key("state"); w->Str(JobStateName(s.state));
  w->Key("submitted_by"); w->Str(s.submitted_by);
  w->Key("players"); w->Int(s.players);
  w->Key("tasks"); WriteCounts(w, s.tasks_by_state);
  w->Key("created_at"); w->Time(s.created_at);
  w->Key("finished_at"); w->Time(s.finished_at);
}

void WritePlayer(WireWriter* w, const PlayerInfo& p) {
  w->Map(7);
  w->Key("name"); w->Str(p.name);
  w->Key("connected"); w->Bool(p.connected);
  w->Key("last_seen"); w->Time(p.last_seen);
  w->Key("version"); w->Str(p.version);
  w->Key("slots"); w->Int(p.slots);
  w->Key("running"); w->Int(p.running);
  w->Key("scores"); w->Strings(p.scores);
}

struct RequestEncoder {
  WireWriter* w;
  size_t extra;  // 1 when "req" is written too

  void Op(const char* op, size_t fields) {
    w->Map(fields + 1 + extra);
    w->Key("op");
    w->Str(op);
  }
  void operator()(const SubmitRequest& r) {
    Op("submit", 7);
    w->Key("score"); w->Str(r.score);
    w->Key("scope"); w->Str(ScopeName(r.scope));
    w->Key("players"); w->Strings(r.players);
    w->Key("params"); w->Strings(r.params);
    w->Key("timeout_s"); w->OptionalInt(r.timeout_s);
    w->Key("delivery_timeout_s"); w->OptionalInt(r.delivery_timeout_s);
    w->Key("key");
    if (r.key.empty()) w->Nil(); else w->Str(r.key);
  }
  void operator()(const StatusRequest& r) {
    const bool from = r.tasks_from != 0;
    const bool limit = r.tasks_limit != kMaxTasksLimit;
    Op("status", 1 + (from ? 1 : 0) + (limit ? 1 : 0));
    w->Key("job"); w->Int(r.job);
    if (from) {
      w->Key("tasks_from"); w->Int(r.tasks_from);
    }
    if (limit) {
      w->Key("tasks_limit"); w->Int(r.tasks_limit);
    }
  }
  void operator()(const WaitRequest& r) {
    Op("wait", 3);
    w->Key("job"); w->Int(r.job);
    w->Key("timeout_ms"); w->Int(r.timeout_ms);
    w->Key("progress"); w->Bool(r.progress);
  }
  void operator()(const CancelRequest& r) { JobOnly("cancel", r.job); }
  void operator()(const JobsRequest& r) {
    Op("jobs", 5);
    w->Key("state");
    if (r.state) w->Str(JobStateName(*r.state)); else w->Nil();
    w->Key("score");
    if (r.score.empty()) w->Nil(); else w->Str(r.score);
    w->Key("player");
    if (r.player.empty()) w->Nil(); else w->Str(r.player);
    w->Key("limit"); w->Int(r.limit);
    w->Key("before"); w->OptionalInt(r.before);
  }
  void operator()(const PlayersRequest& r) {
    const bool after = !r.after.empty();
    const bool limit = r.limit != static_cast<int64_t>(kMaxJobPlayers);
    Op("players", (after ? 1 : 0) + (limit ? 1 : 0));
    if (after) {
      w->Key("after"); w->Str(r.after);
    }
    if (limit) {
      w->Key("limit"); w->Int(r.limit);
    }
  }

  void JobOnly(const char* op, JobId job) {
    Op(op, 1);
    w->Key("job");
    w->Int(job);
  }
};

struct ReplyEncoder {
  WireWriter* w;
  const RequestId& req;

  // Opens the reply map: "req" (when given), "ok", then `fields` more.
  void Begin(bool ok, size_t fields) {
    const bool has_req = !std::holds_alternative<std::monostate>(req);
    w->Map(fields + 1 + (has_req ? 1 : 0));
    if (has_req) WriteReq(w, req);
    w->Key("ok");
    w->Bool(ok);
  }
  void operator()(const SubmitReply& r) {
    Begin(true, 1);
    w->Key("job"); w->Int(r.job);
  }
  void operator()(const JobReply& r) {
    Begin(true, r.timed_out ? 2 : 1);
    w->Key("job"); WriteJob(w, r.job);
    if (r.timed_out) {
      w->Key("timed_out"); w->Bool(true);
    }
  }
  void operator()(const JobsReply& r) {
    Begin(true, r.jobs_omitted > 0 ? 2 : 1);
    w->Key("jobs"); w->Array(r.jobs.size());
    for (const JobSummary& s : r.jobs) WriteSummary(w, s);
    if (r.jobs_omitted > 0) {
      w->Key("jobs_omitted"); w->Int(r.jobs_omitted);
    }
  }
  void operator()(const PlayersReply& r) {
    Begin(true, r.players_omitted > 0 ? 2 : 1);
    w->Key("players"); w->Array(r.players.size());
    for (const PlayerInfo& p : r.players) WritePlayer(w, p);
    if (r.players_omitted > 0) {
      w->Key("players_omitted"); w->Int(r.players_omitted);
    }
  }
  void operator()(const ProgressReply& r) {
    const bool has_req = !std::holds_alternative<std::monostate>(req);
    w->Map(has_req ? 2 : 1);
    if (has_req) WriteReq(w, req);
    w->Key("progress");
    w->Map(3);
    w->Key("done"); w->Int(r.progress.done);
    w->Key("total"); w->Int(r.progress.total);
    w->Key("by_state"); WriteCounts(w, r.progress.by_state);
  }
  void operator()(const ErrorReply& r) {
    Begin(false, 1);
    w->Key("error");
    w->Map(2);
    w->Key("code"); w->Str(ErrorCodeName(r.error.code));
    w->Key("message"); w->Str(r.error.message);
  }
};

// ---- reading requests ----

ErrorCode CodeOf(const WireProblem& problem) {
  ErrorCode code = ErrorCode::kBadRequest;
  ParseErrorCode(problem.code, &code);
  return code;
}

RequestId ReadReq(const WireReader& reader, WireProblem* problem) {
  const msgpack::object* value = reader.Find("req");
  if (value == nullptr) return std::monostate{};
  if (value->type == msgpack::type::POSITIVE_INTEGER &&
      value->via.u64 <= static_cast<uint64_t>(INT64_MAX))
    return static_cast<int64_t>(value->via.u64);
  if (value->type == msgpack::type::NEGATIVE_INTEGER) return value->via.i64;
  std::string text;
  if (ReadString(*value, &text) && text.size() <= kMaxReqString) return text;
  problem->code = "bad_request";
  problem->message = "field 'req' must be an integer or a string of at most " +
                     std::to_string(kMaxReqString) + " bytes";
  return std::monostate{};
}

std::vector<std::string> ReadPlayers(WireReader* r) {
  std::vector<std::string> listed =
      r->StringList("players", WireReader::kRequired, kMaxJobPlayers, 253);
  if (!r->ok()) return {};
  if (listed.empty()) {
    r->Fail("missing_field", "field 'players' must list at least one player");
    return {};
  }
  std::vector<std::string> players;
  std::set<std::string> seen;
  for (std::string& name : listed) {
    if (!common::IsValidPlayerName(name)) {
      r->Fail("invalid_player", "'" + common::SanitizeUtf8(name) +
                                    "' is not a valid player name");
      return {};
    }
    if (seen.insert(name).second) players.push_back(std::move(name));
  }
  return players;
}

SubmitRequest ReadSubmit(WireReader* r) {
  SubmitRequest m;
  m.score = r->Str("score", WireReader::kRequired, 128);
  if (r->ok() && !common::IsValidScoreName(m.score))
    r->Fail("bad_request",
            "score name must match [A-Za-z0-9._-]{1,128} and not start "
            "with '.'");
  std::string scope = r->Str("scope", WireReader::kRequired, 16);
  if (r->ok() && !ParseScope(scope, &m.scope))
    r->Fail("invalid_scope", "scope must be 'one' or 'all', not '" +
                                 common::SanitizeUtf8(scope) + "'");
  if (r->ok()) m.players = ReadPlayers(r);
  m.params = r->Strings("params", WireReader::kOptional, 4096, 64 << 10);
  if (r->ok()) {
    bool too_large = false;
    std::string problem = CheckParams(m.params, &too_large);
    if (!problem.empty())
      r->Fail(too_large ? "too_large" : "invalid_param", problem);
  }
  m.timeout_s = r->OptionalInt("timeout_s", 1, kMaxTimeoutS);
  m.delivery_timeout_s = r->OptionalInt("delivery_timeout_s", 0, kMaxTimeoutS);
  m.key = r->Str("key", WireReader::kOptional, kMaxIdempotencyKey);
  return m;
}

JobId ReadJobId(WireReader* r) {
  return r->Int("job", WireReader::kRequired, 1, INT64_MAX);
}

StatusRequest ReadStatus(WireReader* r) {
  StatusRequest m;
  m.job = ReadJobId(r);
  m.tasks_from = r->Int("tasks_from", WireReader::kOptional, 0, INT32_MAX);
  m.tasks_limit = r->Int("tasks_limit", WireReader::kOptional, 1,
                         kMaxTasksLimit, kMaxTasksLimit);
  return m;
}

PlayersRequest ReadPlayersRequest(WireReader* r) {
  PlayersRequest m;
  m.after = r->Str("after", WireReader::kOptional, 253);
  const int64_t most = static_cast<int64_t>(kMaxJobPlayers);
  m.limit = r->Int("limit", WireReader::kOptional, 1, most, most);
  return m;
}

WaitRequest ReadWait(WireReader* r) {
  WaitRequest m;
  m.job = ReadJobId(r);
  m.timeout_ms = r->Int("timeout_ms", WireReader::kOptional, 0,
                        kMaxTimeoutS * 1000);
  m.progress = r->Bool("progress");
  return m;
}

JobsRequest ReadJobs(WireReader* r) {
  JobsRequest m;
  std::string state = r->Str("state", WireReader::kOptional, 32);
  if (r->ok() && !state.empty()) {
    JobState parsed;
    if (ParseJobState(state, &parsed)) {
      m.state = parsed;
    } else {
      r->Fail("bad_request",
              "state must be PENDING, OK, FAIL, PARTIAL_FAIL or CANCELLED");
    }
  }
  m.score = r->Str("score", WireReader::kOptional, 128);
  m.player = r->Str("player", WireReader::kOptional, 253);
  m.limit = r->Int("limit", WireReader::kOptional, 1, 10000, 100);
  m.before = r->OptionalInt("before", 1, INT64_MAX);
  return m;
}

bool ReadOp(const std::string& op, WireReader* r, AudienceOp* out) {
  if (op == "submit" || op == "queue") *out = ReadSubmit(r);
  else if (op == "status") *out = ReadStatus(r);
  else if (op == "wait") *out = ReadWait(r);
  else if (op == "cancel") *out = CancelRequest{ReadJobId(r)};
  else if (op == "jobs") *out = ReadJobs(r);
  else if (op == "players") *out = ReadPlayersRequest(r);
  else return false;
  return true;
}

// ---- reading replies (clients) ----

TaskRecord ReadTask(WireReader* r) {
  TaskRecord t;
  t.task = r->Int("task", WireReader::kRequired, 1, INT64_MAX);
  t.player = r->Str("player", WireReader::kOptional, 253);
  t.attempt = r->Int("attempt", WireReader::kOptional, 1, INT32_MAX, 1);
  std::string state = r->Str("state", WireReader::kRequired, 32);
  if (r->ok() && !ParseTaskState(state, &t.state))
    r->Fail("bad_request", "unknown task state '" + state + "'");
  t.exit_code = r->OptionalInt("exit_code", INT32_MIN, INT32_MAX);
  t.signal = r->OptionalInt("signal", 0, 1024);
  t.stdout_text = r->Str("stdout", WireReader::kOptional, kMaxString);
  t.stderr_text = r->Str("stderr", WireReader::kOptional, kMaxString);
  t.stdout_truncated = r->Bool("stdout_truncated");
  t.stderr_truncated = r->Bool("stderr_truncated");
  t.response = r->Strings("response", WireReader::kOptional, kMaxMapEntries,
                          kMaxString);
  t.dispatched_at = r->Time("dispatched_at");
  t.started_at = r->Time("started_at");
  t.finished_at = r->Time("finished_at");
  t.error = r->Str("error", WireReader::kOptional, kMaxString);
  t.cut = r->Bool("cut");
  return t;
}

JobRecord ReadJob(WireReader* r) {
  JobRecord j;
  j.id = r->Int("id", WireReader::kRequired, 1, INT64_MAX);
  j.score = r->Str("score", WireReader::kRequired, 128);
  std::string scope = r->Str("scope", WireReader::kRequired, 16);
  std::string state = r->Str("state", WireReader::kRequired, 32);
  if (r->ok() && (!ParseScope(scope, &j.scope) ||
                  !ParseJobState(state, &j.state)))
    r->Fail("bad_request", "bad scope or state in job record");
  j.players = r->StringList("players", WireReader::kOptional, kMaxArray, 253);
  j.params = r->Strings("params", WireReader::kOptional, kMaxMapEntries,
                        kMaxString);
  j.submitted_by = r->Str("submitted_by", WireReader::kOptional, 256);
  j.timeout_s = r->OptionalInt("timeout_s", 0, INT64_MAX);
  j.delivery_timeout_s = r->OptionalInt("delivery_timeout_s", 0, INT64_MAX);
  j.created_at = r->Time("created_at");
  j.finished_at = r->Time("finished_at");
  for (const msgpack::object* item :
       r->Array("tasks", WireReader::kOptional, kMaxArray)) {
    WireReader t = r->Nested(*item, "task");
    j.tasks.push_back(ReadTask(&t));
    if (!r->ok()) break;
  }
  j.tasks_total = r->OptionalInt("tasks_total", 0, INT32_MAX);
  if (j.tasks_total) {
    j.tasks_from = r->Int("tasks_from", WireReader::kOptional, 0, INT32_MAX);
    if (!j.tasks.empty() &&
        j.tasks_from + static_cast<int64_t>(j.tasks.size()) > *j.tasks_total)
      r->Fail("bad_request", "a page lists more tasks than 'tasks_total'");
  }
  j.players_omitted =
      r->Int("players_omitted", WireReader::kOptional, 0, INT32_MAX);
  return j;
}

std::map<std::string, int64_t> ReadCounts(WireReader* r,
                                          std::string_view key) {
  std::map<std::string, int64_t> counts;
  const msgpack::object* value = r->Find(key);
  if (value == nullptr) return counts;
  if (value->type != msgpack::type::MAP) {
    r->Fail("bad_request", "counts must be a map");
    return counts;
  }
  for (uint32_t i = 0; i < value->via.map.size; ++i) {
    std::string name;
    const msgpack::object& v = value->via.map.ptr[i].val;
    // A count above INT64_MAX would read as a negative one.
    if (!ReadString(value->via.map.ptr[i].key, &name) ||
        v.type != msgpack::type::POSITIVE_INTEGER ||
        v.via.u64 > static_cast<uint64_t>(INT64_MAX)) {
      r->Fail("bad_request", "counts must map names to counts");
      return {};
    }
    counts[name] = static_cast<int64_t>(v.via.u64);
  }
  return counts;
}

JobSummary ReadSummary(WireReader* r) {
  JobSummary s;
  s.id = r->Int("id", WireReader::kRequired, 1, INT64_MAX);
  s.score = r->Str("score", WireReader::kRequired, 128);
  std::string scope = r->Str("scope", WireReader::kRequired, 16);
  std::string state = r->Str("state", WireReader::kRequired, 32);
  if (r->ok() && (!ParseScope(scope, &s.scope) ||
                  !ParseJobState(state, &s.state)))
    r->Fail("bad_request", "bad scope or state in job summary");
  s.submitted_by = r->Str("submitted_by", WireReader::kOptional, 256);
  s.players = r->Int("players", WireReader::kOptional, 0, INT64_MAX);
  s.tasks_by_state = ReadCounts(r, "tasks");
  s.created_at = r->Time("created_at");
  s.finished_at = r->Time("finished_at");
  return s;
}

PlayerInfo ReadPlayer(WireReader* r) {
  PlayerInfo p;
  p.name = r->Str("name", WireReader::kRequired, 253);
  p.connected = r->Bool("connected");
  p.last_seen = r->Time("last_seen");
  p.version = r->Str("version", WireReader::kOptional, 128);
  p.slots = r->Int("slots", WireReader::kOptional, 0, INT64_MAX);
  p.running = r->Int("running", WireReader::kOptional, 0, INT64_MAX);
  p.scores = r->StringList("scores", WireReader::kOptional, kMaxArray, 128);
  return p;
}

AudienceReplyBody ReadReplyBody(WireReader* r) {
  if (const msgpack::object* progress = r->Find("progress")) {
    WireReader p = r->Nested(*progress, "progress");
    ProgressReply reply;
    reply.progress.done = p.Int("done", WireReader::kRequired, 0, INT64_MAX);
    reply.progress.total = p.Int("total", WireReader::kRequired, 0, INT64_MAX);
    reply.progress.by_state = ReadCounts(&p, "by_state");
    return reply;
  }
  if (!r->Bool("ok")) {
    ErrorReply reply;
    const msgpack::object* error = r->Find("error");
    if (error == nullptr) {
      r->Fail("bad_request", "error reply without 'error'");
      return reply;
    }
    WireReader e = r->Nested(*error, "error");
    std::string code = e.Str("code", WireReader::kRequired, 64);
    ParseErrorCode(code, &reply.error.code);
    reply.error.message = e.Str("message", WireReader::kOptional, 65536);
    return reply;
  }
  if (r->Has("jobs")) {
    JobsReply reply;
    for (const msgpack::object* item :
         r->Array("jobs", WireReader::kRequired, kMaxArray)) {
      WireReader s = r->Nested(*item, "job summary");
      reply.jobs.push_back(ReadSummary(&s));
    }
    reply.jobs_omitted =
        r->Int("jobs_omitted", WireReader::kOptional, 0, INT32_MAX);
    return reply;
  }
  if (r->Has("players")) {
    PlayersReply reply;
    for (const msgpack::object* item :
         r->Array("players", WireReader::kRequired, kMaxArray)) {
      WireReader p = r->Nested(*item, "player");
      reply.players.push_back(ReadPlayer(&p));
    }
    reply.players_omitted =
        r->Int("players_omitted", WireReader::kOptional, 0, INT32_MAX);
    return reply;
  }
  const msgpack::object* job = r->Find("job");
  if (job != nullptr && job->type == msgpack::type::MAP) {
    JobReply reply;
    WireReader j = r->Nested(*job, "job");
    reply.job = ReadJob(&j);
    reply.timed_out = r->Bool("timed_out");
    return reply;
  }
  return SubmitReply{r->Int("job", WireReader::kRequired, 1, INT64_MAX)};
}

// ---- sizes: each mirrors the writer above ----

size_t KeySize(std::string_view key) { return WireWriter::StrSize(key.size()); }

size_t CountsSize(const std::map<std::string, int64_t>& counts) {
  size_t size = WireWriter::MapSize(counts.size());
  for (const auto& [name, count] : counts)
    size += WireWriter::StrSize(name.size()) + WireWriter::IntSize(count);
  return size;
}

}  // namespace

const char* ErrorCodeName(ErrorCode code) {
  return kErrorCodeNames[static_cast<int>(code)];
}

bool ParseErrorCode(std::string_view text, ErrorCode* code) {
  for (int i = 0; i <= static_cast<int>(ErrorCode::kLastErrorCode); ++i) {
    if (text == kErrorCodeNames[i]) {
      *code = static_cast<ErrorCode>(i);
      return true;
    }
  }
  return false;
}

const char* OpName(const AudienceOp& op) {
  static const char* const kOps[] = {"submit", "status", "wait",
                                     "cancel", "jobs",   "players"};
  return kOps[op.index()];
}

std::string EncodeAudienceRequest(const AudienceRequest& request) {
  WireWriter writer;
  const bool has_req = !std::holds_alternative<std::monostate>(request.req);
  std::visit(RequestEncoder{&writer, has_req ? 1u : 0u}, request.op);
  // The req field goes last: the encoder sized the map for it.
  if (has_req) WriteReq(&writer, request.req);
  return writer.Take();
}

DecodedRequest DecodeAudienceRequest(std::string_view bytes) {
  DecodedRequest out;
  WireProblem problem;
  msgpack::object_handle handle;
  if (Unpack(bytes, &handle, &problem)) {
    WireReader reader(handle.get(), &problem);
    if (reader.ok()) out.req = ReadReq(reader, &problem);
    std::string op = reader.Str("op", WireReader::kRequired, 32);
    AudienceOp parsed;
    if (reader.ok() && !ReadOp(op, &reader, &parsed))
      reader.Fail("unknown_op",
                  "unknown op '" + common::SanitizeUtf8(op) +
                      "' (ops: submit, queue, status, wait, cancel, jobs, "
                      "players)");
    if (reader.ok()) out.op = std::move(parsed);
  }
  if (!problem.ok()) {
    out.error.code = CodeOf(problem);
    out.error.message = problem.message;
  }
  return out;
}

std::string EncodeAudienceReply(const AudienceReply& reply) {
  WireWriter writer;
  std::visit(ReplyEncoder{&writer, reply.req}, reply.body);
  return writer.Take();
}

size_t EncodedStringSize(size_t bytes) { return WireWriter::StrSize(bytes); }

size_t EncodedSize(const TaskRecord& t) {
  using W = WireWriter;
  // Keys, then values, in WriteTask's order.
  size_t size = W::MapSize(t.cut ? 16 : 15) + KeySize("task") +
                KeySize("player") + KeySize("attempt") + KeySize("state") +
                KeySize("exit_code") + KeySize("signal") + KeySize("stdout") +
                KeySize("stderr") + KeySize("stdout_truncated") +
                KeySize("stderr_truncated") + KeySize("response") +
                KeySize("dispatched_at") + KeySize("started_at") +
                KeySize("finished_at") + KeySize("error");
  size += W::IntSize(t.task);
  size += t.player.empty() ? 1 : W::StrSize(t.player.size());
  size += W::IntSize(t.attempt);
  size += W::StrSize(std::string_view(TaskStateName(t.state)).size());
  size += W::OptionalIntSize(t.exit_code) + W::OptionalIntSize(t.signal);
  size += W::StrSize(t.stdout_text.size()) + W::StrSize(t.stderr_text.size());
  size += 2;  // the truncated flags
  size += W::StringsSize(t.response);
  size += W::TimeSize(t.dispatched_at) + W::TimeSize(t.started_at) +
          W::TimeSize(t.finished_at);
  size += W::StrSize(t.error.size());
  if (t.cut) size += KeySize("cut") + 1;
  return size;
}

size_t EncodedHeaderSize(const JobRecord& j) {
  using W = WireWriter;
  size_t size =
      W::MapSize(12 + (j.tasks_total ? 2 : 0) + (j.players_omitted ? 1 : 0));
  size += KeySize("id") + W::IntSize(j.id);
  size += KeySize("score") + W::StrSize(j.score.size());
  size += KeySize("scope") +
          W::StrSize(std::string_view(ScopeName(j.scope)).size());
  size += KeySize("players") + W::StringsSize(j.players);
  size += KeySize("params") + W::StringsSize(j.params);
  size += KeySize("state") +
          W::StrSize(std::string_view(JobStateName(j.state)).size());
  size += KeySize("submitted_by") + W::StrSize(j.submitted_by.size());
  size += KeySize("timeout_s") + W::OptionalIntSize(j.timeout_s);
  size +=
      KeySize("delivery_timeout_s") + W::OptionalIntSize(j.delivery_timeout_s);
  size += KeySize("created_at") + W::TimeSize(j.created_at);
  size += KeySize("finished_at") + W::TimeSize(j.finished_at);
  size += KeySize("tasks") + W::ArraySize(j.tasks.size());
  if (j.tasks_total)
    size += KeySize("tasks_from") + W::IntSize(j.tasks_from) +
            KeySize("tasks_total") + W::IntSize(*j.tasks_total);
  if (j.players_omitted)
    size += KeySize("players_omitted") + W::IntSize(j.players_omitted);
  return size;
}

size_t EncodedSize(const JobSummary& s) {
  using W = WireWriter;
  return W::MapSize(9) + KeySize("id") + W::IntSize(s.id) + KeySize("score") +
         W::StrSize(s.score.size()) + KeySize("scope") +
         W::StrSize(std::string_view(ScopeName(s.scope)).size()) +
         KeySize("state") +
         W::StrSize(std::string_view(JobStateName(s.state)).size()) +
         KeySize("submitted_by") + W::StrSize(s.submitted_by.size()) +
         KeySize("players") + W::IntSize(s.players) + KeySize("tasks") +
         CountsSize(s.tasks_by_state) + KeySize("created_at") +
         W::TimeSize(s.created_at) + KeySize("finished_at") +
         W::TimeSize(s.finished_at);
}

size_t EncodedSize(const PlayerInfo& p) {
  using W = WireWriter;
  return W::MapSize(7) + KeySize("name") + W::StrSize(p.name.size()) +
         KeySize("connected") + 1 + KeySize("last_seen") +
         W::TimeSize(p.last_seen) + KeySize("version") +
         W::StrSize(p.version.size()) + KeySize("slots") + W::IntSize(p.slots) +
         KeySize("running") + W::IntSize(p.running) + KeySize("scores") +
         W::StringsSize(p.scores);
}

Result<AudienceReply> DecodeAudienceReply(std::string_view bytes) {
  WireProblem problem;
  msgpack::object_handle handle;
  if (!Unpack(bytes, &handle, &problem))
    return Status::InvalidArgument("reply", problem.message);
  WireReader reader(handle.get(), &problem);
  AudienceReply reply;
  if (reader.ok()) reply.req = ReadReq(reader, &problem);
  if (reader.ok()) reply.body = ReadReplyBody(&reader);
  if (!problem.ok()) return Status::InvalidArgument("reply", problem.message);
  return reply;
}

}  // namespace orchestra::broker
