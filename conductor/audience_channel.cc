#include "conductor/audience_channel.h"

#include <pwd.h>

#include "common/log.h"
#include "common/text.h"

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
  for (size_t colon; (colon = peer_address.find(':', start)) !=
                     std::string::npos;
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
  if (getpwuid_r(static_cast<uid_t>(uid), &pw, buf, sizeof(buf), &found) ==
          0 &&
      found != nullptr)
    return found->pw_name;
  return "uid:" + std::to_string(uid);
}

}  // namespace

AudienceChannel::AudienceChannel(const ConductorConfig* config,
                                 const std::set<std::string>* listed,
                                 PlayerRegistry* registry, JobBoard* board,
                                 JobStore* store, Outbox* outbox,
                                 const common::Clock* clock)
    : config_(config),
      listed_(listed),
      registry_(registry),
      board_(board),
      store_(store),
      outbox_(outbox),
      clock_(clock) {}

void AudienceChannel::Reply(const Caller& c, broker::AudienceReplyBody body) {
  outbox_->ToAudience(c.endpoint, c.peer, c.request_style,
                      broker::EncodeAudienceReply({c.req, std::move(body)}));
}

void AudienceChannel::Fail(const Caller& c, ErrorCode code,
                           std::string message) {
  Reply(c, broker::ErrorReply{{code, std::move(message)}});
}

Status AudienceChannel::Handle(size_t endpoint, const broker::Inbound& in) {
  Caller caller{endpoint, in.peer, in.request_style, {}, in.user_id};
  if (in.malformed) {
    Fail(caller, ErrorCode::kBadRequest,
         "a request is one frame holding one msgpack map");
    return Status();
  }
  broker::DecodedRequest request = broker::DecodeAudienceRequest(in.payload);
  caller.req = request.req;
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
  return Dispatch(caller, *request.op, in);
}

Status AudienceChannel::Dispatch(const Caller& c, const AudienceOp& op,
                                 const broker::Inbound& in) {
  const AudienceGrant* grant = nullptr;
  if (!FindGrant(c, &grant)) return Status();
  if (auto* r = std::get_if<broker::SubmitRequest>(&op))
    return On(c, *r, in, grant);
  if (auto* r = std::get_if<broker::StatusRequest>(&op)) return On(c, *r);
  if (auto* r = std::get_if<broker::WaitRequest>(&op)) return On(c, *r);
  if (auto* r = std::get_if<broker::CancelRequest>(&op))
    return On(c, *r, grant);
  if (auto* r = std::get_if<broker::JobsRequest>(&op)) return On(c, *r);
  return On(c, std::get<broker::PlayersRequest>(op));
}

bool AudienceChannel::FindGrant(const Caller& c, const AudienceGrant** grant) {
  *grant = nullptr;
  if (c.key_name.empty()) return true;  // ipc: the socket's mode guards it
  *grant = keys_ ? keys_->Find(c.key_name) : nullptr;
  if (*grant != nullptr) return true;
  common::LogWarning("request refused key=%s reason=no-longer-listed",
                     c.key_name.c_str());
  Fail(c, ErrorCode::kUnauthorized,
       "audience key '" + c.key_name +
           "' is no longer in the audience keys file, or is revoked");
  return false;
}

void AudienceChannel::LogRefusal(const Caller& c, const char* op,
                                 const std::string& why) const {
  common::LogWarning("request refused op=%s key=%s code=unauthorized "
                     "error=%s",
                     op, c.key_name.c_str(), common::LogQuote(why).c_str());
}

