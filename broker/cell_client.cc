// How a call fails over. Each attempt asks current_; a failed connection,
// a request without a reply in time, a lost connection or an `unavailable`
// error moves on: to the `leader` the error names (a syntactically valid
// endpoint not failed yet in this round, at most kMaxHintHops in a row),
// else to the next endpoint of the list not failed in this round. When the
// list wraps, the round ends with a pause (doubling up to max_backoff_ms)
// so a cell without a leader is not hammered. The call gives up
// failover_ms after its first failure. Retrying is safe for every op:
// status, wait, jobs, players and sql only read, cancel is idempotent, and
// a submit carries the same key in every attempt.

#include "broker/cell_client.h"

#include <sodium.h>

#include <algorithm>
#include <set>
#include <thread>

#include "broker/endpoint_list.h"

namespace orchestra::broker {

using common::Result;
using common::Status;
using common::TimeMs;

namespace {

constexpr int kMaxHintHops = 3;
constexpr size_t kMaxTriedListed = 8;  // endpoints named in the final error

TimeMs Now() { return common::SystemClock().Monotonic(); }

AudienceOp WithKey(AudienceOp op) {
  SubmitRequest* submit = std::get_if<SubmitRequest>(&op);
  if (submit != nullptr && submit->key.empty())
    submit->key = NewIdempotencyKey();
  return op;
}

// What is left of a wait `elapsed` ms after the call began: the
// conductor's wait and the client's timeout both shrink. False when
// nothing is left.
bool Shorten(TimeMs elapsed, AudienceOp* op, int* timeout_ms) {
  WaitRequest* wait = std::get_if<WaitRequest>(op);
  if (wait == nullptr || elapsed <= 0) return true;
  if (wait->timeout_ms > 0)
    wait->timeout_ms = std::max<int64_t>(1, wait->timeout_ms - elapsed);
  if (*timeout_ms < 0) return true;
  *timeout_ms -= static_cast<int>(std::min<TimeMs>(elapsed, *timeout_ms));
  return *timeout_ms > 0;
}

}  // namespace

std::string NewIdempotencyKey() {
  unsigned char bytes[16];
  randombytes_buf(bytes, sizeof(bytes));
  static const char kHex[] = "0123456789abcdef";
  std::string key = "auto-";
  for (unsigned char b : bytes) {
    key += kHex[b >> 4];
    key += kHex[b & 15];
  }
  return key;
}

constexpr int kFirstRoundConnectMs = 1000;

struct CellClient::Failover {
  TimeMs start = 0;
  TimeMs failing_since = -1;     // -1: nothing failed yet
  size_t round_start = 0;        // cursor_ when this round began
  std::set<std::string> failed;  // in this round
  int hops = 0;                  // hints followed in a row
  size_t attempts = 0;
  bool hinted = false;  // a hint was ever followed
  int backoff_ms = 0;
  std::vector<std::string> tried;
  std::string last_error;
};

CellClient::CellClient(CellOptions options) : options_(std::move(options)) {
  if (!options_.endpoints.empty()) current_ = options_.endpoints[0];
}

CellClient::~CellClient() = default;

Result<AudienceReply> CellClient::Call(
    const AudienceOp& op, int timeout_ms,
    const std::function<void(const Progress&)>& on_progress) {
  if (options_.endpoints.empty())
    return Status::InvalidArgument("conductor cell", "no endpoint given");
  const AudienceOp keyed = WithKey(op);
  Failover f;
  f.start = Now();
  f.round_start = cursor_;
  f.backoff_ms = options_.backoff_ms;
  for (;;) {
    AudienceOp request = keyed;
    int attempt_ms = timeout_ms;
    if (!Shorten(Now() - f.start, &request, &attempt_ms)) return GiveUp(f);
    int connect_ms = options_.client.connect_timeout_ms;
    // A conductor that died leaves its ipc socket file behind, and a
    // connection to it never completes: with others to try, the first
    // round gives each a short while, the later ones the whole timeout.
    if (options_.endpoints.size() > 1 &&
        f.attempts++ < options_.endpoints.size())
      connect_ms = std::min(connect_ms, kFirstRoundConnectMs);
    if (f.failing_since >= 0)
      connect_ms = static_cast<int>(std::clamp<TimeMs>(
          f.failing_since + options_.failover_ms - Now(), 1, connect_ms));
    Result<AudienceReply> reply =
        Attempt(request, attempt_ms, connect_ms, on_progress);
    std::string hint;
    if (reply.ok()) {
      const ErrorReply* error = std::get_if<ErrorReply>(&reply.value().body);
      if (error == nullptr || error->error.code != ErrorCode::kUnavailable)
        return reply;
      client_.reset();
      hint = error->error.leader;
      f.last_error =
          "conductor at " + current_ + ": unavailable: " + error->error.message;
    } else if (reply.status().code() != Status::Code::kUnavailable) {
      return reply;
    } else {
      f.last_error = reply.status().message();
    }
    if (!IsValidEndpoint(hint) || hint == current_ || f.failed.count(hint))
      hint.clear();
    if (options_.endpoints.size() == 1 && hint.empty() && !f.hinted)
      return reply;
    if (!MoveOn(hint, &f)) return GiveUp(f);
  }
}

Result<AudienceReply> CellClient::Attempt(
    const AudienceOp& op, int timeout_ms, int connect_timeout_ms,
    const std::function<void(const Progress&)>& on_progress) {
  if (!client_) {
    ClientOptions options = options_.client;
    options.endpoint = current_;
    options.connect_timeout_ms = connect_timeout_ms;
    Result<std::unique_ptr<AudienceClient>> client =
        AudienceClient::Connect(options);
    if (!client.ok()) return client.status();
    client_ = std::move(client.value());
  }
  Result<AudienceReply> reply = client_->Call(op, timeout_ms, on_progress);
  if (!reply.ok()) {
    client_.reset();
    return reply;
  }
  last_reply_bytes_ = client_->last_reply_bytes();
  return reply;
}

bool CellClient::MoveOn(const std::string& hint, Failover* f) {
  client_.reset();
  f->failed.insert(current_);
  if (std::find(f->tried.begin(), f->tried.end(), current_) == f->tried.end())
    f->tried.push_back(current_);
  const TimeMs now = Now();
  if (f->failing_since < 0) f->failing_since = now;
  const TimeMs end = f->failing_since + options_.failover_ms;
  if (now >= end) return false;
  if (!hint.empty() && f->hops < kMaxHintHops) {
    ++f->hops;
    f->hinted = true;
    current_ = hint;
    return true;
  }
  f->hops = 0;
  const size_t n = options_.endpoints.size();
  do {
    cursor_ = (cursor_ + 1) % n;
    if (cursor_ == f->round_start) {  // A round without an answer.
      std::this_thread::sleep_for(std::chrono::milliseconds(
          std::min<TimeMs>(f->backoff_ms, end - Now())));
      f->backoff_ms = std::min(2 * f->backoff_ms, options_.max_backoff_ms);
      f->failed.clear();
      if (Now() >= end) return false;
    }
  } while (f->failed.count(options_.endpoints[cursor_]));
  current_ = options_.endpoints[cursor_];
  return true;
}

Status CellClient::GiveUp(const Failover& f) const {
  std::string tried;
  for (size_t i = 0; i < f.tried.size() && i < kMaxTriedListed; ++i)
    tried += (i ? ", " : "") + f.tried[i];
  if (f.tried.size() > kMaxTriedListed) tried += ", ...";
  std::string what = "no conductor of the cell answered within " +
                     std::to_string(options_.failover_ms) + " ms";
  if (!tried.empty()) what += " (tried " + tried + ")";
  if (!f.last_error.empty()) what += "; last: " + f.last_error;
  return Status::Unavailable("conductor cell", what);
}

}  // namespace orchestra::broker
