// Tests for conductor/metrics.h: the Prometheus text format (read back by a
// small parser here), when events count (only once their turn commits),
// the per-minute ring over time, and, through a Core on a temp file with a
// FakeClock, that the counters and gauges move by exactly what was done,
// with no label ever holding a job id, task id or player name.

#include "conductor/metrics.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "broker/authenticator.h"
#include "broker/poller.h"
#include "test/conductor_samples.h"
#include "test/core_fixture.h"
#include "test/msgpack_builder.h"
#include "test/test_util.h"

namespace orchestra::conductor {
namespace {

using broker::ErrorCode;
using broker::JobState;
using broker::Scope;
using broker::TaskState;

constexpr common::TimeMs kMinute = 60000;

// One sample line: name{labels} value.
struct Sample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

// Reads a label value after its opening quote, undoing the escapes; false
// on a malformed one.
bool ReadLabelValue(const std::string& line, size_t* at, std::string* value) {
  for (; *at < line.size(); ++*at) {
    const char c = line[*at];
    if (c == '"') {
      ++*at;
      return true;
    }
    if (c != '\\') {
      *value += c;
      continue;
    }
    if (++*at == line.size()) return false;
    const char e = line[*at];
    if (e != '\\' && e != '"' && e != 'n') return false;
    *value += e == 'n' ? '\n' : e;
  }
  return false;
}

bool ParseValue(const std::string& text, double* value) {
  if (text == "+Inf") *value = HUGE_VAL;
  if (text == "-Inf") *value = -HUGE_VAL;
  if (text == "+Inf" || text == "-Inf") return true;
  char* end = nullptr;
  *value = std::strtod(text.c_str(), &end);
  return !text.empty() && *end == '\0';
}

bool ParseSample(const std::string& line, Sample* s) {
  size_t at = line.find_first_of("{ ");
  if (at == std::string::npos || at == 0) return false;
  s->name = line.substr(0, at);
  if (line[at] == '{') {
    ++at;
    while (at < line.size() && line[at] != '}') {
      const size_t eq = line.find("=\"", at);
      if (eq == std::string::npos) return false;
      const std::string key = line.substr(at, eq - at);
      at = eq + 2;
      if (!ReadLabelValue(line, &at, &s->labels[key])) return false;
      if (at < line.size() && line[at] == ',') ++at;
    }
    if (at++ == line.size()) return false;  // no closing brace
  }
  if (at >= line.size() || line[at] != ' ') return false;
  return ParseValue(line.substr(at + 1), &s->value);
}

// A rendered page read back: its samples and each family's TYPE.
struct Page {
  std::vector<Sample> samples;
  std::map<std::string, std::string> types;

