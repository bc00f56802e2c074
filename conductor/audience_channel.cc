#include "conductor/audience_channel.h"

#include <pwd.h>

#include "broker/connection.h"
#include "broker/curve_keys.h"
#include "common/log.h"
#include "common/text.h"
#include "conductor/record_pager.h"
#include "conductor/target.h"

namespace orchestra::conductor {

using broker::AudienceOp;
using broker::ErrorCode;
using common::Result;
using common::Status;

namespace {

broker::Progress ProgressOf(const JobRecord& job) {
  broker::Progress p;
  p.total = static_cast<int64_t>(job.tasks.size());
  for (const broker::TaskRecord& task : job.tasks) {
    ++p.by_state[broker::TaskStateName(task.state)];
    if (broker::IsFinal(task.state)) ++p.done;
  }
  return p;
}

// The UID in the Peer-Address of an ipc peer, which libzmq ends with the
// peer's credentials: "localhost:UID:GID:PID"; -1 if there is none.
int64_t PeerUid(const std::string& peer_address) {
  std::vector<std::string> fields;
  size_t start = 0;
  for (size_t colon;
       (colon = peer_address.find(':', start)) != std::string::npos;
       start = colon + 1)
    fields.push_back(peer_address.substr(start, colon - start));
  fields.push_back(peer_address.substr(start));
  int64_t uid = 0;
  if (fields.size() < 4 ||
      !common::ParseInt64(fields[fields.size() - 3], 0, UINT32_MAX, &uid))
    return -1;
  return uid;
}

// "alice" for UID 1000, or "uid:1234" for a UID without a name.
std::string UserName(int64_t uid) {
  struct passwd pw;
  struct passwd* found = nullptr;
  char buf[4096];
  if (getpwuid_r(static_cast<uid_t>(uid), &pw, buf, sizeof(buf), &found) == 0 &&
      found != nullptr)
    return found->pw_name;
  return "uid:" + std::to_string(uid);
}

// How many of `jobs`, from the first, fit in one reply.
size_t Fitting(const std::vector<broker::JobSummary>& jobs) {
  size_t used = 0;
  for (size_t i = 0; i < jobs.size(); ++i) {
    used += broker::EncodedSize(jobs[i]);
    if (used > broker::kMaxReplyBodyBytes) return i;
  }
  return jobs.size();
}

}  // namespace

AudienceChannel::AudienceChannel(const ConductorConfig* config,
                                 const Trust* trust, PlayerRegistry* registry,
                                 JobBoard* board, JobStore* store,
                                 const StoreHealth* health, Outbox* outbox,
                                 const common::Clock* clock, Metrics* metrics)
    : config_(config),
      trust_(trust),
      registry_(registry),
      board_(board),
      store_(store),
      health_(health),
      outbox_(outbox),
      clock_(clock),
      metrics_(metrics) {}

void AudienceChannel::Reply(const Caller& c, broker::AudienceReplyBody body) {
  const bool final_reply = !std::holds_alternative<broker::ProgressReply>(body);
  std::optional<ErrorCode> error;
  if (const auto* e = std::get_if<broker::ErrorReply>(&body))
    error = e->error.code;
  const bool whole = outbox_->ToAudience(c.endpoint, c.peer, c.request_style,
                                         {c.req, std::move(body)}, c.fd);
  if (!whole) error = ErrorCode::kTooLarge;
  if (final_reply) metrics_->AudienceReplied(c.op, error);
}

void AudienceChannel::Fail(const Caller& c, ErrorCode code,
                           std::string message) {
  Reply(c, broker::ErrorReply{{code, std::move(message), {}}});
}

bool AudienceChannel::Writable(const Caller& c) {
  if (health_->writable()) return true;
  Fail(c, ErrorCode::kUnavailable, health_->reason() + "; try again later");
  return false;
}

Status AudienceChannel::Handle(size_t endpoint, const broker::Inbound& in) {
  // A client that does not read its replies gets no more work done for it:
  // every reply now would be dropped.
  if (outbox_->IsFull(endpoint, in.peer)) {
    if (ignored_log_.Allow(clock_->Monotonic()))
      common::LogWarning(
          "requests ignored reason=client-not-reading "
          "suppressed=%lld",
          static_cast<long long>(ignored_log_.TakeSuppressed()));
    return Status();
  }
  Caller caller;
  caller.endpoint = endpoint;
  caller.peer = in.peer;
  caller.request_style = in.request_style;
  caller.key_name = in.user_id;
  caller.key = in.key;
  caller.epoch = in.epoch;
  caller.fd = in.fd;
  caller.submitter = in.user_id.empty()
                         ? "uid:" + std::to_string(PeerUid(in.peer_address))
                         : "key:" + in.user_id;
  if (in.malformed) {
    Fail(caller, ErrorCode::kBadRequest,
         "a request is one frame holding one msgpack map");
    return Status();
  }
  broker::DecodedRequest request = broker::DecodeAudienceRequest(in.payload);
  caller.req = request.req;
  if (request.op) caller.op = static_cast<int>(request.op->index());
  if (stopping_) {
    Fail(caller, ErrorCode::kUnavailable,
         "the conductor is stopping; ask again once it is back");
    return Status();
  }
  if (!request.op) {
    common::LogInfo("request refused code=%s error=%s",
                    broker::ErrorCodeName(request.error.code),
                    common::LogQuote(request.error.message).c_str());
    Fail(caller, request.error.code, request.error.message);
    return Status();
  }
  return Route(caller, *request.op, in);
}

Status AudienceChannel::Route(const Caller& c, const AudienceOp& op,
                              const broker::Inbound& in) {
  const AudienceGrant* grant = nullptr;
  if (!FindGrant(c, in, &grant)) return Status();
  if (auto* r = std::get_if<broker::SubmitRequest>(&op))
    return On(c, *r, in, grant);
  if (auto* r = std::get_if<broker::WaitRequest>(&op)) return On(c, *r, grant);
  if (auto* r = std::get_if<broker::CancelRequest>(&op))
    return On(c, *r, grant);
  if (std::holds_alternative<broker::SqlRequest>(op)) {
    // TODO(cell): run the statement read-only (DESIGN.md section 17).
    Fail(c, ErrorCode::kUnavailable, "the sql op is not implemented yet");
    return Status();
  }
  // Reads answer from what is committed: they need not wait for the
  // commits in flight.
  outbox_->set_committed_only(true);
  Status s;
  if (auto* r = std::get_if<broker::StatusRequest>(&op))
    s = On(c, *r, grant);
  else if (auto* r = std::get_if<broker::JobsRequest>(&op))
    s = On(c, *r, grant);
  else
    s = On(c, std::get<broker::PlayersRequest>(op), grant);
  outbox_->set_committed_only(false);
  return s;
}

// The first request of a connection whose key was taken back is told so;
// libzmq cannot close a connection after a reply without losing the reply,
// so a connection that asks again is closed instead.
bool AudienceChannel::FindGrant(const Caller& c, const broker::Inbound& in,
                                const AudienceGrant** grant) {
  *grant = nullptr;
  // ipc: the socket's mode and group guard it (Curve endpoints never admit
  // a connection without a key).
  if (c.key_name.empty() && c.key.empty()) return true;
  *grant = trust_->AudienceGrantFor(c.key_name, c.key, c.epoch);
  if (*grant != nullptr) return true;
  metrics_->AuthDenied(AuthChannel::kAudience);
  const bool again = RefusedBefore(c.peer);
  const bool closed = again && broker::Close(broker::ConnectionOf(in));
  if (refusal_log_.Allow(clock_->Monotonic()))
    common::LogWarning(
        "request refused key=%s fingerprint=%s reason=key-taken-back "
        "connection=%s suppressed=%lld",
        c.key_name.c_str(), broker::KeyFingerprint(c.key).c_str(),
        closed ? "closed" : "open",
        static_cast<long long>(refusal_log_.TakeSuppressed()));
  if (!again)
    Fail(c, ErrorCode::kUnauthorized,
         "audience key '" + c.key_name +
             "' is no longer in the audience keys file with this public key, "
             "or is revoked");
  return false;
}

bool AudienceChannel::RefusedBefore(const std::string& peer) {
  if (!refused_.insert(peer).second) return true;
  refused_order_.push_back(peer);
  if (refused_order_.size() > kMaxRefused) {
    refused_.erase(refused_order_.front());
    refused_order_.pop_front();
  }
  return false;
}

void AudienceChannel::LogRefusal(const Caller& c, const char* op,
                                 const std::string& why) const {
  common::LogWarning(
      "request refused op=%s key=%s code=unauthorized "
      "error=%s",
      op, c.key_name.c_str(), common::LogQuote(why).c_str());
}

std::string AudienceChannel::CheckTargets(const broker::SubmitRequest& r,
                                          ErrorCode* code) const {
  std::string unknown;
  size_t count = 0;
  for (const std::string& player : r.players) {
    if (trust_->listed()->count(player)) continue;
    if (++count <= 10) unknown += (unknown.empty() ? "" : ", ") + player;
  }
  if (count > 0) {
    *code = ErrorCode::kInvalidPlayer;
    return "not in the players file: " + unknown +
           (count > 10 ? " and " + std::to_string(count - 10) + " more" : "");
  }
  for (const std::string& player : r.players) {
    if (!registry_->LacksScore(player, r.score)) return "";
  }
  *code = ErrorCode::kUnknownScore;
  return "no listed player has score '" + r.score +
         "' (per their latest score lists)";
}

std::string AudienceChannel::SubmittedBy(const broker::Inbound& in) const {
  if (!in.user_id.empty()) return in.user_id;
  const int64_t uid = PeerUid(in.peer_address);
  if (uid < 0) return "local";
  // getpwuid_r reads /etc/passwd each time: a submit-heavy client made it
  // a tenth of the conductor's work. Names are cached until the next
  // reload (SIGHUP).
  auto it = user_names_.find(uid);
  if (it != user_names_.end()) return it->second;
  if (user_names_.size() >= kMaxUserNames) user_names_.clear();
  return user_names_[uid] = UserName(uid);
}

std::optional<JobRecord> AudienceChannel::Read(const Caller& c, JobId job,
                                               const AudienceGrant* grant,
                                               int64_t from, int64_t limit) {
  // Paged from the store, finished or not (memory holds no params or
  // outputs; the store has this turn's changes): only the page's rows are
  // read.
  JobVisible visible;
  if (grant != nullptr)
    visible = [grant](const JobRecord& header) {
      return grant->MaySee(header.score, header.players);
    };
  Result<std::optional<JobRecord>> page = ReadJobPage(
      store_, job, from, limit, broker::kMaxReplyBodyBytes, visible);
  if (!page.ok()) {
    common::LogError("job read failed job=%lld error=%s",
                     static_cast<long long>(job),
                     common::LogQuote(page.status().ToString()).c_str());
    Fail(c, ErrorCode::kUnavailable,
         "job " + std::to_string(job) +
             " could not be read from the conductor's database; try again");
    return std::nullopt;
  }
  if (!page.value()) {
    Fail(c, ErrorCode::kNotFound, "no job " + std::to_string(job));
    return std::nullopt;
  }
  board_->ExplainWaiting(&*page.value());  // Unfinished jobs only
  return std::move(page.value());
}

Status AudienceChannel::On(const Caller& c, const broker::SubmitRequest& r,
                           const broker::Inbound& in,
                           const AudienceGrant* grant) {
  if (!r.target.empty()) {
    std::optional<broker::SubmitRequest> resolved = ResolveTarget(c, r);
    return resolved ? Submit(c, *resolved, in, grant) : Status();
  }
  return Submit(c, r, in, grant);
}

// A target is resolved once, here, against the listed players (connected
// or not): the job keeps the expression and the names it stood for. A
// limited key must be allowed each of them (Submit checks).
std::optional<broker::SubmitRequest> AudienceChannel::ResolveTarget(
    const Caller& c, const broker::SubmitRequest& r) {
  Result<std::vector<std::string>> players = ResolvePlayers(r.target);
  if (!players.ok()) {
    Fail(c, ErrorCode::kInvalidTarget, players.status().message());
    return std::nullopt;
  }
  if (players.value().size() > kMaxJobPlayers) {
    Fail(c, ErrorCode::kInvalidTarget,
         "target '" + r.target + "' matches " +
             std::to_string(players.value().size()) +
             " players; a job may have at most " +
             std::to_string(kMaxJobPlayers));
    return std::nullopt;
  }
  broker::SubmitRequest resolved = r;
  resolved.players = std::move(players.value());
  return resolved;
}

Result<std::vector<std::string>> AudienceChannel::ResolvePlayers(
    const std::string& text) const {
  Result<Target> target = Target::Parse(text);
  if (!target.ok()) return target.status();
  return target.value().Resolve(
      *trust_->listed(),
      [this](const std::string& n) { return trust_->LabelsOf(n); });
}

Status AudienceChannel::Submit(const Caller& c, const broker::SubmitRequest& r,
                               const broker::Inbound& in,
                               const AudienceGrant* grant) {
  ErrorCode code = ErrorCode::kUnauthorized;
  std::string problem = grant ? grant->WhyNotSubmit(r.score, r.players) : "";
  if (!problem.empty()) {
    LogRefusal(c, "submit", problem);
    Fail(c, code, problem);
    return Status();
  }
  const std::string submitted_by = SubmittedBy(in);
  bool conflict = false;
  Result<std::optional<JobId>> earlier =
      Resubmitted(c, r, submitted_by, &conflict);
  if (!earlier.ok()) {
    common::LogError("idempotency key read failed error=%s",
                     common::LogQuote(earlier.status().ToString()).c_str());
    Fail(c, ErrorCode::kUnavailable,
         StoreHealth::Describe(earlier.status()) + "; try again later");
    return Status();
  }
  if (conflict) return Status();
  if (earlier.value()) {  // Read from what is committed: also while failed
    Reply(c, broker::SubmitReply{*earlier.value()});
    return Status();
  }
  problem = CheckTargets(r, &code);
  if (!problem.empty()) {
    Fail(c, code, problem);
    return Status();
  }
  if (!Writable(c)) return Status();
  Result<JobId> job =
      board_->Submit(r, submitted_by, config_->default_delivery_timeout_s);
  if (!job.ok()) {
    Fail(c, ErrorCode::kUnavailable,
         StoreHealth::Describe(job.status()) + "; try again later");
    return job.status();
  }
  Reply(c, broker::SubmitReply{job.value()});
  return Status();
}

// Idempotency keys belong to their submitter: the same key from another
// submitter is another job. The same key with another request is a
// mistake worth saying, not a job to hand back.
Result<std::optional<JobId>> AudienceChannel::Resubmitted(
    const Caller& c, const broker::SubmitRequest& r,
    const std::string& submitted_by, bool* conflict) {
  *conflict = false;
  if (r.key.empty()) return std::optional<JobId>();
  Result<std::optional<JobId>> earlier =
      store_->FindJobByKey(submitted_by, r.key);
  if (!earlier.ok() || !earlier.value()) return earlier;
  int64_t tasks = 0;  // The request is compared with the header alone
  Result<std::optional<JobRecord>> job =
      store_->LoadJobHeader(*earlier.value(), &tasks);
  if (!job.ok()) return job.status();
  const std::optional<JobRecord>& found = job.value();
  if (found && found->score == r.score && found->scope == r.scope &&
      found->target == r.target &&
      (!r.target.empty() || found->players == r.players) &&
      found->params == r.params)
    return earlier;
  *conflict = true;
  Fail(c, ErrorCode::kConflict,
       "idempotency key '" + r.key + "' was used for job " +
           std::to_string(*earlier.value()) +
           " with a different request (score, scope, players or target, "
           "params); use a new key for a new job");
  return std::optional<JobId>();
}

Status AudienceChannel::On(const Caller& c, const broker::StatusRequest& r,
                           const AudienceGrant* grant) {
  std::optional<JobRecord> job =
      Read(c, r.job, grant, r.tasks_from, r.tasks_limit);
  if (job) Reply(c, broker::JobReply{std::move(*job), false});
  return Status();
}

Status AudienceChannel::On(const Caller& c, const broker::WaitRequest& r,
                           const AudienceGrant* grant) {
  const JobRecord* active = board_->FindActive(r.job);
  // A job whose finish is not committed yet is waited for until it is.
  std::optional<JobRecord> settling;
  if (active == nullptr && Settling(r.job)) {
    int64_t tasks = 0;
    Result<std::optional<JobRecord>> header =
        store_->LoadJobHeader(r.job, &tasks);
    if (header.ok() && header.value()) settling = std::move(*header.value());
    if (settling) active = &*settling;
  }
  if (active && grant && !grant->MaySee(active->score, active->players))
    active = nullptr;  // Read() below answers not_found
  if (active) {
    Waiter w;
    w.job = r.job;
    w.caller = c;
    w.deadline = r.timeout_ms > 0 ? clock_->Monotonic() + r.timeout_ms : 0;
    w.progress = r.progress && !c.request_style && !settling;  // REQ: one
    const WaitList::Added added = waits_.Add(w);
    if (added != WaitList::Added::kYes) {
      Fail(c, ErrorCode::kBusy,
           added == WaitList::Added::kSubmitterFull
               ? "you have " + std::to_string(kMaxWaitsPerSubmitter) +
                     " waits pending, the most one submitter may; wait for "
                     "some to end, then ask again"
               : "the conductor has " + std::to_string(kMaxWaits) +
                     " waits pending, the most it keeps; ask again later");
      return Status();
    }
    if (w.progress) {
      // Every progress waiter of a job has seen the same counts: a change
      // not sent yet goes to all of them now, with the newcomer's first.
      broker::Progress p = ProgressOf(*active);
      std::map<std::string, int64_t>& sent = progress_sent_[r.job];
      if (p.by_state == sent) {
        Reply(c, broker::ProgressReply{std::move(p)});
      } else {
        sent = p.by_state;
        waits_.ForEachProgress(r.job, [&](const Waiter& each) {
          Reply(each.caller, broker::ProgressReply{p});
        });
      }
    }
    return Status();
  }
  // Finished, not visible, or no such job.
  return On(c, broker::StatusRequest{r.job}, grant);
}

// A restricted key may cancel only the jobs it could submit now: its grant
// says what it may run, and stopping a job is a way of deciding what runs.
// Any other job does not exist for it.
Status AudienceChannel::On(const Caller& c, const broker::CancelRequest& r,
                           const AudienceGrant* grant) {
  if (grant != nullptr && grant->restricted()) {
    std::optional<JobRecord> job = Read(c, r.job, grant);
    if (!job) return Status();
  }
  if (!Writable(c)) return Status();
  Status s = board_->Cancel(r.job);
  if (!s.ok() && s.code() != Status::Code::kNotFound) {
    Fail(c, ErrorCode::kUnavailable,
         StoreHealth::Describe(s) + "; try again later");
    return s;
  }
  if (s.ok()) {  // The reply shows the cancel: read once it is committed
    read_backs_.push_back(ReadBack{0, c, r.job});
    return Status();
  }
  return On(c, broker::StatusRequest{r.job}, grant);
}

Status AudienceChannel::On(const Caller& c, const broker::JobsRequest& r,
                           const AudienceGrant* grant) {
  Result<std::vector<broker::JobSummary>> jobs =
      store_->ListJobs(r, grant && grant->restricted() ? grant : nullptr);
  if (!jobs.ok()) {
    common::LogError("job list failed error=%s",
                     common::LogQuote(jobs.status().ToString()).c_str());
    Fail(c, ErrorCode::kUnavailable,
         "the job list could not be read from the conductor's database; "
         "try again");
    return Status();
  }
  broker::JobsReply reply;
  reply.jobs = std::move(jobs.value());
  const size_t fit = Fitting(reply.jobs);
  reply.jobs_omitted = static_cast<int64_t>(reply.jobs.size() - fit);
  reply.jobs.resize(fit);
  Reply(c, std::move(reply));
  return Status();
}

// Players are listed by name; a page ends at the request's limit or when
// the next player would not fit, and counts the players it left out.
Status AudienceChannel::On(const Caller& c, const broker::PlayersRequest& r,
                           const AudienceGrant* grant) {
  std::optional<Target> target;
  if (!r.target.empty()) {
    Result<Target> parsed = Target::Parse(r.target);
    if (!parsed.ok()) {
      Fail(c, ErrorCode::kInvalidTarget, parsed.status().message());
      return Status();
    }
    target = std::move(parsed.value());
  }
  static const Labels kNoLabels;
  broker::PlayersReply reply;
  size_t used = 0;
  const std::set<std::string>& listed = *trust_->listed();
  for (auto it = listed.upper_bound(r.after); it != listed.end(); ++it) {
    if (grant && !grant->MaySeePlayer(*it)) continue;
    if (target) {
      const Labels* labels = trust_->LabelsOf(*it);
      if (!target->Matches(*it, labels ? *labels : kNoLabels)) continue;
    }
    if (reply.players_omitted == 0 &&
        static_cast<int64_t>(reply.players.size()) < r.limit) {
      broker::PlayerInfo info = Info(*it);
      const size_t size = broker::EncodedSize(info);
      if (used + size <= broker::kMaxReplyBodyBytes) {
        used += size;
        reply.players.push_back(std::move(info));
        continue;
      }
    }
    ++reply.players_omitted;
  }
  Reply(c, std::move(reply));
  return Status();
}

broker::PlayerInfo AudienceChannel::Info(const std::string& name) const {
  broker::PlayerInfo info;
  info.name = name;
  if (const Labels* labels = trust_->LabelsOf(name)) info.labels = *labels;
  if (const PlayerState* p = registry_->Find(name)) {
    info.connected = !p->peer.empty();
    info.last_seen = p->last_seen;
    info.version = p->version;
    info.slots = p->slots;
    for (const broker::ScoreInfo& s : p->scores) info.scores.push_back(s.name);
  }
  info.running = static_cast<int64_t>(board_->Unfinished(name));
  return info;
}

// Each finished job is read from the store once, however many wait for it.
bool AudienceChannel::Settling(JobId job) const {
  return settling_.count(job) > 0 || board_->FinishedThisTurn(job);
}

void AudienceChannel::Finishing(const std::vector<JobId>& jobs) {
  settling_.insert(jobs.begin(), jobs.end());
}

void AudienceChannel::Seal(uint64_t turn) {
  for (ReadBack& r : read_backs_) {
    if (r.turn == 0) r.turn = turn;
  }
}

// Read with no grant: the caller was allowed to see the job when it asked.
void AudienceChannel::Committed(uint64_t turn) {
  std::vector<ReadBack> later;
  for (ReadBack& r : read_backs_) {
    if (r.turn == 0 || r.turn > turn) {
      later.push_back(std::move(r));
      continue;
    }
    (void)On(r.caller, broker::StatusRequest{r.job}, nullptr);
  }
  read_backs_.swap(later);
}

void AudienceChannel::Abandon(const std::string& why) {
  for (const ReadBack& r : read_backs_)
    Fail(r.caller, ErrorCode::kUnavailable, why);
  read_backs_.clear();
  settling_.clear();
}

void AudienceChannel::Finished(const std::vector<JobId>& jobs) {
  for (JobId id : jobs) {
    settling_.erase(id);
    progress_sent_.erase(id);
    std::vector<Waiter> waiters = waits_.TakeJob(id);
    std::optional<JobRecord> page;
    for (const Waiter& w : waiters) {
      if (!page) page = Read(w.caller, id, nullptr, 0, broker::kMaxTasksLimit);
      if (page) Reply(w.caller, broker::JobReply{*page, false});
    }
  }
}

// A tick costs what expires and the jobs someone wants progress of, not
// every wait: progress is counted once per job and tick, and goes out only
// when the job's counts changed since the last that went out.
void AudienceChannel::Tick() {
  for (const Waiter& w : waits_.TakeExpired(clock_->Monotonic()))
    TimeUp(w.job, w.caller, true);
  for (JobId id : waits_.ProgressJobs()) {
    const JobRecord* active = board_->FindActive(id);
    if (active == nullptr && Settling(id)) continue;  // Finished() soon
    if (active == nullptr) {  // Ended without Finished(): answer anyway
      for (const Waiter& w : waits_.TakeJob(id)) TimeUp(id, w.caller, false);
      progress_sent_.erase(id);
      continue;
    }
    broker::Progress progress = ProgressOf(*active);
    std::map<std::string, int64_t>& sent = progress_sent_[id];
    if (progress.by_state == sent) continue;
    sent = progress.by_state;
    waits_.ForEachProgress(id, [&](const Waiter& w) {
      Reply(w.caller, broker::ProgressReply{progress});
    });
  }
}

// The wait was allowed to see `job` when it began.
void AudienceChannel::TimeUp(JobId job, const Caller& c, bool timed_out) {
  std::optional<JobRecord> record = Read(c, job, nullptr);
  if (record) Reply(c, broker::JobReply{std::move(*record), timed_out});
}

void AudienceChannel::TrustChanged() {
  std::vector<Waiter> dropped = waits_.TakeIf([this](const Waiter& w) {
    const Caller& c = w.caller;
    if (c.key_name.empty() && c.key.empty()) return false;
    const AudienceGrant* grant =
        trust_->AudienceGrantFor(c.key_name, c.key, c.epoch);
    const JobRecord* job = board_->FindActive(w.job);
    return grant == nullptr ||
           (job && !grant->MaySee(job->score, job->players));
  });
  for (const Waiter& w : dropped) {
    const Caller& c = w.caller;
    if (trust_->AudienceGrantFor(c.key_name, c.key, c.epoch) == nullptr)
      Fail(c, ErrorCode::kUnauthorized,
           "audience key '" + c.key_name + "' was taken back while it waited");
    else
      Fail(c, ErrorCode::kNotFound, "no job " + std::to_string(w.job));
  }
}

void AudienceChannel::Stop() {
  stopping_ = true;
  for (const Waiter& w : waits_.TakeIf([](const Waiter&) { return true; })) {
    Fail(w.caller, ErrorCode::kUnavailable,
         "the conductor is stopping before job " + std::to_string(w.job) +
             " finished; wait again once it is back");
  }
  progress_sent_.clear();
}

}  // namespace orchestra::conductor
