// When events count. A turn's writes may still be undone (a failed commit
// rolls them back and JobBoard::Reload() puts memory back where the
// database is; Core::StoreFailed()), so what the JobBoard records during a
// turn (a job submitted or finished, a task dispatched or finished) is held
// in turn_ and added up only when the Core's commit succeeded. An undone
// turn's events are dropped: the same job or task reaches the same state
// again in a later turn, and counts then, once. A reply to the audience is
// held the same way, because an undone turn's replies all become
// `unavailable` (Outbox::Abandon()). Refusals and commit times count at
// once: nothing undoes them. So a counter never counts what a crash could
// take back, and never counts one event twice. One corner is left: when a
// failed store comes back (Core::Reconcile() commits within a turn), the
// replies that turn made before count then, as sent; should the same
// turn's own commit fail after, they go out `unavailable` all the same.
//
// The per-minute figures put what a turn finished in the minute of its
// commit (the conductor's clock, a few milliseconds after each job's or
// task's finished_at; a player's clock says nothing here).
//
// Memory is fixed: every label takes values from a fixed set (states,
// ops, error codes, channels; never a job, task or player), the histograms
// have fixed buckets, and the per-minute figures live in a ring of
// kRingMinutes minutes, each overwritten when its slot comes round again.

#include "conductor/metrics.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <utility>

#include "broker/authenticator.h"

namespace orchestra::conductor {

using broker::ErrorCode;
using broker::JobState;
using broker::TaskState;

namespace {

// Task times span a score that ends at once (tens of milliseconds: a
// dispatch to an idle player, a quick check) to one that runs, or a task
// that waits for its player, for an hour; beyond that +Inf says enough.
// Roughly 1-2.5-5 steps keep the quantiles within a factor of about two.
constexpr std::array<double, 16> kTaskBounds = {
    0.01, 0.05, 0.1, 0.25, 0.5, 1,   2.5,  5,
    10,   30,   60,  120,  300, 600, 1800, 3600};
// A commit of SQLite in WAL mode costs an fsync: well under a millisecond
// on a fast SSD, tens of milliseconds on a disk, seconds on a failing one.
constexpr std::array<double, 13> kCommitBounds = {
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5};

constexpr common::TimeMs kMinuteMs = 60000;
constexpr size_t kPlainOps = std::variant_size_v<broker::AudienceOp>;
constexpr size_t kOkCode = 0;
constexpr size_t kUnavailableCode =
    static_cast<size_t>(ErrorCode::kUnavailable) + 1;
constexpr const char* kChannelNames[] = {"player", "audience", "http"};

template <size_t... I>
std::array<const char*, sizeof...(I)> OpNames(std::index_sequence<I...>) {
  return {broker::OpName(broker::AudienceOp(std::in_place_index<I>))...};
}

const char* OpName(size_t op) {
  static const std::array<const char*, kPlainOps> names =
      OpNames(std::make_index_sequence<kPlainOps>());
  return op < kPlainOps ? names[op] : "invalid";
}

const char* CodeName(size_t code) {
  return code == kOkCode
             ? "ok"
             : broker::ErrorCodeName(static_cast<ErrorCode>(code - 1));
}

int64_t MinuteOf(common::TimeMs ms) {
  return ms >= 0 ? ms / kMinuteMs : (ms - kMinuteMs + 1) / kMinuteMs;
}

// ---- the text format ----

// The shortest text that reads back as `value`, as %g spells it (0.0005,
// 3600, 1e-05); +Inf, -Inf and NaN as Prometheus spells them.
std::string FormatValue(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  char buf[64];
  auto [end, error] =
      std::to_chars(buf, buf + sizeof(buf), value, std::chars_format::general);
  return error == std::errc() ? std::string(buf, end) : "NaN";
}

// A label value or help text: backslash, newline (and in a label value,
// the double quote) escaped.
std::string Escape(std::string_view text, bool quote) {
  std::string out;
  for (char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"' && quote) {
      out += "\\\"";
    } else {
      out += c;
    }
  }
  return out;
}

void Header(std::string* out, const char* name, const char* type,
            const char* help) {
  *out += "# HELP ";
  *out += name;
  *out += ' ';
  *out += Escape(help, false);
  *out += "\n# TYPE ";
  *out += name;
  *out += ' ';
  *out += type;
  *out += '\n';
}

using Labels = std::vector<std::pair<const char*, std::string>>;

void Sample(std::string* out, std::string_view name, const Labels& labels,
            const std::string& value) {
  *out += name;
  if (!labels.empty()) {
    *out += '{';
    for (size_t i = 0; i < labels.size(); ++i) {
      if (i > 0) *out += ',';
      *out += labels[i].first;
      *out += "=\"";
      *out += Escape(labels[i].second, true);
      *out += '"';
    }
    *out += '}';
  }
  *out += ' ';
  *out += value;
  *out += '\n';
}

void Sample(std::string* out, std::string_view name, const Labels& labels,
            int64_t value) {
  Sample(out, name, labels, std::to_string(value));
}

void Sample(std::string* out, std::string_view name, const Labels& labels,
            double value) {
  Sample(out, name, labels, FormatValue(value));
}

void RenderProcess(const ProcessStats& p, std::string* out) {
  Header(out, "process_cpu_seconds_total", "counter",
         "Total user and system CPU time spent in seconds.");
  Sample(out, "process_cpu_seconds_total", {}, p.cpu_seconds);
  Header(out, "process_resident_memory_bytes", "gauge",
         "Resident memory size in bytes.");
  Sample(out, "process_resident_memory_bytes", {}, p.resident_memory_bytes);
  Header(out, "process_open_fds", "gauge", "Number of open file descriptors.");
  Sample(out, "process_open_fds", {}, p.open_fds);
  Header(out, "process_max_fds", "gauge",
         "Maximum number of open file descriptors.");
  Sample(out, "process_max_fds", {}, p.max_fds);
  Header(out, "process_start_time_seconds", "gauge",
         "Start time of the process since unix epoch in seconds.");
  Sample(out, "process_start_time_seconds", {}, p.start_time_seconds);
}

void RenderGauges(const Gauges& g, std::string* out) {
  Header(out, "orchestra_build_info", "gauge",
         "The conductor's version, as a label; the value is always 1.");
  Sample(out, "orchestra_build_info", {{"version", g.version}}, int64_t{1});
  Header(out, "orchestra_tasks", "gauge",
         "Tasks of unfinished jobs that are not final yet, by state.");
  for (const auto& [state, count] : g.tasks)
    Sample(out, "orchestra_tasks", {{"state", state}}, count);
  Header(out, "orchestra_oldest_queued_task_age_seconds", "gauge",
         "How long the task QUEUED longest has waited; 0 when none is.");
  Sample(out, "orchestra_oldest_queued_task_age_seconds", {},
         g.oldest_queued_task_age_seconds);
  Header(out, "orchestra_players", "gauge",
         "Players: connected; busy (connected and running at least one "
         "task); offline (in the players file, not connected).");
  Sample(out, "orchestra_players", {{"state", "connected"}},
         g.players_connected);
  Sample(out, "orchestra_players", {{"state", "busy"}}, g.players_busy);
  Sample(out, "orchestra_players", {{"state", "offline"}}, g.players_offline);
  Header(out, "orchestra_store_writable", "gauge",
         "1 while the conductor's database takes writes, else 0.");
  Sample(out, "orchestra_store_writable", {},
         int64_t{g.store_writable ? 1 : 0});
}

}  // namespace