  // The value of `name` with exactly `labels` (NaN when absent).
  double Value(const std::string& name,
               const std::map<std::string, std::string>& labels = {}) const {
    for (const Sample& s : samples) {
      if (s.name == name && s.labels == labels) return s.value;
    }
    return NAN;
  }
  std::vector<Sample> Family(const std::string& name) const {
    std::vector<Sample> out;
    for (const Sample& s : samples)
      if (s.name == name) out.push_back(s);
    return out;
  }
};

// Parses `text`, failing the test on any line that is not a comment or a
// sample, and on a sample whose family has no HELP and TYPE before it.
Page Parse(const std::string& text) {
  Page page;
  std::set<std::string> helped;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    EXPECT_NE(std::string::npos, end) << "the last line has no newline";
    if (end == std::string::npos) end = text.size();
    const std::string line = text.substr(start, end - start);
    start = end + 1;
    if (line.rfind("# HELP ", 0) == 0) {
      helped.insert(line.substr(7, line.find(' ', 7) - 7));
    } else if (line.rfind("# TYPE ", 0) == 0) {
      const size_t space = line.find(' ', 7);
      page.types[line.substr(7, space - 7)] = line.substr(space + 1);
    } else {
      Sample s;
      EXPECT_TRUE(ParseSample(line, &s)) << "bad line: " << line;
      std::string family = s.name;
      for (const char* suffix : {"_bucket", "_sum", "_count"}) {
        const size_t n = family.size(), k = std::string(suffix).size();
        if (n > k && family.compare(n - k, k, suffix) == 0 &&
            page.types.count(family.substr(0, n - k)))
          family = family.substr(0, n - k);
      }
      EXPECT_TRUE(page.types.count(family)) << "no TYPE for " << s.name;
      EXPECT_TRUE(helped.count(family)) << "no HELP for " << s.name;
      page.samples.push_back(std::move(s));
    }
  }
  return page;
}

// Checks histogram `name`: buckets cumulative, in rising order of `le`,
// the last one +Inf and equal to _count. Returns its _count.
double CheckHistogram(const Page& page, const std::string& name) {
  EXPECT_EQ("histogram", page.types.at(name));
  std::vector<Sample> buckets = page.Family(name + "_bucket");
  EXPECT_FALSE(buckets.empty());
  if (buckets.empty()) return NAN;
  double last_le = -HUGE_VAL, last_count = 0;
  for (const Sample& b : buckets) {
    double le = 0;
    EXPECT_TRUE(ParseValue(b.labels.at("le"), &le));
    EXPECT_GT(le, last_le) << name;
    EXPECT_GE(b.value, last_count) << name << " le=" << b.labels.at("le");
    last_le = le;
    last_count = b.value;
  }
  EXPECT_EQ("+Inf", buckets.back().labels.at("le"));
  const double count = page.Value(name + "_count");
  EXPECT_EQ(count, buckets.back().value);
  EXPECT_FALSE(std::isnan(page.Value(name + "_sum")));
  return count;
}

Gauges SampleGauges() {
  Gauges g;
  g.tasks = {{"QUEUED", 3}, {"DISPATCHED", 1}, {"RUNNING", 2}};
  g.oldest_queued_task_age_seconds = 1.5;
  g.players_connected = 2;
  g.players_busy = 1;
  g.players_offline = 4;
  g.version = "0.1.0";
  g.process = ReadProcessStats();
  return g;
}

// ---- Metrics alone ----

class MetricsTest : public testing::Test {
 protected:
  Page Render(const Gauges& g = SampleGauges()) {
    return Parse(metrics_.Render(g));
  }
  // Ends a turn and commits it at `now`.
  void Commit(common::TimeMs now) {
    metrics_.SealTurn(++turn_);
    metrics_.TurnCommitted(turn_, now);
  }