std::string AudienceChannel::CheckTargets(const broker::SubmitRequest& r,
                                          ErrorCode* code) const {
  std::string unknown;
  size_t count = 0;
  for (const std::string& player : r.players) {
    if (listed_->count(player)) continue;
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

std::optional<JobRecord> AudienceChannel::Read(const Caller& c, JobId job) {
  Result<std::optional<JobRecord>> record = board_->Find(job);
  if (!record.ok()) {
    common::LogError("job read failed job=%lld error=%s",
                     static_cast<long long>(job),
                     common::LogQuote(record.status().ToString()).c_str());
    Fail(c, ErrorCode::kUnavailable,
         "job " + std::to_string(job) +
             " could not be read from the conductor's database; try again");
    return std::nullopt;
  }
  if (!record.value())
    Fail(c, ErrorCode::kNotFound, "no job " + std::to_string(job));
  return std::move(record.value());
}

Status AudienceChannel::On(const Caller& c, const broker::SubmitRequest& r,
                           const broker::Inbound& in,
                           const AudienceGrant* grant) {
  ErrorCode code = ErrorCode::kUnauthorized;
  std::string problem = grant ? grant->WhyNotSubmit(r.score, r.players) : "";
  if (!problem.empty()) LogRefusal(c, "submit", problem);
  if (problem.empty()) problem = CheckTargets(r, &code);
  if (!problem.empty()) {
    Fail(c, code, problem);
    return Status();
  }
  if (!r.key.empty()) {
    Result<std::optional<JobId>> existing = store_->FindJobByKey(r.key);
    if (!existing.ok()) return existing.status();
    if (existing.value()) {
      Reply(c, broker::SubmitReply{*existing.value()});
      return Status();
    }
  }
  Result<JobId> job = board_->Submit(r, SubmittedBy(in),
                                     config_->default_delivery_timeout_s);
  if (!job.ok()) return job.status();
  Reply(c, broker::SubmitReply{job.value()});
  return Status();
}

Status AudienceChannel::On(const Caller& c, const broker::StatusRequest& r) {
  std::optional<JobRecord> job = Read(c, r.job);
  if (job) Reply(c, broker::JobReply{std::move(*job), false});
  return Status();
}

Status AudienceChannel::On(const Caller& c, const broker::WaitRequest& r) {
  if (const JobRecord* active = board_->FindActive(r.job)) {
    Waiter w;
    w.caller = c;
    w.deadline = r.timeout_ms > 0 ? clock_->Monotonic() + r.timeout_ms : 0;
    w.progress = r.progress && !c.request_style;  // REQ takes one reply
    if (w.progress) {
      broker::Progress p = ProgressOf(*active);
      w.last_counts = p.by_state;
      Reply(c, broker::ProgressReply{std::move(p)});
    }
    waiters_.emplace(r.job, std::move(w));
    return Status();
  }
  return On(c, broker::StatusRequest{r.job});  // Finished, or no such job.
}

// A restricted key may cancel only the jobs it could submit now: its grant
// says what it may run, and stopping a job is a way of deciding what runs.
Status AudienceChannel::On(const Caller& c, const broker::CancelRequest& r,
                           const AudienceGrant* grant) {
  if (grant != nullptr && grant->restricted()) {
    std::optional<JobRecord> job = Read(c, r.job);
    if (!job) return Status();
    std::string problem = grant->WhyNotSubmit(job->score, job->players);
    if (!problem.empty()) {
      LogRefusal(c, "cancel", problem);
      Fail(c, ErrorCode::kUnauthorized,
           "cannot cancel job " + std::to_string(r.job) + ": " + problem);
      return Status();
    }
  }
  Status s = board_->Cancel(r.job);
  if (!s.ok() && s.code() != Status::Code::kNotFound) return s;
  return On(c, broker::StatusRequest{r.job});
}

Status AudienceChannel::On(const Caller& c, const broker::JobsRequest& r) {
  Result<std::vector<broker::JobSummary>> jobs = store_->ListJobs(r);
  if (!jobs.ok()) {
    common::LogError("job list failed error=%s",
                     common::LogQuote(jobs.status().ToString()).c_str());
    Fail(c, ErrorCode::kUnavailable,
         "the job list could not be read from the conductor's database; "
         "try again");
    return Status();
  }
  Reply(c, broker::JobsReply{std::move(jobs.value())});
  return Status();
}

Status AudienceChannel::On(const Caller& c, const broker::PlayersRequest&) {
  broker::PlayersReply reply;
  for (const std::string& name : *listed_) {
    broker::PlayerInfo info;
    info.name = name;
    if (const PlayerState* p = registry_->Find(name)) {
      info.connected = !p->peer.empty();
      info.last_seen = p->last_seen;
      info.version = p->version;
      info.slots = p->slots;
      for (const broker::ScoreInfo& s : p->scores)
        info.scores.push_back(s.name);
    }
    info.running = static_cast<int64_t>(board_->Unfinished(name));
    reply.players.push_back(std::move(info));
  }
  Reply(c, std::move(reply));
  return Status();
}

void AudienceChannel::Finished(const std::vector<JobRecord>& jobs) {
  for (const JobRecord& job : jobs) {
    auto [begin, end] = waiters_.equal_range(job.id);
    for (auto it = begin; it != end; ++it)
      Reply(it->second.caller, broker::JobReply{job, false});
    waiters_.erase(begin, end);
  }
}

// Progress goes out when a task changes state (at most once a tick), and
// is counted once per job and tick, however many wait for it.
void AudienceChannel::Tick() {
  const common::TimeMs now = clock_->Monotonic();
  for (auto it = waiters_.begin(); it != waiters_.end();) {
    const JobId id = it->first;
    const JobRecord* active = board_->FindActive(id);
    std::optional<broker::Progress> progress;
    for (; it != waiters_.end() && it->first == id;) {
      Waiter& w = it->second;
      if (active == nullptr || (w.deadline != 0 && now >= w.deadline)) {
        TimeUp(id, w.caller, active != nullptr);
        it = waiters_.erase(it);
        continue;
      }
      if (w.progress) {
        if (!progress) progress = ProgressOf(*active);
        if (progress->by_state != w.last_counts) {
          w.last_counts = progress->by_state;
          Reply(w.caller, broker::ProgressReply{*progress});
        }
      }
      ++it;
    }
  }
}

void AudienceChannel::TimeUp(JobId job, const Caller& c, bool timed_out) {
  std::optional<JobRecord> record = Read(c, job);
  if (record) Reply(c, broker::JobReply{std::move(*record), timed_out});
}

void AudienceChannel::Stop() {
  stopping_ = true;
  for (auto& [job, w] : waiters_) {
    Fail(w.caller, ErrorCode::kUnavailable,
         "the conductor is stopping before job " + std::to_string(job) +
             " finished; wait again once it is back");
  }
  waiters_.clear();
}

}  // namespace orchestra::conductor
