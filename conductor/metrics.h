// Metrics holds the conductor's Prometheus counters and histograms
// (DESIGN.md section 14) and renders them, with the Gauges the loop reads
// at scrape time, in the text format 0.0.4. The events of a turn count once
// its commit succeeded (TurnCommitted()); an undone turn's are dropped, see
// metrics.cc. Memory is fixed. Everything, the per-minute figures too,
// counts from the conductor's start: nothing is read back from the
// database. One method per event it counts. Owned by the loop thread.

#ifndef ORCHESTRA_CONDUCTOR_METRICS_H_
#define ORCHESTRA_CONDUCTOR_METRICS_H_

#include <array>
#include <cstdint>
#include <deque>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "broker/audience_protocol.h"
#include "broker/states.h"
#include "common/clock.h"
#include "conductor/process_stats.h"

namespace orchestra::conductor {

// What the loop computes at scrape time (Core::MetricGauges()).
struct Gauges {
  std::map<std::string, int64_t> tasks;  // QUEUED, DISPATCHED, RUNNING: all
  double oldest_queued_task_age_seconds = 0;  // 0 when nothing is queued
  int64_t players_connected = 0;
  int64_t players_busy = 0;     // connected, a task sent to it not finished
  int64_t players_offline = 0;  // in the players file, not connected
  bool store_writable = true;
  std::string version;
  ProcessStats process;
};

// Where a key was refused: orchestra_auth_denied_total{channel}.
enum class AuthChannel { kPlayer, kAudience, kHttp };

class Metrics {
 public:
  // Audience ops: the alternatives of broker::AudienceOp, then `invalid`.
  static constexpr size_t kOps = std::variant_size_v<broker::AudienceOp> + 1;
  // Reply codes: `ok`, then each broker::ErrorCode.
  static constexpr size_t kCodes =
      static_cast<size_t>(broker::ErrorCode::kLastErrorCode) + 2;
  // Minutes the per-minute ring holds: an hour, the current minute and a
  // few to spare.
  static constexpr size_t kRingMinutes = 64;

  Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // Events of the current turn: they count at TurnCommitted().
  void JobSubmitted();
  void JobFinished(broker::JobState state);
  // A task reached final `state`; when `started_at` is set (wall clock)
  // its run from then to `finished_at` is timed.
  void TaskFinished(broker::TaskState state, common::TimeMs started_at,
                    common::TimeMs finished_at);
  // A task was sent to a player `queued_ms` after it was queued.
  void TaskDispatched(common::TimeMs queued_ms);
  // The final reply to a request of op `op` (an index of broker::AudienceOp;
  // anything else is `invalid`): OK when `error` is unset.
  void AudienceReplied(int op, std::optional<broker::ErrorCode> error);
  // While on, events rest on nothing uncommitted (replies read from what
  // is committed): they count when it is turned off, in the minute of
  // `now_wall`.
  void set_committed_only(bool on, common::TimeMs now_wall);
  // The events so far are those of turn `turn`, whose writes went to the
  // store's thread.
  void SealTurn(uint64_t turn);
  // Turns up to `turn` are committed: their events count, what finished
  // in the minute of `now_wall`.
  void TurnCommitted(uint64_t turn, common::TimeMs now_wall);
  // The turns not yet committed were undone: their job and task events
  // are dropped; their replies count as `unavailable` when
  // `replies_abandoned` (Outbox::Abandon()).
  void TurnUndone(bool replies_abandoned);

  // Counted at once.
  void AuthDenied(AuthChannel channel);
  // A ZAP refusal on `domain` (broker::kPlayerDomain or kAudienceDomain;
  // another domain is not counted).
  void ZapDenied(std::string_view domain);
  // A commit of the store took `seconds`.
  void StoreCommitted(double seconds);

  // Every metric, with `g`, in the Prometheus text format 0.0.4.
  std::string Render(const Gauges& g) const;
  // Tasks finished in each of the 60 minutes up to the one holding
  // `now_wall`, oldest first: final task state name -> count (all of them).
  std::vector<std::map<std::string, int64_t>> FinishedPerMinute(
      common::TimeMs now_wall) const;
  // Jobs finished, by final job state name, in the minutes from the one
  // holding `since_wall` on (at most the ring's kRingMinutes).
  std::map<std::string, int64_t> JobsFinishedSince(
      common::TimeMs since_wall) const;

 private:
  // Observations by bucket (the last one past the highest bound), their
  // sum and number.
  class Histogram {
   public:
    static constexpr size_t kMaxBounds = 16;
    template <size_t N>
    explicit Histogram(const std::array<double, N>& bounds)
        : bounds_(bounds.data()), size_(N) {
      static_assert(N <= kMaxBounds, "too many buckets");
    }
    void Observe(double value);
    void Add(const Histogram& other);
    void Clear();
    // `name`_bucket (cumulative, ending with +Inf), _sum and _count.
    void Render(const char* name, std::string* out) const;

   private:
    const double* bounds_;
    size_t size_;
    std::array<int64_t, kMaxBounds + 1> counts_{};
    double sum_ = 0;
    int64_t count_ = 0;
  };
  // What the events of a turn, or of all committed turns, add up to.
  struct Counts {
    Counts();
    void Add(const Counts& other);
    void Clear();

    bool empty = true;
    int64_t jobs_submitted = 0;
    std::array<int64_t, broker::kJobStateCount> jobs_finished{};
    std::array<int64_t, broker::kTaskStateCount> tasks_finished{};
    std::array<std::array<int64_t, kCodes>, kOps> audience{};
    Histogram queue;
    Histogram duration;
  };
  // What finished in one minute of wall-clock time.
  struct Minute {
    int64_t minute = std::numeric_limits<int64_t>::min();  // none yet
    std::array<int64_t, broker::kTaskStateCount> tasks{};
    std::array<int64_t, broker::kJobStateCount> jobs{};
  };

  Minute& MinuteAt(int64_t minute);
  void RenderCounters(std::string* out) const;
  void RenderAudience(std::string* out) const;

  void Count(const Counts& turn, common::TimeMs now_wall);

  Counts turn_;
  Counts committed_;
  Counts* open_ = &turn_;  // where events go: turn_ or committed_
  std::deque<std::pair<uint64_t, Counts>> sealed_;
  Counts total_;
  std::array<Minute, kRingMinutes> ring_;
  std::array<int64_t, 3> auth_denied_{};  // by AuthChannel
  Histogram commit_;
};

}  // namespace orchestra::conductor

#endif  // ORCHESTRA_CONDUCTOR_METRICS_H_