  Metrics metrics_;
  uint64_t turn_ = 0;
};

TEST_F(MetricsTest, EveryLineIsACommentOrASampleOfADeclaredFamily) {
  metrics_.JobSubmitted();
  metrics_.TaskDispatched(1500);
  metrics_.TaskFinished(TaskState::kOk, 1000, 4000);
  metrics_.AudienceReplied(0, std::nullopt);
  Commit(0);
  metrics_.StoreCommitted(0.003);
  Page page = Render();
  EXPECT_EQ(1, page.Value("orchestra_build_info", {{"version", "0.1.0"}}));
  EXPECT_EQ(3, page.Value("orchestra_tasks", {{"state", "QUEUED"}}));
  EXPECT_EQ(1.5, page.Value("orchestra_oldest_queued_task_age_seconds"));
  EXPECT_EQ(4, page.Value("orchestra_players", {{"state", "offline"}}));
  EXPECT_EQ(1, page.Value("orchestra_store_writable"));
  EXPECT_EQ("counter", page.types.at("orchestra_jobs_submitted_total"));
  EXPECT_GT(page.Value("process_start_time_seconds"), 1.6e9);
  EXPECT_GT(page.Value("process_open_fds"), 2);
  EXPECT_GT(page.Value("process_resident_memory_bytes"), 0);
}

TEST_F(MetricsTest, HistogramsAreCumulativeAndEndWithInfEqualToCount) {
  for (common::TimeMs ms : {5, 20, 700, 700, 90000, 7200000})
    metrics_.TaskDispatched(ms);
  metrics_.TaskFinished(TaskState::kFail, 1000, 1250);
  metrics_.TaskFinished(TaskState::kLost, 0, 5000);  // never started: untimed
  Commit(0);
  for (double s : {0.0001, 0.002, 9.0}) metrics_.StoreCommitted(s);
  Page page = Render();
  EXPECT_EQ(6, CheckHistogram(page, "orchestra_task_queue_seconds"));
  EXPECT_EQ(1, CheckHistogram(page, "orchestra_task_duration_seconds"));
  EXPECT_EQ(3, CheckHistogram(page, "orchestra_store_commit_seconds"));
  EXPECT_EQ(2, page.Value("orchestra_task_queue_seconds_bucket",
                          {{"le", "0.5"}}));  // 5 ms, 20 ms
  EXPECT_EQ(4, page.Value("orchestra_task_queue_seconds_bucket",
                          {{"le", "1"}}));  // and 700 ms twice
  EXPECT_DOUBLE_EQ(0.25, page.Value("orchestra_task_duration_seconds_sum"));
  EXPECT_EQ(1, page.Value("orchestra_store_commit_seconds_bucket",
                          {{"le", "0.0005"}}));
}

TEST_F(MetricsTest, EveryFinalStateAndChannelIsPrintedFromTheStartAtZero) {
  Page page = Render();
  std::set<std::string> jobs, tasks, channels;
  for (const Sample& s : page.Family("orchestra_jobs_finished_total")) {
    EXPECT_EQ(0, s.value);
    jobs.insert(s.labels.at("state"));
  }
  for (const Sample& s : page.Family("orchestra_tasks_finished_total")) {
    EXPECT_EQ(0, s.value);
    tasks.insert(s.labels.at("state"));
  }
  for (const Sample& s : page.Family("orchestra_auth_denied_total"))
    channels.insert(s.labels.at("channel"));
  EXPECT_EQ((std::set<std::string>{"OK", "FAIL", "PARTIAL_FAIL", "CANCELLED"}),
            jobs);
  EXPECT_EQ((std::set<std::string>{"OK", "FAIL", "TIMEOUT", "CANCELLED",
                                   "UNK_SCORE", "HOST_ERROR", "LOST", "ABORTED",
                                   "EXPIRED", "SKIPPED"}),
            tasks);
  EXPECT_EQ((std::set<std::string>{"player", "audience", "http"}), channels);
  EXPECT_TRUE(page.Family("orchestra_audience_requests_total").empty());
}

TEST_F(MetricsTest, LabelValuesAreEscaped) {
  Gauges g = SampleGauges();
  g.version = "1.0 \"rc\\2\"\nbuild";
  const std::string text = metrics_.Render(g);
  EXPECT_NE(std::string::npos,
            text.find("orchestra_build_info{version=\"1.0 \\\"rc\\\\2\\\"\\n"
                      "build\"} 1\n"));
  EXPECT_EQ(
      1, Parse(text).Value("orchestra_build_info", {{"version", g.version}}));
}

TEST_F(MetricsTest, EventsCountOnlyOnceTheirTurnCommits) {
  metrics_.JobSubmitted();
  metrics_.JobFinished(JobState::kOk);
  EXPECT_EQ(0, Render().Value("orchestra_jobs_submitted_total"));
  Commit(0);
  Page page = Render();
  EXPECT_EQ(1, page.Value("orchestra_jobs_submitted_total"));
  EXPECT_EQ(1, page.Value("orchestra_jobs_finished_total", {{"state", "OK"}}));
  Commit(0);  // nothing new
  EXPECT_EQ(1, Render().Value("orchestra_jobs_submitted_total"));
}

TEST_F(MetricsTest, AnUndoneTurnDropsItsEventsAndItsRepliesBecomeUnavailable) {
  metrics_.JobSubmitted();
  metrics_.TaskFinished(TaskState::kOk, 1, 2);
  metrics_.AudienceReplied(0, std::nullopt);
  metrics_.TurnUndone(/*replies_abandoned=*/true);
  Commit(0);
  Page page = Render();
  EXPECT_EQ(0, page.Value("orchestra_jobs_submitted_total"));
  EXPECT_EQ(0, page.Value("orchestra_tasks_finished_total", {{"state", "OK"}}));
  EXPECT_EQ(0, page.Value("orchestra_task_duration_seconds_count"));
  EXPECT_EQ(1, page.Value("orchestra_audience_requests_total",
                          {{"op", "submit"}, {"code", "unavailable"}}));
  EXPECT_EQ(1u, page.Family("orchestra_audience_requests_total").size());
}

// Turns in flight count in order, each once its own commit is back; an
// undo drops those not committed.
TEST_F(MetricsTest, TurnsInFlightCountOnlyOnceCommitted) {
  metrics_.JobSubmitted();
  metrics_.SealTurn(1);
  metrics_.JobSubmitted();
  metrics_.JobSubmitted();
  metrics_.SealTurn(2);
  metrics_.JobSubmitted();  // the open turn
  EXPECT_EQ(0, Render().Value("orchestra_jobs_submitted_total"));
  metrics_.TurnCommitted(1, 0);
  EXPECT_EQ(1, Render().Value("orchestra_jobs_submitted_total"));
  metrics_.TurnUndone(/*replies_abandoned=*/true);
  Commit(0);
  EXPECT_EQ(1, Render().Value("orchestra_jobs_submitted_total"))
      << "turn 2 and the open turn were undone";
}

TEST_F(MetricsTest, RepliesOfATurnUndoneWithoutAbandoningKeepTheirCode) {
  metrics_.AudienceReplied(1, ErrorCode::kNotFound);
  metrics_.JobFinished(JobState::kFail);
  metrics_.TurnUndone(/*replies_abandoned=*/false);
  Commit(0);
  Page page = Render();
  EXPECT_EQ(1, page.Value("orchestra_audience_requests_total",
                          {{"op", "status"}, {"code", "not_found"}}));
  EXPECT_EQ(0,
            page.Value("orchestra_jobs_finished_total", {{"state", "FAIL"}}));
}

TEST_F(MetricsTest, RequestsNotUnderstoodCountAsOpInvalid) {
  metrics_.AudienceReplied(-1, ErrorCode::kBadRequest);
  metrics_.AudienceReplied(1000, ErrorCode::kUnknownOp);
  Commit(0);
  Page page = Render();
  EXPECT_EQ(1, page.Value("orchestra_audience_requests_total",
                          {{"op", "invalid"}, {"code", "bad_request"}}));
  EXPECT_EQ(1, page.Value("orchestra_audience_requests_total",
                          {{"op", "invalid"}, {"code", "unknown_op"}}));
}

TEST_F(MetricsTest, ZapRefusalsCountByDomain) {
  metrics_.ZapDenied(broker::kPlayerDomain);
  metrics_.ZapDenied(broker::kAudienceDomain);
  metrics_.ZapDenied(broker::kAudienceDomain);
  metrics_.ZapDenied("elsewhere");
  metrics_.AuthDenied(AuthChannel::kHttp);
  Page page = Render();
  EXPECT_EQ(1,
            page.Value("orchestra_auth_denied_total", {{"channel", "player"}}));
  EXPECT_EQ(
      2, page.Value("orchestra_auth_denied_total", {{"channel", "audience"}}));
  EXPECT_EQ(1,
            page.Value("orchestra_auth_denied_total", {{"channel", "http"}}));
}

// ---- the per-minute ring ----

class MetricsRingTest : public MetricsTest {
 protected:
  void Finish(TaskState state, int n = 1) {
    for (int i = 0; i < n; ++i) metrics_.TaskFinished(state, 0, clock_.Now());
    Commit(clock_.Now());
  }
  void FinishJob(JobState state) {
    metrics_.JobFinished(state);
    Commit(clock_.Now());
  }
  std::vector<std::map<std::string, int64_t>> PerMinute() {
    return metrics_.FinishedPerMinute(clock_.Now());
  }

