// Tests of tools/report.h: the human-readable text of jobs and players.

#include "tools/report.h"

#include <sstream>

#include "test/test_util.h"

namespace orchestra::tools {
namespace {

using broker::JobRecord;
using broker::TaskRecord;
using broker::TaskState;

constexpr common::TimeMs kCreated = 1795000000000;  // 2026-11-18T11:06:40Z

class ReportTest : public testing::Test {
 protected:
  static TaskRecord Task(int64_t id, const std::string& player, TaskState state,
                         const std::string& out) {
    TaskRecord t;
    t.task = id;
    t.player = player;
    t.state = state;
    t.stdout_text = out;
    return t;
  }

  static JobRecord PartlyFailedJob() {
    JobRecord job;
    job.id = 42;
    job.score = "backup";
    job.scope = broker::Scope::kAll;
    job.state = broker::JobState::kPartialFail;
    job.submitted_by = "alice";
    job.created_at = kCreated;
    job.finished_at = kCreated + 5300;
    job.tasks.push_back(Task(1, "web-1", TaskState::kOk, "copied 3 files\n"));
    job.tasks.push_back(
        Task(12, "db-primary", TaskState::kFail, "\nno disk\nx"));
    job.tasks[0].exit_code = 0;
    job.tasks[1].signal = 9;
    job.tasks[1].started_at = kCreated + 100;
    job.tasks[1].finished_at = kCreated + 2600;
    return job;
  }

