#include "broker/audience_protocol.h"

#include <iterator>
#include <set>
#include <utility>

#include "broker/message_fields.h"
#include "common/text.h"

namespace orchestra::broker {

namespace {

using common::Result;
using common::Status;

constexpr const char* kErrorCodeNames[] = {"bad_request",    "unknown_op",
                                           "missing_field",  "invalid_scope",
                                           "invalid_player", "invalid_target",
                                           "unknown_score",  "invalid_param",
                                           "too_large",      "not_found",
                                           "unauthorized",   "unavailable",
                                           "conflict",       "busy"};
static_assert(std::size(kErrorCodeNames) ==
                  static_cast<size_t>(ErrorCode::kLastErrorCode) + 1,
              "one name per error code");

// The "op" of each AudienceOp alternative, in its order ("queue" is an old
// name of "submit"), and the "kind" of each AudienceReplyBody alternative.
constexpr const char* kOps[] = {"submit", "status",  "wait", "cancel",
                                "jobs",   "players", "sql"};
static_assert(std::size(kOps) == std::variant_size_v<AudienceOp>,
              "one name per op");
constexpr const char* kReplyKinds[] = {"submit",   "job",   "jobs", "players",
                                       "progress", "error", "sql"};
static_assert(std::size(kReplyKinds) == std::variant_size_v<AudienceReplyBody>,
              "one kind per reply");

void WriteReq(WireWriter* w, const RequestId& req) {
  w->Key("req");
  if (const int64_t* n = std::get_if<int64_t>(&req)) {
    w->Int(*n);
  } else {
    w->Str(std::get<std::string>(req));
  }
}

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
  if (ReadString(*value, &text) && text.size() <= kMaxRequestIdBytes)
    return text;
  problem->code = "bad_request";
  problem->message = "field 'req' must be an integer or a string of at most " +
                     std::to_string(kMaxRequestIdBytes) + " bytes";
  return std::monostate{};
}

}  // namespace

void DescribeAudienceChannel(FieldDescriber* d) {
  DescribeAlternatives<AudienceOp>(d, "request", kOps);
  DescribeAlternatives<AudienceReplyBody>(d, "reply", kReplyKinds);
}

namespace {

// What a submit's fields say together (DESIGN.md section 13): players by
// name or by a target, never both; rollout limits only for `all` jobs. The
// target's grammar is checked where it is resolved (invalid_target).
std::string CheckShape(const SubmitRequest& m, std::string* code) {
  *code = "bad_request";
  if (!m.players.empty() && !m.target.empty())
    return "give either 'players' or 'target', not both";
  if (m.players.empty() && m.target.empty()) {
    *code = "missing_field";
    return "field 'players' must list at least one player (or give "
           "'target')";
  }
  if (m.scope == Scope::kOne && (m.max_concurrency || m.max_errors))
    return "'max_concurrency' and 'max_errors' are for scope 'all' (a "
           "rollout); a 'one' job runs one task at a time";
  return "";
}

}  // namespace

void Check(FieldReader& r, SubmitRequest* m) {
  if (!common::IsValidScoreName(m->score)) {
    r.Fail("bad_request", "score name must match " + common::ScoreNameRule());
    return;
  }
  std::string code;
  const std::string shape = CheckShape(*m, &code);
  if (!shape.empty()) {
    r.Fail(code, shape);
    return;
  }
  std::vector<std::string> players;
  std::set<std::string> seen;
  for (std::string& name : m->players) {
    if (!common::IsValidPlayerName(name)) {
      r.Fail("invalid_player", "'" + common::SanitizeUtf8(name) +
                                   "' is not a valid player name (" +
                                   common::PlayerNameRule() + ")");
      return;
    }
    if (seen.insert(name).second) players.push_back(std::move(name));
  }
  m->players = std::move(players);
  bool too_large = false;
  std::string problem = CheckParams(m->params, &too_large);
  if (!problem.empty())
    r.Fail(too_large ? "too_large" : "invalid_param", problem);
}

void Check(FieldReader& r, JobRecord* m) {
  if (m->tasks_total && !m->tasks.empty() &&
      m->tasks_from + static_cast<int64_t>(m->tasks.size()) > *m->tasks_total)
    r.Fail("bad_request", "a page lists more tasks than 'tasks_total'");
}

void Check(FieldReader& r, SqlRequest* m) {
  if (m->sql.find_first_not_of(" \t\r\n") == std::string::npos)
    r.Fail("missing_field", "field 'sql' must hold a statement");
  else if (m->sql.find('\0') != std::string::npos)
    r.Fail("bad_request", "field 'sql' must not hold a NUL byte");
}