  test::FakeClock clock_{1795000000000 - 1795000000000 % kMinute + 1000};
};

TEST_F(MetricsRingTest, SixtyMinutesOldestFirstWithEveryFinalState) {
  Finish(TaskState::kOk, 2);
  Finish(TaskState::kFail);
  auto minutes = PerMinute();
  ASSERT_EQ(60u, minutes.size());
  EXPECT_EQ(2, minutes[59].at("OK"));
  EXPECT_EQ(1, minutes[59].at("FAIL"));
  EXPECT_EQ(10u, minutes[59].size());  // every final state
  EXPECT_EQ(0, minutes[58].at("OK"));
  EXPECT_EQ(0u, minutes[0].count("QUEUED"));
}

TEST_F(MetricsRingTest, MinutesRollOverAndOldOnesAreForgotten) {
  Finish(TaskState::kOk);
  clock_.Advance(kMinute);
  Finish(TaskState::kExpired, 3);
  EXPECT_EQ(1, PerMinute()[58].at("OK"));
  EXPECT_EQ(3, PerMinute()[59].at("EXPIRED"));
  clock_.Advance(58 * kMinute);
  EXPECT_EQ(1, PerMinute()[0].at("OK"));
  clock_.Advance(kMinute);  // the first minute is out of the hour
  EXPECT_EQ(3, PerMinute()[0].at("EXPIRED"));
  for (const auto& minute : PerMinute()) EXPECT_EQ(0, minute.at("OK"));
  clock_.Advance(4 * kMinute);  // its slot of the ring is used again
  Finish(TaskState::kLost);
  EXPECT_EQ(1, PerMinute()[59].at("LOST"));
  EXPECT_EQ(0, PerMinute()[59].at("OK"));
}

TEST_F(MetricsRingTest, JobsFinishedSinceCountsFromTheMinuteHoldingSince) {
  FinishJob(JobState::kOk);
  const common::TimeMs first = clock_.Now();
  clock_.Advance(30 * kMinute);
  FinishJob(JobState::kPartialFail);
  FinishJob(JobState::kOk);
  auto since = [&](common::TimeMs t) { return metrics_.JobsFinishedSince(t); };
  EXPECT_EQ(2, since(first).at("OK"));
  EXPECT_EQ(1, since(first + kMinute).at("OK"));
  EXPECT_EQ(1, since(first + kMinute).at("PARTIAL_FAIL"));
  EXPECT_EQ(0, since(clock_.Now() + kMinute).at("OK"));
  EXPECT_EQ(0, since(first).at("CANCELLED"));
  EXPECT_EQ(0u, since(first).count("PENDING"));
}

TEST_F(MetricsRingTest, AFinishInTheCommittedTurnsMinuteOnly) {
  metrics_.TaskFinished(TaskState::kOk, 0, 0);
  metrics_.TurnUndone(true);
  Finish(TaskState::kFail);
  EXPECT_EQ(0, PerMinute()[59].at("OK"));
  EXPECT_EQ(1, PerMinute()[59].at("FAIL"));
}

// ---- through a Core ----

constexpr char kAddress[] = "inproc://metrics-test";

// The DEALER is an audience client; players speak to the player channel
// through Inbounds made here (as the authenticator would name them).
class MetricsCoreTest : public test::CoreFixture {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(Open({"web-1", "web-2", "web-3"}, kAddress));
    board_ = core_->board();
  }
  Page Render() {
    return Parse(core_->metrics()->Render(core_->MetricGauges()));
  }
  void EndTurn() {
    ASSERT_OK(core_->CommitTurn());
    ASSERT_OK(core_->Settle());
    core_->Flush(router_.get(), {router_.get()});
  }
  // The client sends `payload`; the channel answers; the turn ends.
  void Send(const std::string& payload) {
    ASSERT_NO_FATAL_FAILURE(Hand(payload));
    EndTurn();
  }
  // Send() without ending the turn.
  void Hand(const std::string& payload) {
    ASSERT_OK(dealer_->Send(payload));
    broker::Poller poller;
    poller.AddSocket(router_->handle());
    ASSERT_OK(poller.Wait(5000));
    std::optional<broker::Inbound> in = router_->TryReceive();
    ASSERT_TRUE(in.has_value());
    ASSERT_OK(core_->audience_channel()->Handle(0, *in));
  }
  broker::AudienceReply Ask(const broker::AudienceOp& op) {
    Send(broker::EncodeAudienceRequest({int64_t{1}, op}));
    return Next();
  }
  broker::AudienceReply Next() {
    broker::Poller poller;
    poller.AddSocket(dealer_->handle());
    EXPECT_OK(poller.Wait(5000));
    std::optional<broker::Inbound> in = dealer_->TryReceive();
    EXPECT_TRUE(in.has_value());
    auto reply = in ? broker::DecodeAudienceReply(in->payload)
                    : common::Result<broker::AudienceReply>(
                          common::Status::NotFound("reply", "none"));
    EXPECT_OK(reply.status());
    return reply.ok() ? reply.value() : broker::AudienceReply{};
  }
  JobId Submit(Scope scope, std::vector<std::string> players) {
    broker::AudienceReply reply =
        Ask(test::SampleSubmit(scope, std::move(players)));
    const auto* submitted = std::get_if<broker::SubmitReply>(&reply.body);
    EXPECT_NE(nullptr, submitted);
    const JobId job = submitted ? submitted->job : 0;
    jobs_.push_back(job);
    return job;
  }
  // A message from `player` on session `peer`, with the key it is listed
  // with unless `key` says otherwise.
  void Say(const std::string& player, const broker::PlayerMessage& message,
           const std::string& key = "") {
    broker::Inbound in;
    in.peer = "peer-" + player;
    in.payload = broker::EncodePlayerMessage(message);
    in.user_id = player;
    in.key = key.empty() ? "key-" + player : key;
    in.epoch = core_->trust().epoch();
    ASSERT_OK(core_->player_channel()->Handle(in));
    EndTurn();
  }
  // A hello of `slots` slots, with score "backup" (submits need a player
  // that may have it).
  static broker::Hello HelloWithScore(int slots) {
    broker::Hello hello = test::SampleHello(slots);
    hello.scores.push_back({"backup", std::string(64, 'a'), "env"});
    return hello;
  }
  // The tasks of `job`, as the store holds them.
  std::vector<TaskRecord> Tasks(JobId job) {
    std::optional<JobRecord> record = test::StoredJob(core_->store(), job);
    return record ? record->tasks : std::vector<TaskRecord>();
  }
  void Report(const std::string& player, TaskId task, TaskState state) {
    tasks_.push_back(task);
    Say(player, test::SampleResult(task, state, clock_.Now()));
  }