// ---- Histogram ----

void Metrics::Histogram::Observe(double value) {
  const double* end = bounds_ + size_;
  counts_[std::lower_bound(bounds_, end, value) - bounds_]++;
  sum_ += value;
  ++count_;
}

void Metrics::Histogram::Add(const Histogram& other) {
  for (size_t i = 0; i <= size_; ++i) counts_[i] += other.counts_[i];
  sum_ += other.sum_;
  count_ += other.count_;
}

void Metrics::Histogram::Clear() {
  counts_.fill(0);
  sum_ = 0;
  count_ = 0;
}

void Metrics::Histogram::Render(const char* name, std::string* out) const {
  const std::string base = name;
  int64_t cumulative = 0;
  for (size_t i = 0; i < size_; ++i) {
    cumulative += counts_[i];
    Sample(out, base + "_bucket", {{"le", FormatValue(bounds_[i])}},
           cumulative);
  }
  Sample(out, base + "_bucket", {{"le", "+Inf"}}, count_);
  Sample(out, base + "_sum", {}, sum_);
  Sample(out, base + "_count", {}, count_);
}

// ---- Counts ----

Metrics::Counts::Counts() : queue(kTaskBounds), duration(kTaskBounds) {}

void Metrics::Counts::Add(const Counts& other) {
  if (other.empty) return;
  empty = false;
  jobs_submitted += other.jobs_submitted;
  for (size_t i = 0; i < jobs_finished.size(); ++i)
    jobs_finished[i] += other.jobs_finished[i];
  for (size_t i = 0; i < tasks_finished.size(); ++i)
    tasks_finished[i] += other.tasks_finished[i];
  for (size_t op = 0; op < kOps; ++op) {
    for (size_t code = 0; code < kCodes; ++code)
      audience[op][code] += other.audience[op][code];
  }
  queue.Add(other.queue);
  duration.Add(other.duration);
}

