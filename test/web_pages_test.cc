// Tests for conductor/web_pages.h: each page escapes everything the
// audience, the players or the scores control; a job page is bounded
// however many different outcomes its tasks have; parameters and the
// cancel button show only to whom they should.

#include "conductor/web_pages.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/text.h"

namespace orchestra::conductor {
namespace {

using broker::JobRecord;
using broker::JobState;
using broker::JobSummary;
using broker::PlayerInfo;
using broker::TaskRecord;
using broker::TaskState;

constexpr common::TimeMs kNow = 1795836000000;
// Ends an element, an attribute of either quote, holds NUL and a byte that
// is not UTF-8.
const std::string kHostile =
    std::string("<script>alert(1)</script>\"'><img src=x onerror=alert(2)>&") +
    std::string("\0", 1) + "\xFF\xC3";

size_t Count(const std::string& text, const std::string& part) {
  size_t n = 0;
  for (size_t at = text.find(part); at != std::string::npos;
       at = text.find(part, at + part.size()))
    ++n;
  return n;
}

// Nothing of kHostile got through as markup, and the page is UTF-8.
void ExpectEscaped(const std::string& page) {
  EXPECT_TRUE(common::IsValidUtf8(page));
  EXPECT_EQ(std::string::npos, page.find('\0'));
  EXPECT_EQ(1u, Count(page, "<script"));  // the page's own script
  EXPECT_EQ(std::string::npos, page.find("<img"));
  EXPECT_EQ(std::string::npos, page.find("\"'>"));
  EXPECT_NE(std::string::npos, page.find("&lt;script&gt;alert(1)"));
}

PageContext Context(bool operate = false, bool show_params = false) {
  return PageContext{"ops", operate, show_params, kNow};
}

TaskRecord Task(int64_t id, const std::string& out) {
  TaskRecord t;
  t.task = id;
  t.player = "host-" + std::to_string(id);
  t.state = TaskState::kOk;
  t.exit_code = 0;
  t.stdout_text = out;
  t.started_at = t.finished_at = kNow;
  return t;
}

JobRecord Job(int tasks, bool distinct) {
  JobRecord job;
  job.id = 42;
  job.score = "inventory";
  job.scope = broker::Scope::kAll;
  job.state = JobState::kOk;
  job.created_at = kNow - 5000;
  job.finished_at = kNow;
  for (int i = 1; i <= tasks; ++i) {
    job.players.push_back("host-" + std::to_string(i));
    job.tasks.push_back(
        Task(i, distinct ? "out " + std::to_string(i) + "\n" : "same\n"));
  }
  return job;
}

JobSummary Summary(int64_t id, const std::string& score) {
  JobSummary s;
  s.id = id;
  s.score = score;
  s.state = JobState::kFail;
  s.submitted_by = score;
  s.players = 3;
  s.tasks_by_state = {{"OK", 2}, {"FAIL", 1}, {score, 1}};
  s.created_at = kNow - 60000;
  s.finished_at = kNow;
  return s;
}

// ---- escaping, page by page ----

TEST(WebPagesTest, OverviewEscapesScoresStatesAndVersion) {
  OverviewData data;
  data.recent_jobs = {Summary(9, kHostile)};
  data.jobs_finished_last_hour = {{kHostile, 1}};
  data.finished_per_minute = {{{kHostile, 3}, {"OK", 2}}};
  data.version = kHostile;
  ExpectEscaped(RenderOverview(data, Context()));
}

TEST(WebPagesTest, JobsPageEscapesRowsAndFilter) {
  broker::JobsRequest filter;
  filter.score = kHostile;
  filter.player = kHostile;
  const std::string page =
      RenderJobs({Summary(9, kHostile)}, filter, true, Context());
  ExpectEscaped(page);
  EXPECT_NE(std::string::npos, page.find("score=%3Cscript%3Ealert%281%29"));
}

TEST(WebPagesTest, JobPageEscapesEverythingTheJobCarries) {
  JobRecord job = Job(2, true);
  job.score = job.submitted_by = kHostile;
  job.players.push_back(kHostile);
  job.params = {{kHostile, kHostile}};
  job.tasks[0].player = kHostile;
  job.tasks[0].stdout_text = job.tasks[0].stderr_text = kHostile;
  job.tasks[0].error = kHostile;
  ExpectEscaped(RenderJob(job, Context(true, true)));
}

TEST(WebPagesTest, PlayersPageEscapesPlayersAndFilter) {
  PlayerInfo player;
  player.name = player.version = kHostile;
  player.scores = {kHostile, "ok"};
  player.last_seen = kNow - 1500;
  ExpectEscaped(RenderPlayers({player}, kHostile, Context()));
}

TEST(WebPagesTest, ErrorPageEscapesMessageAndUser) {
  PageContext ctx = Context();
  ctx.user = kHostile;
  ExpectEscaped(RenderError(404, kHostile, ctx));
}

// ---- the job page ----

TEST(WebPagesTest, TenThousandDistinctTasksShowAPageOfGroups) {
  const std::string page = RenderJob(Job(10000, true), Context());
  EXPECT_EQ(static_cast<size_t>(kGroupsPerPage),
            Count(page, "<tbody class=\"group\""));
  EXPECT_NE(std::string::npos,
            page.find("id=\"groups-next\" href=\"/jobs/42?groups=1\""));
  EXPECT_EQ(std::string::npos, page.find("groups-prev"));
  EXPECT_LT(page.size(), 200u << 10);
}

TEST(WebPagesTest, LaterGroupPagesLinkBothWays) {
  const JobRecord job = Job(10000, true);
  const std::string middle = RenderJob(job, Context(), 1);
  EXPECT_NE(std::string::npos, middle.find("href=\"/jobs/42?groups=0\""));
  EXPECT_NE(std::string::npos, middle.find("href=\"/jobs/42?groups=2\""));
  EXPECT_NE(std::string::npos, middle.find("id=\"group-101\""));
  const std::string past_end = RenderJob(job, Context(), 1000);
  EXPECT_EQ(std::string::npos, past_end.find("groups-next"));
  EXPECT_NE(std::string::npos, past_end.find("id=\"group-10000\""));
}

TEST(WebPagesTest, TenThousandIdenticalTasksShowOneGroup) {
  const std::string page = RenderJob(Job(10000, false), Context());
  EXPECT_EQ(1u, Count(page, "<tbody class=\"group\""));
  EXPECT_NE(std::string::npos, page.find("data-tasks=\"1-10000\""));
  EXPECT_NE(std::string::npos, page.find("and 9950 more"));
  EXPECT_EQ(std::string::npos, page.find("groups-next"));
}

TEST(WebPagesTest, OutputShowsItsTailMarkedWhenCut) {
  JobRecord job = Job(1, false);
  job.tasks[0].stdout_text = std::string(10000, 'a') + "THE END";
  job.tasks[0].stderr_text = "warning";
  job.tasks[0].stderr_truncated = true;
  const std::string page = RenderJob(job, Context());
  EXPECT_NE(std::string::npos, page.find("the last 4096 of 10007 bytes"));
  EXPECT_NE(std::string::npos, page.find("THE END</pre>"));
  EXPECT_EQ(std::string::npos, page.find(std::string(4097, 'a')));
  EXPECT_NE(std::string::npos, page.find("kept only the end"));
}

TEST(WebPagesTest, ParameterValuesHideUnlessAllowed) {
  JobRecord job = Job(1, false);
  job.params = {{"password", "hunter2"}};
  const std::string hidden = RenderJob(job, Context());
  EXPECT_EQ(std::string::npos, hidden.find("hunter2"));
  EXPECT_NE(std::string::npos, hidden.find("password</th><td>***"));
  EXPECT_NE(std::string::npos,
            RenderJob(job, Context(false, true)).find("hunter2"));
}

TEST(WebPagesTest, CancelButtonOnlyForOperatorsOfAPendingJob) {
  JobRecord job = Job(1, false);
  const std::string form = "<form method=\"post\" action=\"/jobs/42/cancel\"";
  EXPECT_EQ(std::string::npos, RenderJob(job, Context(true)).find(form));
  job.state = JobState::kPending;
  EXPECT_EQ(std::string::npos, RenderJob(job, Context(false)).find(form));
  EXPECT_NE(std::string::npos, RenderJob(job, Context(true)).find(form));
}

TEST(WebPagesTest, QueuedTasksHaveAWaitingColumnAndNoPlayerYet) {
  JobRecord job = Job(1, false);
  job.state = JobState::kPending;
  job.tasks[0] = TaskRecord();
  job.tasks[0].task = 5;
  const std::string page = RenderJob(job, Context());
  EXPECT_NE(std::string::npos, page.find("data-job-state=\"PENDING\""));
  EXPECT_NE(std::string::npos, page.find("<td data-field=\"waiting\"></td>"));
  EXPECT_NE(std::string::npos,
            page.find("data-task=\"5\">(no player yet)</span>"));
  job.tasks[0].waiting = broker::WaitReason::kEarlierJobs;
  EXPECT_NE(std::string::npos,
            RenderJob(job, Context())
                .find("<td data-field=\"waiting\">earlier_jobs</td>"));
}

TEST(WebPagesTest, StatesCarryTheWaitingReasonOfQueuedTasksOnly) {
  JobRecord job = Job(1, false);
  job.state = JobState::kPending;
  job.tasks.resize(2);
  job.tasks[0].task = 5;
  job.tasks[0].state = broker::TaskState::kQueued;
  job.tasks[1].task = 6;
  job.tasks[1].state = broker::TaskState::kRunning;
  const std::string states = JobStatesJson(
      job, [](broker::TaskId) { return broker::WaitReason::kRollout; });
  EXPECT_NE(
      std::string::npos,
      states.find("{\"task\":5,\"state\":\"QUEUED\",\"player\":\"host-1\","
                  "\"waiting\":\"rollout\"}"))
      << states;
  EXPECT_EQ(states.find("waiting"), states.rfind("waiting")) << states;
  EXPECT_EQ(std::string::npos, JobStatesJson(job).find("waiting"));
}

// ---- the overview and its JSON ----

OverviewData Overview() {
  OverviewData data;
  data.queued = 7;
  data.oldest_queued_age_ms = 65000;
  data.jobs_finished_last_hour = {{"OK", 4}};
  data.players_connected = 3;
  data.finished_per_minute.assign(60, {});
  data.finished_per_minute.back() = {{"OK", 5}, {"FAIL", 1}};
  data.recent_jobs = {Summary(9, "backup")};
  data.version = "1.2.3";
  return data;
}

TEST(WebPagesTest, OverviewShowsCountsChartAndRecentJobs) {
  const std::string page = RenderOverview(Overview(), Context());
  EXPECT_NE(std::string::npos, page.find("id=\"tasks-queued\">7<"));
  EXPECT_NE(std::string::npos,
            page.find("id=\"oldest-queued-age\">1 min 5 s<"));
  EXPECT_NE(std::string::npos, page.find("data-jobs-finished=\"OK\">4<"));
  EXPECT_NE(std::string::npos, page.find("data-jobs-finished=\"FAIL\">0<"));
  EXPECT_EQ(2u, Count(page, "<rect "));
  EXPECT_NE(std::string::npos, page.find("<tr data-job=\"9\">"));
  EXPECT_NE(std::string::npos,
            page.find("id=\"store-warning\" role=\"alert\" hidden"));
}

TEST(WebPagesTest, OverviewJsonHasTheDocumentedShape) {
  const auto json = nlohmann::json::parse(OverviewJson(Overview()));
  EXPECT_EQ(7, json["queued"]);
  EXPECT_EQ(65000, json["oldest_queued_age_ms"]);
  EXPECT_EQ(4, json["jobs_finished_last_hour"]["OK"]);
  EXPECT_EQ(3, json["players"]["connected"]);
  ASSERT_EQ(60u, json["finished_per_minute"].size());
  EXPECT_EQ(5, json["finished_per_minute"][59]["OK"]);
  EXPECT_EQ("FAIL", json["recent_jobs"][0]["state"]);
  EXPECT_EQ("2026-11-28T03:20:00.000Z", json["recent_jobs"][0]["finished_at"]);
  EXPECT_EQ(true, json["store_writable"]);
  EXPECT_EQ("1.2.3", json["version"]);
}

TEST(WebPagesTest, OverviewJsonWritesNullsAndRepairsUtf8) {
  OverviewData data = Overview();
  data.recent_jobs[0].score = "bad\xFF\"";
  data.recent_jobs[0].finished_at = 0;
  data.oldest_queued_age_ms.reset();
  const auto json = nlohmann::json::parse(OverviewJson(data));
  EXPECT_EQ("bad\xEF\xBF\xBD\"", json["recent_jobs"][0]["score"]);
  EXPECT_TRUE(json["recent_jobs"][0]["finished_at"].is_null());
  EXPECT_TRUE(json["oldest_queued_age_ms"].is_null());
}

// ---- the lists ----

TEST(WebPagesTest, JobsPageKeepsTheFilterInFormAndPagingLinks) {
  broker::JobsRequest filter;
  filter.state = JobState::kFail;
  filter.player = "web-1";
  filter.before = 100;
  const std::string page = RenderJobs(
      {Summary(99, "backup"), Summary(98, "backup")}, filter, true, Context());
  EXPECT_NE(std::string::npos, page.find("<option selected>FAIL</option>"));
  EXPECT_NE(
      std::string::npos,
      page.find("href=\"/jobs?state=FAIL&amp;player=web-1&amp;before=98\""));
  EXPECT_NE(
      std::string::npos,
      page.find(
          "id=\"jobs-newest\" href=\"/jobs?state=FAIL&amp;player=web-1\""));
}

TEST(WebPagesTest, JobsPageWithoutMoreHasNoNextLink) {
  const std::string page =
      RenderJobs({Summary(1, "backup")}, {}, false, Context());
  EXPECT_EQ(std::string::npos, page.find("jobs-next"));
  EXPECT_EQ(std::string::npos, page.find("jobs-newest"));
}

TEST(WebPagesTest, PlayersPageShowsRowsAndTheFilter) {
  PlayerInfo player;
  player.name = "web-1";
  player.connected = true;
  player.slots = 4;
  player.running = 1;
  player.last_seen = kNow - 2000;
  const std::string page = RenderPlayers({player}, "web-*", Context());
  EXPECT_NE(std::string::npos, page.find("<tr data-player=\"web-1\">"));
  EXPECT_NE(
      std::string::npos,
      page.find(
          "name=\"player\" placeholder=\"a glob: web-*\" value=\"web-*\""));
  EXPECT_NE(std::string::npos, page.find("data-connected=\"true\">yes"));
  EXPECT_NE(std::string::npos, page.find("(2 s ago)"));
}

TEST(WebPagesTest, AnonymousContextSaysReadOnly) {
  const std::string page = RenderError(404, "no such job", PageContext{});
  EXPECT_NE(std::string::npos, page.find("<title>404 Not Found"));
  EXPECT_NE(std::string::npos, page.find("read-only"));
}

TEST(WebPagesTest, PagesLoadNothingFromElsewhere) {
  const std::string page = RenderOverview(Overview(), Context());
  EXPECT_EQ(std::string::npos, page.find("http"));
  EXPECT_EQ(std::string::npos, page.find("//"));
  EXPECT_NE(std::string::npos, page.find("href=\"/static/orchestra.css\""));
  EXPECT_NE(std::string::npos, page.find("src=\"/static/orchestra.js\""));
}

}  // namespace
}  // namespace orchestra::conductor