  JobBoard* board_ = nullptr;
  std::vector<JobId> jobs_;
  std::vector<TaskId> tasks_;
};

TEST_F(MetricsCoreTest, CountersMoveByExactlyWhatHappened) {
  const JobId all = Submit(Scope::kAll, {"web-1", "web-2"});
  Submit(Scope::kOne, {"web-3"});
  Say("web-1", test::SampleHello(2));
  Say("web-2", test::SampleHello(2));
  clock_.Advance(2000);
  Report("web-1", Tasks(all)[0].task, TaskState::kOk);
  Report("web-1", Tasks(all)[0].task, TaskState::kOk);  // resent: known
  Report("web-2", Tasks(all)[1].task, TaskState::kFail);
  Page page = Render();
  EXPECT_EQ(2, page.Value("orchestra_jobs_submitted_total"));
  EXPECT_EQ(1, page.Value("orchestra_jobs_finished_total",
                          {{"state", "PARTIAL_FAIL"}}));
  EXPECT_EQ(1, page.Value("orchestra_tasks_finished_total", {{"state", "OK"}}));
  EXPECT_EQ(1,
            page.Value("orchestra_tasks_finished_total", {{"state", "FAIL"}}));
  EXPECT_EQ(2, CheckHistogram(page, "orchestra_task_queue_seconds"));
  EXPECT_EQ(2, CheckHistogram(page, "orchestra_task_duration_seconds"));
  EXPECT_EQ(2, page.Value("orchestra_audience_requests_total",
                          {{"op", "submit"}, {"code", "ok"}}));
  Metrics* metrics = core_->metrics();
  EXPECT_EQ(1, metrics->FinishedPerMinute(clock_.Now())[59].at("FAIL"));
  EXPECT_EQ(1, metrics->JobsFinishedSince(0).at("PARTIAL_FAIL"));
}

