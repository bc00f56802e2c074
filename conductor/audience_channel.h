// AudienceChannel answers the audience ops of DESIGN.md section 4 (submit,
// status, wait, cancel, jobs, players). Every request gets exactly one
// final reply; `wait` is answered when its job finishes (pushed, nobody
// polls) or its time is up. Requests over Curve are held to the grant of
// the key that opened their connection, looked up by key on every request
// (Trust): a key taken back gets `unauthorized`, and its connection is
// closed if it asks again. A limited key sees only the jobs and players it
// could submit to (DESIGN.md section 6). While the store is unwritable
// (StoreHealth), submits and cancels are `unavailable` and reads answer
// from what is committed. Each final reply is counted in Metrics (by op
// and code), and each request refused for its key as an auth denial.
// Owned by the conductor's loop thread.

#ifndef ORCHESTRA_CONDUCTOR_AUDIENCE_CHANNEL_H_
#define ORCHESTRA_CONDUCTOR_AUDIENCE_CHANNEL_H_

#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "broker/audience_protocol.h"
#include "broker/endpoint.h"
#include "common/clock.h"
#include "common/rate_limit.h"
#include "common/status.h"
#include "conductor/audience_keys.h"
#include "conductor/config.h"
#include "conductor/job_board.h"
#include "conductor/job_store.h"
#include "conductor/metrics.h"
#include "conductor/outbox.h"
#include "conductor/player_registry.h"
#include "conductor/report_query.h"
#include "conductor/store_health.h"
#include "conductor/trust.h"
#include "conductor/wait_list.h"

namespace orchestra::conductor {

class AudienceChannel {
 public:
  // `trust` and `metrics` must outlive us.
  AudienceChannel(const ConductorConfig* config, const Trust* trust,
                  PlayerRegistry* registry, JobBoard* board, JobStore* store,
                  const StoreHealth* health, Outbox* outbox,
                  const common::Clock* clock, Metrics* metrics);

  // Answers one request from audience endpoint number `endpoint`. A non-OK
  // status is a failed store write (the request was answered
  // `unavailable`); bad requests get error replies.
  common::Status Handle(size_t endpoint, const broker::Inbound& in);

  // What the players list says of player `name` (the web page's too).
  broker::PlayerInfo Info(const std::string& name) const;

  // Jobs that finished in a turn now sealed: a wait for one is held until
  // Finished(), so that it reads the job's final state.
  void Finishing(const std::vector<JobId>& jobs);
  // Answers the waits of jobs whose finish is committed.
  void Finished(const std::vector<JobId>& jobs);
  // What the open turn must read back once committed (a cancel's reply)
  // rests on turn `turn`.
  void Seal(uint64_t turn);
  // Turns up to `turn` are committed: answers what rested on them.
  void Committed(uint64_t turn);
  // The turns in flight were undone: what rested on them is told `why`
  // (`unavailable`), and their finished jobs are active again.
  void Abandon(const std::string& why);

  // Answers waits whose time is up and sends progress to those that asked.
  void Tick();

  // The trust lists changed (SIGHUP): waits of connections whose key was
  // taken back end with `unauthorized`, and waits for jobs their key may
  // no longer see with `not_found`.
  void TrustChanged();

  // The conductor is stopping: answers every wait, and from now on every
  // request, with `unavailable`.
  void Stop();

  // New settings (SIGHUP); also forgets the cached user names.
  void set_config(const ConductorConfig* config) {
    config_ = config;
    user_names_.clear();
  }