  static std::vector<std::string> Lines(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
  }
};

TEST_F(ReportTest, FormatsDurationsForPeople) {
  EXPECT_EQ("850ms", FormatDuration(850));
  EXPECT_EQ("12.3s", FormatDuration(12345));
  EXPECT_EQ("4m05s", FormatDuration(245000));
  EXPECT_EQ("2h03m", FormatDuration(7380000));
  EXPECT_EQ("-", FormatDuration(-1));
}

TEST_F(ReportTest, CountsPutFinishedStatesFirst) {
  EXPECT_EQ(
      "OK 30  FAIL 7  RUNNING 63",
      FormatCounts({{"RUNNING", 63}, {"OK", 30}, {"FAIL", 7}, {"QUEUED", 0}}));
}

TEST_F(ReportTest, SummaryLinePrefersErrorThenStdoutThenStderr) {
  TaskRecord t = Task(1, "w", TaskState::kOk, "");
  t.stderr_text = "oops\n";
  EXPECT_EQ("oops", TaskSummaryLine(t));
  t.stdout_text = "\n  \nfirst\nsecond";
  EXPECT_EQ("first", TaskSummaryLine(t));
  t.error = "exec failed";
  EXPECT_EQ("exec failed", TaskSummaryLine(t));
}

TEST_F(ReportTest, SummaryLineOfAFailureIsTheLastLineOfStderr) {
  TaskRecord t = Task(1, "w", TaskState::kFail, "");
  t.stdout_text = "checking\n";
  EXPECT_EQ("checking", TaskSummaryLine(t));
  t.stderr_text = "warning: slow\ndisk full\n  \n";
  EXPECT_EQ("disk full", TaskSummaryLine(t));
  t.stderr_text = "only line";
  EXPECT_EQ("only line", TaskSummaryLine(t));
}

TEST_F(ReportTest, JobHeaderNamesIdScoreScopeStateTimesAndSubmitter) {
  std::vector<std::string> lines = Lines(FormatJob(PartlyFailedJob(), false));
  ASSERT_LE(2u, lines.size());
  EXPECT_EQ("job 42  score backup  scope all  state PARTIAL_FAIL", lines[0]);
  EXPECT_EQ(
      "created 2026-11-18T11:06:40.000Z  finished "
      "2026-11-18T11:06:45.300Z (5.3s)  submitted by alice",
      lines[1]);
}

TEST_F(ReportTest, TaskTableHasOneAlignedLinePerTask) {
  std::vector<std::string> lines = Lines(FormatJob(PartlyFailedJob(), false));
  ASSERT_EQ(6u, lines.size());  // header, times, blank, titles, two tasks
  EXPECT_EQ("TASK  PLAYER      ATTEMPT  STATE      EXIT  DURATION  OUTPUT",
            lines[3]);
  EXPECT_EQ(
      "   1  web-1             1  OK            0         -  copied 3 files",
      lines[4]);
  EXPECT_EQ("  12  db-primary        1  FAIL   signal 9      2.5s  no disk",
            lines[5]);
}

TEST_F(ReportTest, VerboseShowsParamsAndFullOutput) {
  JobRecord job = PartlyFailedJob();
  job.params["target"] = "/srv";
  job.tasks[1].stdout_truncated = true;
  const std::string text = FormatJob(job, true);
  EXPECT_NE(std::string::npos, text.find("param target=/srv\n"));
  EXPECT_NE(std::string::npos,
            text.find("  stdout (truncated):\n    \n    no disk\n    x\n"));
}

TEST_F(ReportTest, APageSaysWhichTasksItListsAndHowToGetTheRest) {
  JobRecord job = PartlyFailedJob();
  EXPECT_EQ(std::string::npos, FormatJob(job, false).find("tasks listed"));
  job.tasks_from = 100;
  job.tasks_total = 250;
  EXPECT_NE(std::string::npos,
            FormatJob(job, false)
                .find("\n2 of 250 tasks listed, from task #100 (0 is the "
                      "first); more: orchestra status 42 --tasks-from 102\n"));
  job.tasks_from = 248;
  const std::string last = FormatJob(job, false);
  EXPECT_NE(std::string::npos, last.find("2 of 250 tasks listed"));
  EXPECT_EQ(std::string::npos, last.find("more:"));
}

TEST_F(ReportTest, VerboseSaysATaskWasCutToFitOneReply) {
  JobRecord job = PartlyFailedJob();
  job.tasks[0].cut = true;
  job.tasks[0].stdout_truncated = true;
  const std::string text = FormatJob(job, true);
  EXPECT_NE(std::string::npos, text.find("cut to fit one reply"));
  EXPECT_NE(std::string::npos, text.find("stdout (truncated)"));
}

TEST_F(ReportTest, TaskWithoutPlayerShowsDash) {
  JobRecord job = PartlyFailedJob();
  job.tasks = {Task(3, "", TaskState::kQueued, "")};
  EXPECT_EQ("   3  -             1  QUEUED     -         -",
            Lines(FormatJob(job, false))[4]);
}

TEST_F(ReportTest, JobsAndPlayersAreTables) {
  broker::JobSummary summary;
  summary.id = 9;
  summary.score = "deploy";
  summary.tasks_by_state = {{"OK", 2}};
  EXPECT_EQ(
      "JOB  STATE    SCORE   SCOPE  PLAYERS  TASKS  CREATED  FINISHED  BY\n"
      "  9  PENDING  deploy  one          0  OK 2   -        -\n",
      FormatJobs({summary}));
  broker::PlayerInfo player{"web-1", true, 0, "1.0", 4, 1, {"a", "b"}};
  player.labels = {{"role", "web"}, {"dc", "syd"}};
  EXPECT_EQ(
      "PLAYER  CONNECTED  LAST SEEN  VERSION  SLOTS  RUNNING  LABELS           "
      "SCORES\n"
      "web-1   yes        -          1.0          4        1  dc=syd role=web  "
      "a,b\n",
      FormatPlayers({player}));
}

// 9,997 identical OK results on one line, the 3 failures apart.
TEST_F(ReportTest, GroupedJobFoldsIdenticalOutcomes) {
  JobRecord job;
  job.id = 812;
  job.score = "restart-nginx";
  job.scope = broker::Scope::kAll;
  job.state = broker::JobState::kPartialFail;
  for (int i = 0; i < 10000; ++i) {
    TaskRecord t;
    t.task = i + 1;
    t.player = "web-" + std::to_string(i);
    const bool failed = i >= 9997;
    t.state = failed ? broker::TaskState::kFail : broker::TaskState::kOk;
    t.exit_code = failed ? 1 : 0;
    t.stdout_text = "restarted\n";
    if (failed)
      t.stderr_text =
          "nginx: config test failed on web-" + std::to_string(i) + "\n";
    job.tasks.push_back(t);
  }
  const std::string out = FormatGroupedJob(job);
  EXPECT_NE(
      std::string::npos,
      out.find("9997  OK        0  web-0,web-1,web-2 and 9994 more  restarted"))
      << out;
  EXPECT_NE(std::string::npos,
            out.find("nginx: config test failed on web-9999"));
  size_t lines = 0;
  for (char c : out.substr(out.find("TASKS"))) lines += c == '\n';
  EXPECT_EQ(5u, lines);  // the heading, one OK group, three failures
}

TEST_F(ReportTest, HeaderSaysTheTargetRolloutAndPriorityWhenGiven) {
  JobRecord job = PartlyFailedJob();
  EXPECT_EQ(std::string::npos, FormatJob(job, false).find("target"));
  job.target = "role=web dc=syd";
  job.max_concurrency = broker::RolloutLimit{10, true};
  job.max_errors = broker::RolloutLimit{2, false};
  job.priority = 50;
  EXPECT_EQ(
      "target 'role=web dc=syd'  max concurrency 10%  max errors 2  "
      "priority 50",
      Lines(FormatJob(job, false))[1]);
}

TEST_F(ReportTest, BytesReadInBinaryUnits) {
  EXPECT_EQ("0B", FormatBytes(0));
  EXPECT_EQ("1023B", FormatBytes(1023));
  EXPECT_EQ("1.0K", FormatBytes(1024));
  EXPECT_EQ("256.0M", FormatBytes(int64_t{256} << 20));
  EXPECT_EQ("1.5G", FormatBytes(int64_t{3} << 29));
  EXPECT_EQ("8.0E", FormatBytes(INT64_MAX));
}

// A task that ran in a cgroup has a cost (DESIGN.md 16): CPU and MEMORY
// columns appear, "-" for the tasks without one, and verbose says it.
TEST_F(ReportTest, CostColumnsAppearOnlyWhenATaskHasACost) {
  JobRecord job = PartlyFailedJob();
  EXPECT_EQ(std::string::npos, FormatJob(job, false).find("CPU"));
  job.tasks[0].cpu_us = 1250000;
  job.tasks[0].memory_peak_bytes = int64_t{64} << 20;
  std::vector<std::string> lines = Lines(FormatJob(job, false));
  ASSERT_EQ(6u, lines.size());
  EXPECT_EQ(
      "TASK  PLAYER      ATTEMPT  STATE      EXIT  DURATION    CPU  MEMORY  "
      "OUTPUT",
      lines[3]);
  EXPECT_NE(std::string::npos, lines[4].find("  1.25s   64.0M  copied 3 files"))
      << lines[4];
  EXPECT_NE(std::string::npos, lines[5].find("      -       -  no disk"))
      << lines[5];
  EXPECT_NE(std::string::npos,
            FormatJob(job, true).find("  cpu 1.25s  memory peak 64.0M\n"));
}

TEST_F(ReportTest, QueuedTasksSayWhyTheyWaitListedAndGrouped) {
  JobRecord job = PartlyFailedJob();
  job.tasks.clear();
  for (int i = 0; i < 3; ++i) {
    TaskRecord t =
        Task(i + 1, "web-" + std::to_string(i), TaskState::kQueued, "");
    t.waiting = i == 0 ? broker::WaitReason::kPlayerOffline
                       : broker::WaitReason::kRollout;
    job.tasks.push_back(t);
  }
  const std::string listed = FormatJob(job, false);
  EXPECT_NE(std::string::npos, listed.find("waiting: player_offline"))
      << listed;
  EXPECT_NE(std::string::npos, listed.find("waiting: rollout")) << listed;
  const std::string grouped = FormatGroupedJob(job);
  EXPECT_NE(std::string::npos,
            grouped.find("3  QUEUED     -  web-0,web-1,web-2  "
                         "waiting: player_offline, rollout"))
      << grouped;
}

}  // namespace
}  // namespace orchestra::tools