// A failed commit undoes its turn: the job it submitted was never made,
// and its reply went out `unavailable`.
TEST_F(MetricsCoreTest, AnUndoneTurnCountsItsReplyUnavailableAndNoJob) {
  Hand(broker::EncodeAudienceRequest(
      {int64_t{1}, test::SampleSubmit(Scope::kOne, {"web-1"})}));
  ASSERT_OK(core_->StoreFailed(common::Status::IoError("sqlite", "disk full")));
  core_->Flush(router_.get(), {router_.get()});
  EXPECT_TRUE(std::holds_alternative<broker::ErrorReply>(Next().body));
  core_->RetryStore();
  ASSERT_TRUE(core_->health().writable());
  EndTurn();
  Page page = Render();
  EXPECT_EQ(0, page.Value("orchestra_jobs_submitted_total"));
  EXPECT_EQ(1, page.Value("orchestra_audience_requests_total",
                          {{"op", "submit"}, {"code", "unavailable"}}));
  EXPECT_TRUE(std::isnan(page.Value("orchestra_audience_requests_total",
                                    {{"op", "submit"}, {"code", "ok"}})));
  Submit(Scope::kOne, {"web-1"});
  EXPECT_EQ(1, Render().Value("orchestra_jobs_submitted_total"));
}

TEST_F(MetricsCoreTest, EachFinalReplyCountsByOpAndCode) {
  Ask(broker::StatusRequest{12345});
  Send("\xc1");  // not msgpack
  Send(test::Map({{"op", test::Str("frobnicate")}}).Encode());
  Ask(broker::PlayersRequest{});
  Page page = Render();
  EXPECT_EQ(1, page.Value("orchestra_audience_requests_total",
                          {{"op", "status"}, {"code", "not_found"}}));
  EXPECT_EQ(1, page.Value("orchestra_audience_requests_total",
                          {{"op", "invalid"}, {"code", "bad_request"}}));
  EXPECT_EQ(1, page.Value("orchestra_audience_requests_total",
                          {{"op", "invalid"}, {"code", "unknown_op"}}));
  EXPECT_EQ(1, page.Value("orchestra_audience_requests_total",
                          {{"op", "players"}, {"code", "ok"}}));
  EXPECT_EQ(4u, page.Family("orchestra_audience_requests_total").size());
}