void Metrics::Counts::Clear() {
  empty = true;
  jobs_submitted = 0;
  jobs_finished.fill(0);
  tasks_finished.fill(0);
  for (auto& codes : audience) codes.fill(0);
  queue.Clear();
  duration.Clear();
}

// ---- recording ----

Metrics::Metrics() : commit_(kCommitBounds) {}

void Metrics::JobSubmitted() {
  open_->empty = false;
  ++open_->jobs_submitted;
}

void Metrics::JobFinished(JobState state) {
  open_->empty = false;
  ++open_->jobs_finished[static_cast<size_t>(state)];
}

void Metrics::TaskFinished(TaskState state, common::TimeMs started_at,
                           common::TimeMs finished_at) {
  open_->empty = false;
  ++open_->tasks_finished[static_cast<size_t>(state)];
  if (started_at > 0 && finished_at >= started_at)
    open_->duration.Observe(static_cast<double>(finished_at - started_at) /
                            1000);
}

void Metrics::TaskDispatched(common::TimeMs queued_ms) {
  open_->empty = false;
  open_->queue.Observe(
      static_cast<double>(std::max<common::TimeMs>(0, queued_ms)) / 1000);
}

void Metrics::AudienceReplied(int op, std::optional<ErrorCode> error) {
  const size_t index =
      op >= 0 && static_cast<size_t>(op) < kPlainOps ? op : kOps - 1;
  const size_t code = error ? static_cast<size_t>(*error) + 1 : kOkCode;
  open_->empty = false;
  ++open_->audience[index][code < kCodes ? code : kOkCode];
}

void Metrics::set_committed_only(bool on, common::TimeMs now_wall) {
  if (on) {
    open_ = &committed_;
    return;
  }
  open_ = &turn_;
  Count(committed_, now_wall);
  committed_.Clear();
}

void Metrics::SealTurn(uint64_t turn) {
  if (turn_.empty) return;
  sealed_.emplace_back(turn, turn_);
  turn_.Clear();
}

void Metrics::TurnCommitted(uint64_t turn, common::TimeMs now_wall) {
  while (!sealed_.empty() && sealed_.front().first <= turn) {
    Count(sealed_.front().second, now_wall);
    sealed_.pop_front();
  }
}

void Metrics::Count(const Counts& turn, common::TimeMs now_wall) {
  total_.Add(turn);
  Minute& minute = MinuteAt(MinuteOf(now_wall));
  for (size_t i = 0; i < minute.tasks.size(); ++i)
    minute.tasks[i] += turn.tasks_finished[i];
  for (size_t i = 0; i < minute.jobs.size(); ++i)
    minute.jobs[i] += turn.jobs_finished[i];
}

void Metrics::TurnUndone(bool replies_abandoned) {
  for (auto& [turn, counts] : sealed_) turn_.Add(counts);
  sealed_.clear();
  if (turn_.empty) return;
  const auto replies = turn_.audience;
  turn_.Clear();
  for (size_t op = 0; op < kOps; ++op) {
    for (size_t code = 0; code < kCodes; ++code) {
      if (replies[op][code] == 0) continue;
      turn_.empty = false;
      turn_.audience[op][replies_abandoned ? kUnavailableCode : code] +=
          replies[op][code];
    }
  }
}

void Metrics::AuthDenied(AuthChannel channel) {
  ++auth_denied_[static_cast<size_t>(channel)];
}

void Metrics::ZapDenied(std::string_view domain) {
  if (domain == broker::kPlayerDomain) AuthDenied(AuthChannel::kPlayer);
  if (domain == broker::kAudienceDomain) AuthDenied(AuthChannel::kAudience);
}

void Metrics::StoreCommitted(double seconds) { commit_.Observe(seconds); }

Metrics::Minute& Metrics::MinuteAt(int64_t minute) {
  const int64_t slots = static_cast<int64_t>(kRingMinutes);
  Minute& slot = ring_[static_cast<size_t>((minute % slots + slots) % slots)];
  if (slot.minute != minute) slot = Minute{minute, {}, {}};
  return slot;
}

// ---- reading ----

