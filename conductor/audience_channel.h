// AudienceChannel answers the audience ops of DESIGN.md section 4 (submit,
// status, wait, cancel, jobs, players). Every request gets exactly one
// final reply; `wait` is answered when its job finishes (pushed, nobody
// polls) or its time is up. Requests over Curve are held to their audience
// key's grant. Owned by the conductor's loop thread.

#ifndef ORCHESTRA_CONDUCTOR_AUDIENCE_CHANNEL_H_
#define ORCHESTRA_CONDUCTOR_AUDIENCE_CHANNEL_H_

#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "broker/audience_protocol.h"
#include "broker/endpoint.h"
#include "common/clock.h"
#include "common/status.h"
#include "conductor/audience_keys.h"
#include "conductor/config.h"
#include "conductor/job_board.h"
#include "conductor/job_store.h"
#include "conductor/outbox.h"
#include "conductor/player_registry.h"

namespace orchestra::conductor {

class AudienceChannel {
 public:
  // `listed` is the players file's names; it must outlive us.
  AudienceChannel(const ConductorConfig* config,
                  const std::set<std::string>* listed,
                  PlayerRegistry* registry, JobBoard* board, JobStore* store,
                  Outbox* outbox, const common::Clock* clock);

  // Answers one request from audience endpoint number `endpoint`. A non-OK
  // status is a store failure (fatal); bad requests get error replies.
  common::Status Handle(size_t endpoint, const broker::Inbound& in);

  // Answers the waits of jobs that just finished.
  void Finished(const std::vector<JobRecord>& jobs);

  // Answers waits whose time is up and sends progress to those that asked.
  void Tick();

  // The conductor is stopping: answers every wait, and from now on every
  // request, with `unavailable`.
  void Stop();

  // New settings (SIGHUP); also forgets the cached user names.
  void set_config(const ConductorConfig* config) {
    config_ = config;
    user_names_.clear();
  }
  // The audience keys that Curve clients are held to; null: none. It must
  // outlive us (or be replaced first).
  void set_keys(const AudienceKeys* keys) { keys_ = keys; }

 private:
  struct Caller {  // where a reply goes
    size_t endpoint = 0;
    std::string peer;
    bool request_style = false;
    broker::RequestId req;
    std::string key_name;  // the Curve client's audience key; "" on ipc
  };
  struct Waiter {
    Caller caller;
    common::TimeMs deadline = 0;  // monotonic; 0 = none
    bool progress = false;
    std::map<std::string, int64_t> last_counts;  // progress last sent
  };

  common::Status Dispatch(const Caller& caller, const broker::AudienceOp& op,
                          const broker::Inbound& in);
  // The grant a Curve caller is held to; false (after an `unauthorized`
  // reply) when its key is no longer listed. Null for local callers.
  bool FindGrant(const Caller& c, const AudienceGrant** grant);
  void LogRefusal(const Caller& c, const char* op,
                  const std::string& why) const;
  common::Status On(const Caller& c, const broker::SubmitRequest& r,
                    const broker::Inbound& in, const AudienceGrant* grant);
  common::Status On(const Caller& c, const broker::StatusRequest& r);
  common::Status On(const Caller& c, const broker::WaitRequest& r);
  common::Status On(const Caller& c, const broker::CancelRequest& r,
                    const AudienceGrant* grant);
  common::Status On(const Caller& c, const broker::JobsRequest& r);
  common::Status On(const Caller& c, const broker::PlayersRequest& r);
  std::string CheckTargets(const broker::SubmitRequest& r,
                           broker::ErrorCode* code) const;
  std::string SubmittedBy(const broker::Inbound& in) const;
  // The record of `job`, or nullopt after a `not_found` or `unavailable`
  // reply (a store read that failed is logged, not fatal).
  std::optional<JobRecord> Read(const Caller& c, JobId job);

  // Answers a wait whose job ended elsewhere or whose time is up.
  void TimeUp(JobId job, const Caller& c, bool timed_out);
  void Reply(const Caller& c, broker::AudienceReplyBody body);
  void Fail(const Caller& c, broker::ErrorCode code, std::string message);

  const ConductorConfig* config_;
  const std::set<std::string>* listed_;
  PlayerRegistry* registry_;
  JobBoard* board_;
  JobStore* store_;
  Outbox* outbox_;
  const common::Clock* clock_;
  const AudienceKeys* keys_ = nullptr;
  bool stopping_ = false;
  std::multimap<JobId, Waiter> waiters_;
  static constexpr size_t kMaxUserNames = 1024;
  mutable std::unordered_map<int64_t, std::string> user_names_;  // by uid
};

}  // namespace orchestra::conductor

#endif  // ORCHESTRA_CONDUCTOR_AUDIENCE_CHANNEL_H_