// A `wait` with progress gets progress messages, then one final reply:
// one request.
TEST_F(MetricsCoreTest, ProgressMessagesAreNotRequests) {
  const JobId job = Submit(Scope::kAll, {"web-1"});
  Send(broker::EncodeAudienceRequest(
      {int64_t{2}, broker::WaitRequest{job, 0, true}}));
  Say("web-1", test::SampleHello(1));
  Report("web-1", Tasks(job)[0].task, TaskState::kOk);
  EXPECT_EQ(1, Render().Value("orchestra_audience_requests_total",
                              {{"op", "wait"}, {"code", "ok"}}));
}

TEST_F(MetricsCoreTest, KeysTakenBackCountAsAuthDenials) {
  Say("web-1", test::SampleHello(1), "key-of-someone-else");
  broker::Inbound in;
  in.peer = "peer-ops";
  in.payload =
      broker::EncodeAudienceRequest({int64_t{1}, broker::JobsRequest{}});
  in.user_id = "ops";
  in.key = "key-ops";  // no such audience key
  ASSERT_OK(core_->audience_channel()->Handle(0, in));
  EndTurn();
  Page page = Render();
  EXPECT_EQ(1,
            page.Value("orchestra_auth_denied_total", {{"channel", "player"}}));
  EXPECT_EQ(
      1, page.Value("orchestra_auth_denied_total", {{"channel", "audience"}}));
  EXPECT_EQ(1, page.Value("orchestra_audience_requests_total",
                          {{"op", "jobs"}, {"code", "unauthorized"}}));
  EXPECT_EQ(0, page.Value("orchestra_players", {{"state", "connected"}}));
}