void Check(FieldReader& r, SqlReply* m) {
  for (size_t i = 0; i < m->rows.size(); ++i) {
    if (m->rows[i].size() != m->columns.size()) {
      r.Fail("bad_request", "row " + std::to_string(i) + " has " +
                                std::to_string(m->rows[i].size()) +
                                " values for " +
                                std::to_string(m->columns.size()) + " columns");
      return;
    }
  }
}

const char* ErrorCodeName(ErrorCode code) {
  return kErrorCodeNames[static_cast<int>(code)];
}

bool ParseErrorCode(std::string_view text, ErrorCode* code) {
  const int i = IndexOf(kErrorCodeNames, text);
  if (i < 0) return false;
  *code = static_cast<ErrorCode>(i);
  return true;
}

const char* OpName(const AudienceOp& op) { return kOps[op.index()]; }

const char* ReplyKind(const AudienceReplyBody& body) {
  return kReplyKinds[body.index()];
}

std::string EncodeAudienceRequest(const AudienceRequest& request) {
  WireWriter w;
  FieldWriter fields(&w);
  w.BeginMap();
  w.Key("op");
  w.Str(OpName(request.op));
  WriteAlternative(&fields, request.op);
  // The req goes last, as it always has.
  if (!std::holds_alternative<std::monostate>(request.req))
    WriteReq(&w, request.req);
  w.EndMap();
  return w.Take();
}

DecodedRequest DecodeAudienceRequest(std::string_view bytes) {
  DecodedRequest out;
  WireProblem problem;
  msgpack::object_handle handle;
  if (Unpack(bytes, &handle, &problem)) {
    WireReader wire(handle.get(), &problem);
    if (wire.ok()) out.req = ReadReq(wire, &problem);
    const std::string op = wire.Str("op", WireReader::kRequired, 32);
    const int index = IndexOf(kOps, op == "queue" ? "submit" : op);
    if (wire.ok() && index < 0)
      wire.Fail("unknown_op",
                "unknown op '" + common::SanitizeUtf8(op) +
                    "' (ops: submit, queue, status, wait, cancel, jobs, "
                    "players, sql)");
    if (wire.ok()) {
      FieldReader reader(std::move(wire));
      AudienceOp parsed;
      ReadAlternative(index, reader, &parsed);
      if (reader.ok()) out.op = std::move(parsed);
    }
  }
  if (!problem.ok()) {
    out.error.code = CodeOf(problem);
    out.error.message = problem.message;
  }
  return out;
}

// {req, ok, kind, fields...}; a progress report has no "ok" (it is not the
// answer yet).
std::string EncodeAudienceReply(const AudienceReply& reply) {
  WireWriter w;
  FieldWriter fields(&w);
  w.BeginMap();
  if (!std::holds_alternative<std::monostate>(reply.req))
    WriteReq(&w, reply.req);
  if (!std::holds_alternative<ProgressReply>(reply.body)) {
    w.Key("ok");
    w.Bool(!std::holds_alternative<ErrorReply>(reply.body));
  }
  w.Key("kind");
  w.Str(ReplyKind(reply.body));
  WriteAlternative(&fields, reply.body);
  w.EndMap();
  return w.Take();
}

Result<AudienceReply> DecodeAudienceReply(std::string_view bytes) {
  WireProblem problem;
  msgpack::object_handle handle;
  if (!Unpack(bytes, &handle, &problem))
    return Status::InvalidArgument("reply", problem.message);
  WireReader wire(handle.get(), &problem);
  AudienceReply reply;
  if (wire.ok()) reply.req = ReadReq(wire, &problem);
  const std::string kind = wire.Str("kind", WireReader::kRequired, 32);
  const int index = IndexOf(kReplyKinds, kind);
  if (wire.ok() && index < 0)
    wire.Fail("bad_request",
              "unknown reply kind '" + common::SanitizeUtf8(kind) + "'");
  if (wire.ok()) {
    FieldReader reader(std::move(wire));
    ReadAlternative(index, reader, &reply.body);
  }
  if (!problem.ok()) return Status::InvalidArgument("reply", problem.message);
  return reply;
}

size_t EncodedStringSize(size_t bytes) { return WireWriter::StrSize(bytes); }

size_t EncodedSize(const TaskRecord& task) { return EncodedBytes(task); }
size_t EncodedSize(const JobSummary& summary) { return EncodedBytes(summary); }
size_t EncodedSize(const PlayerInfo& player) { return EncodedBytes(player); }

size_t EncodedHeaderSize(const JobRecord& job) {
  size_t size = EncodedBytes(job);
  for (const TaskRecord& task : job.tasks) size -= EncodedBytes(task);
  return size;
}

}  // namespace orchestra::broker