std::vector<std::map<std::string, int64_t>> Metrics::FinishedPerMinute(
    common::TimeMs now_wall) const {
  const int64_t slots = static_cast<int64_t>(kRingMinutes);
  const int64_t last = MinuteOf(now_wall);
  std::vector<std::map<std::string, int64_t>> out;
  for (int64_t minute = last - 59; minute <= last; ++minute) {
    const Minute& slot =
        ring_[static_cast<size_t>((minute % slots + slots) % slots)];
    std::map<std::string, int64_t>& counts = out.emplace_back();
    for (int i = 0; i < broker::kTaskStateCount; ++i) {
      const TaskState state = static_cast<TaskState>(i);
      if (!broker::IsFinal(state)) continue;
      counts[broker::TaskStateName(state)] =
          slot.minute == minute ? slot.tasks[i] : 0;
    }
  }
  return out;
}

std::map<std::string, int64_t> Metrics::JobsFinishedSince(
    common::TimeMs since_wall) const {
  const int64_t first = MinuteOf(since_wall);
  std::map<std::string, int64_t> out;
  for (int i = 0; i < broker::kJobStateCount; ++i) {
    const JobState state = static_cast<JobState>(i);
    if (state == JobState::kPending) continue;
    int64_t& count = out[broker::JobStateName(state)];
    for (const Minute& slot : ring_) {
      if (slot.minute != std::numeric_limits<int64_t>::min() &&
          slot.minute >= first)
        count += slot.jobs[i];
    }
  }
  return out;
}

std::string Metrics::Render(const Gauges& g) const {
  std::string out;
  RenderGauges(g, &out);
  RenderCounters(&out);
  RenderAudience(&out);
  Header(&out, "orchestra_task_queue_seconds", "histogram",
         "Time from a task's creation (its job's submit, or its attempt's) "
         "to its dispatch to a player.");
  total_.queue.Render("orchestra_task_queue_seconds", &out);
  Header(&out, "orchestra_task_duration_seconds", "histogram",
         "Time from a task's start to its end, as its player reported them.");
  total_.duration.Render("orchestra_task_duration_seconds", &out);
  Header(&out, "orchestra_store_commit_seconds", "histogram",
         "Time each turn's commit of the conductor's database took.");
  commit_.Render("orchestra_store_commit_seconds", &out);
  RenderProcess(g.process, &out);
  return out;
}

// Every final state from the start, at 0 until it happens, so that a rate
// over it works from the first scrape.
void Metrics::RenderCounters(std::string* out) const {
  Header(out, "orchestra_jobs_submitted_total", "counter",
         "Jobs submitted since the conductor started.");
  Sample(out, "orchestra_jobs_submitted_total", {}, total_.jobs_submitted);
  Header(out, "orchestra_jobs_finished_total", "counter",
         "Jobs finished since the conductor started, by final state.");
  for (int i = 0; i < broker::kJobStateCount; ++i) {
    const JobState state = static_cast<JobState>(i);
    if (state == JobState::kPending) continue;
    Sample(out, "orchestra_jobs_finished_total",
           {{"state", broker::JobStateName(state)}}, total_.jobs_finished[i]);
  }
  Header(out, "orchestra_tasks_finished_total", "counter",
         "Tasks that reached a final state since the conductor started, by "
         "state.");
  for (int i = 0; i < broker::kTaskStateCount; ++i) {
    const TaskState state = static_cast<TaskState>(i);
    if (!broker::IsFinal(state)) continue;
    Sample(out, "orchestra_tasks_finished_total",
           {{"state", broker::TaskStateName(state)}}, total_.tasks_finished[i]);
  }
  Header(out, "orchestra_auth_denied_total", "counter",
         "Connections and requests refused for their key, by channel.");
  for (size_t i = 0; i < auth_denied_.size(); ++i)
    Sample(out, "orchestra_auth_denied_total", {{"channel", kChannelNames[i]}},
           auth_denied_[i]);
}

// Only the (op, code) pairs seen: of the 98 possible, a conductor sees a
// handful.
void Metrics::RenderAudience(std::string* out) const {
  Header(out, "orchestra_audience_requests_total", "counter",
         "Audience requests answered, by op (invalid: not understood) and "
         "code (ok, or the error code of the reply).");
  for (size_t op = 0; op < kOps; ++op) {
    for (size_t code = 0; code < kCodes; ++code) {
      if (total_.audience[op][code] == 0) continue;
      Sample(out, "orchestra_audience_requests_total",
             {{"op", OpName(op)}, {"code", CodeName(code)}},
             total_.audience[op][code]);
    }
  }
}

}  // namespace orchestra::conductor