TEST_F(MetricsCoreTest, GaugesCountOpenTasksAndPlayers) {
  Say("web-1", HelloWithScore(1));
  const JobId first = Submit(Scope::kAll, {"web-1", "web-2"});
  clock_.Advance(3000);
  Submit(Scope::kAll, {"web-1"});
  Say("web-1", broker::Accepted{Tasks(first)[0].task});
  clock_.Advance(2000);
  Page page = Render();
  EXPECT_EQ(2, page.Value("orchestra_tasks", {{"state", "QUEUED"}}));
  EXPECT_EQ(0, page.Value("orchestra_tasks", {{"state", "DISPATCHED"}}));
  EXPECT_EQ(1, page.Value("orchestra_tasks", {{"state", "RUNNING"}}));
  EXPECT_EQ(5, page.Value("orchestra_oldest_queued_task_age_seconds"));
  EXPECT_EQ(1, page.Value("orchestra_players", {{"state", "connected"}}));
  EXPECT_EQ(1, page.Value("orchestra_players", {{"state", "busy"}}));
  EXPECT_EQ(2, page.Value("orchestra_players", {{"state", "offline"}}));
  EXPECT_EQ(1, page.Value("orchestra_store_writable"));
}

TEST_F(MetricsCoreTest, NothingQueuedIsAnAgeOfZero) {
  Say("web-1", HelloWithScore(1));
  Submit(Scope::kAll, {"web-1"});
  clock_.Advance(4000);
  EXPECT_EQ(0, Render().Value("orchestra_oldest_queued_task_age_seconds"));
}

// Bounded cardinality (DESIGN.md section 14): after jobs, tasks and
// players have come and gone, no label names one of them; the histograms'
// `le` bounds are the ones a fresh conductor prints.
TEST_F(MetricsCoreTest, NoLabelHoldsAJobIdTaskIdOrPlayerName) {
  const JobId all = Submit(Scope::kAll, {"web-1", "web-2", "web-3"});
  const JobId one = Submit(Scope::kOne, {"web-2"});
  for (const char* player : {"web-1", "web-2"})
    Say(player, test::SampleHello(2));
  Report("web-1", Tasks(all)[0].task, TaskState::kOk);
  Report("web-2", Tasks(one)[0].task, TaskState::kUnkScore);
  Ask(broker::CancelRequest{all});
  std::set<std::string> forbidden = {"web-1", "web-2", "web-3"};
  for (JobId job : jobs_) {
    forbidden.insert(std::to_string(job));
    for (const TaskRecord& t : Tasks(job))
      forbidden.insert(std::to_string(t.task));
  }
  std::set<std::string> bounds;
  for (const Sample& s : Parse(Metrics().Render(Gauges())).samples)
    if (s.labels.count("le")) bounds.insert(s.labels.at("le"));
  for (const Sample& s : Render().samples) {
    for (const auto& [key, value] : s.labels) {
      if (key == "le") {
        EXPECT_TRUE(bounds.count(value)) << s.name << " le=" << value;
      } else {
        EXPECT_FALSE(forbidden.count(value))
            << s.name << " " << key << "=" << value;
      }
    }
  }
}

}  // namespace
}  // namespace orchestra::conductor