 private:
  // Routes a valid request to its op's handler.
  common::Status Route(const Caller& caller, const broker::AudienceOp& op,
                       const broker::Inbound& in);
  // The grant a Curve caller is held to; false (after an `unauthorized`
  // reply, or closing a connection refused before) when its key was taken
  // back. Null for local callers.
  bool FindGrant(const Caller& c, const broker::Inbound& in,
                 const AudienceGrant** grant);
  // Remembers that `peer` was refused; true if it was already.
  bool RefusedBefore(const std::string& peer);
  void LogRefusal(const Caller& c, const char* op,
                  const std::string& why) const;
  common::Status On(const Caller& c, const broker::SubmitRequest& r,
                    const broker::Inbound& in, const AudienceGrant* grant);
  common::Status On(const Caller& c, const broker::StatusRequest& r,
                    const AudienceGrant* grant);
  common::Status On(const Caller& c, const broker::WaitRequest& r,
                    const AudienceGrant* grant);
  common::Status On(const Caller& c, const broker::CancelRequest& r,
                    const AudienceGrant* grant);
  common::Status On(const Caller& c, const broker::JobsRequest& r,
                    const AudienceGrant* grant);
  common::Status On(const Caller& c, const broker::PlayersRequest& r,
                    const AudienceGrant* grant);
  common::Status On(const Caller& c, const broker::SqlRequest& r,
                    const AudienceGrant* grant);
  // Answers a request with a target invalid_target: not resolved yet.
  // The request with `players` resolved from its target, or nullopt after
  // an `invalid_target` reply.
  std::optional<broker::SubmitRequest> ResolveTarget(
      const Caller& c, const broker::SubmitRequest& r);
  common::Result<std::vector<std::string>> ResolvePlayers(
      const std::string& target) const;
  // A submit whose players are names (listed or resolved).
  common::Status Submit(const Caller& c, const broker::SubmitRequest& r,
                        const broker::Inbound& in, const AudienceGrant* grant);
  // The job an earlier submit of this submitter with key `r.key` made, or
  // nullopt; `conflict` (false after the error reply) when that job was
  // made by a different request.
  common::Result<std::optional<JobId>> Resubmitted(
      const Caller& c, const broker::SubmitRequest& r,
      const std::string& submitted_by, bool* conflict);
  std::string CheckTargets(const broker::SubmitRequest& r,
                           broker::ErrorCode* code) const;
  std::string SubmittedBy(const broker::Inbound& in) const;
  // The page of `job`'s record that one reply carries (RecordPager: its
  // tasks from index `from` on, at most `limit`), or nullopt after a
  // `not_found` or `unavailable` reply (a store read that failed is
  // logged, not fatal). A job `grant` may not see is `not_found`, exactly
  // as a job that does not exist.
  std::optional<JobRecord> Read(const Caller& c, JobId job,
                                const AudienceGrant* grant, int64_t from = 0,
                                int64_t limit = broker::kMaxTasksLimit);

  // Answers a wait whose job ended elsewhere or whose time is up.
  void TimeUp(JobId job, const Caller& c, bool timed_out);
  // Queues `body` for `c`; a final reply (not progress) is counted.
  void Reply(const Caller& c, broker::AudienceReplyBody body);
  void Fail(const Caller& c, broker::ErrorCode code, std::string message);
  // False, after an `unavailable` reply, while the store takes no writes.
  bool Writable(const Caller& c);
  // Job `job` finished, in this turn or one not committed yet: its final
  // state is not readable yet.
  bool Settling(JobId job) const;

  const ConductorConfig* config_;
  const Trust* trust_;
  PlayerRegistry* registry_;
  JobBoard* board_;
  JobStore* store_;
  const StoreHealth* health_;
  Outbox* outbox_;
  const common::Clock* clock_;
  Metrics* metrics_;
  bool stopping_ = false;
  WaitList waits_;
  std::set<JobId> settling_;             // Finishing(), not Finished() yet
  std::unique_ptr<ReportQuery> report_;  // made at the first sql op
  // A reply to read from the store once turn `turn` (0: the open one) is
  // committed.
  struct ReadBack {
    uint64_t turn = 0;
    Caller caller;
    JobId job = 0;
  };
  std::vector<ReadBack> read_backs_;
  // Job -> the progress counts last sent to its waiters.
  std::map<JobId, std::map<std::string, int64_t>> progress_sent_;
  static constexpr size_t kMaxUserNames = 1024;
  mutable std::unordered_map<int64_t, std::string> user_names_;  // by uid
  // Routing ids of connections refused once (bounded: the oldest are
  // forgotten, and then refused once more before they are closed).
  static constexpr size_t kMaxRefused = 4096;
  std::unordered_set<std::string> refused_;
  std::deque<std::string> refused_order_;
  common::RateLimit refusal_log_{10, 60000};  // lines a minute, in all
  common::RateLimit ignored_log_{10, 60000};
};

}  // namespace orchestra::conductor

#endif  // ORCHESTRA_CONDUCTOR_AUDIENCE_CHANNEL_H_
