// Tests for conductor/record_pager.h: the pages of a job record fit one
// reply, hold whole tasks, and together give every task; only a task too
// large for a page of its own is cut, in the documented order.

#include "conductor/record_pager.h"

#include <gtest/gtest.h>

#include <string>

#include "broker/audience_protocol.h"
#include "common/text.h"

namespace orchestra::conductor {
namespace {

using broker::JobRecord;
using broker::TaskRecord;

constexpr size_t kMiB = 1 << 20;

TaskRecord Task(int64_t id, const std::string& player, size_t out_bytes,
                size_t err_bytes) {
  TaskRecord t;
  t.task = id;
  t.player = player;
  t.state = broker::TaskState::kOk;
  t.exit_code = 0;
  t.stdout_text = std::string(out_bytes, 'o');
  t.stderr_text = std::string(err_bytes, 'e');
  t.response = {{"answer", std::to_string(id)}};
  t.dispatched_at = 1764300000000;
  t.started_at = 1764300000100;
  t.finished_at = 1764300000200;
  return t;
}

JobRecord Job(int tasks, size_t out_bytes, size_t err_bytes) {
  JobRecord job;
  job.id = 17;
  job.score = "inventory";
  job.scope = broker::Scope::kAll;
  job.state = broker::JobState::kOk;
  job.submitted_by = "ops";
  job.created_at = 1764300000000;
  job.finished_at = 1764300001000;
  for (int i = 0; i < 4; ++i)
    job.params["P" + std::to_string(i)] = std::string(60 << 10, 'p');
  for (int i = 1; i <= tasks; ++i) {
    const std::string player = "host-" + std::to_string(i);
    job.players.push_back(player);
    job.tasks.push_back(Task(100 + i, player, out_bytes, err_bytes));
  }
  return job;
}

size_t ReplySize(const JobRecord& job) {
  return broker::EncodeAudienceReply({int64_t{12345}, broker::JobReply{job}})
      .size();
}

// Every page from the first, as a client asks for them.
std::vector<JobRecord> AllPages(const JobRecord& job, size_t budget,
                                int64_t limit = broker::kMaxTasksLimit) {
  std::vector<JobRecord> pages;
  int64_t from = 0;
  for (;;) {
    pages.push_back(RecordPager::Page(job, from, limit, budget));
    const JobRecord& page = pages.back();
    if (!page.tasks_total) break;
    from = page.tasks_from + static_cast<int64_t>(page.tasks.size());
    if (from >= *page.tasks_total || page.tasks.empty()) break;
  }
  return pages;
}

TEST(RecordPagerTest, ARecordThatFitsIsSentWholeWithoutPagingFields) {
  JobRecord job = Job(3, 100, 10);
  JobRecord page = RecordPager::Page(job, 0, broker::kMaxTasksLimit);
  EXPECT_FALSE(page.tasks_total.has_value());
  EXPECT_EQ(0, page.tasks_from);
  EXPECT_EQ(0, page.players_omitted);
  EXPECT_EQ(broker::EncodeAudienceReply({int64_t{1}, broker::JobReply{job}}),
            broker::EncodeAudienceReply({int64_t{1}, broker::JobReply{page}}));
}

// Every header field is kept, those of a rollout by target too.
TEST(RecordPagerTest, APageKeepsTheWholeHeader) {
  JobRecord job = Job(3, 100, 10);
  job.target = "role=web dc=syd";
  job.max_concurrency = broker::RolloutLimit{25, true};
  job.max_errors = broker::RolloutLimit{1, false};
  job.priority = -9;
  job.timeout_s = 60;
  job.delivery_timeout_s = 0;
  job.tasks[2].waiting = broker::WaitReason::kEarlierJobs;
  JobRecord page = RecordPager::Page(job, 0, broker::kMaxTasksLimit);
  EXPECT_EQ(broker::EncodeAudienceReply({int64_t{1}, broker::JobReply{job}}),
            broker::EncodeAudienceReply({int64_t{1}, broker::JobReply{page}}));
  JobRecord later = RecordPager::Page(job, 1, 1);
  EXPECT_EQ("role=web dc=syd", later.target);
  EXPECT_EQ(job.max_concurrency, later.max_concurrency);
  EXPECT_EQ(job.max_errors, later.max_errors);
  EXPECT_EQ(-9, later.priority);
}

// The job of the report: six players each near the output limit on both
// streams, and large params: 12.5 MiB as one reply.
TEST(RecordPagerTest, ALargeJobComesInPagesUnderTheLimitThatGiveEveryTask) {
  JobRecord job = Job(6, kMiB - 100, kMiB - 100);
  ASSERT_GT(ReplySize(job), static_cast<size_t>(kMaxMessageBytes));
  std::vector<JobRecord> pages = AllPages(job, broker::kMaxReplyBodyBytes);
  ASSERT_GT(pages.size(), 1u);
  std::vector<TaskRecord> tasks;
  for (const JobRecord& page : pages) {
    EXPECT_LE(ReplySize(page), broker::kMaxReplyBytes);
    EXPECT_EQ(6, page.tasks_total.value_or(-1));
    EXPECT_EQ(static_cast<int64_t>(tasks.size()), page.tasks_from);
    EXPECT_EQ(job.players, page.players);
    EXPECT_EQ(job.params, page.params);
    for (const TaskRecord& t : page.tasks) {
      EXPECT_FALSE(t.cut);
      tasks.push_back(t);
    }
  }
  ASSERT_EQ(job.tasks.size(), tasks.size());
  for (size_t i = 0; i < tasks.size(); ++i) {
    EXPECT_EQ(job.tasks[i].task, tasks[i].task);
    EXPECT_EQ(job.tasks[i].stdout_text, tasks[i].stdout_text);
    EXPECT_EQ(job.tasks[i].stderr_text, tasks[i].stderr_text);
  }
}

TEST(RecordPagerTest, APageIsFilledUpToItsBudget) {
  JobRecord job = Job(10, 1000, 0);
  const size_t one = broker::EncodedSize(job.tasks[0]);
  JobRecord header = job;
  header.tasks.clear();
  const size_t budget = broker::EncodedHeaderSize(header) + 64 + 4 * one;
  JobRecord page = RecordPager::Page(job, 0, broker::kMaxTasksLimit, budget);
  EXPECT_EQ(4u, page.tasks.size());
  EXPECT_LE(ReplySize(page), budget + 64);
}

TEST(RecordPagerTest, FromAndLimitChooseThePage) {
  JobRecord job = Job(10, 10, 10);
  JobRecord page = RecordPager::Page(job, 3, 4);
  ASSERT_EQ(4u, page.tasks.size());
  EXPECT_EQ(104, page.tasks[0].task);
  EXPECT_EQ(3, page.tasks_from);
  EXPECT_EQ(10, page.tasks_total.value_or(-1));

  JobRecord first = RecordPager::Page(job, 0, 2);
  EXPECT_EQ(2u, first.tasks.size());
  EXPECT_EQ(10, first.tasks_total.value_or(-1));  // not all of them

  JobRecord last = RecordPager::Page(job, 8, 100);
  EXPECT_EQ(2u, last.tasks.size());
  EXPECT_EQ(10, last.tasks_total.value_or(-1));  // not from the first
}

TEST(RecordPagerTest, APageBeyondTheLastTaskIsEmptyAndSaysSo) {
  JobRecord page = RecordPager::Page(Job(3, 10, 10), 7, 100);
  EXPECT_TRUE(page.tasks.empty());
  EXPECT_EQ(7, page.tasks_from);
  EXPECT_EQ(3, page.tasks_total.value_or(-1));
}

TEST(RecordPagerTest, ATaskTooLargeForAPageAloneIsCutKeepingTheEnds) {
  JobRecord job = Job(2, 0, 0);
  job.params.clear();
  job.tasks[0].stdout_text = "first line\n" + std::string(500000, 'o') + "END";
  job.tasks[0].stderr_text = std::string(20, 'e');
  const size_t budget = 300000;
  std::vector<JobRecord> pages = AllPages(job, budget);
  ASSERT_EQ(2u, pages.size());  // each page gets further
  ASSERT_EQ(1u, pages[0].tasks.size());
  const TaskRecord& cut = pages[0].tasks[0];
  EXPECT_TRUE(cut.cut);
  EXPECT_TRUE(cut.stdout_truncated);
  EXPECT_FALSE(cut.stderr_truncated);  // short: kept whole
  EXPECT_EQ(std::string(20, 'e'), cut.stderr_text);
  EXPECT_EQ("END", cut.stdout_text.substr(cut.stdout_text.size() - 3));
  EXPECT_GT(cut.stdout_text.size(), budget / 2);  // the room is used
  EXPECT_EQ(cut.response, job.tasks[0].response);
  EXPECT_LE(ReplySize(pages[0]), budget + 64);
  ASSERT_EQ(1u, pages[1].tasks.size());
  EXPECT_FALSE(pages[1].tasks[0].cut);
}

TEST(RecordPagerTest, CuttingOutputsSharesTheRoomAndKeepsCharactersWhole) {
  TaskRecord task = Task(1, "host-1", 0, 0);
  std::string text;
  for (int i = 0; i < 40000; ++i) text += "\xc3\xa9";  // é
  task.stdout_text = text;
  task.stderr_text = text;
  RecordPager::Shrink(&task, 20000);
  EXPECT_TRUE(task.cut);
  EXPECT_LE(broker::EncodedSize(task), 20000u);
  EXPECT_TRUE(common::IsValidUtf8(task.stdout_text));
  EXPECT_TRUE(common::IsValidUtf8(task.stderr_text));
  EXPECT_GT(task.stdout_text.size(), 9000u);
  EXPECT_GT(task.stderr_text.size(), 9000u);
}

TEST(RecordPagerTest, AfterTheOutputsResponseEntriesGoFromTheLastThenError) {
  TaskRecord task = Task(1, "host-1", 5000, 5000);
  task.response.clear();
  for (int i = 0; i < 100; ++i)
    task.response["k" + std::to_string(1000 + i)] = std::string(1000, 'r');
  task.error = std::string(50000, 'x');
  RecordPager::Shrink(&task, 30000);
  EXPECT_TRUE(task.stdout_text.empty());
  EXPECT_TRUE(task.stderr_text.empty());
  EXPECT_TRUE(task.response.empty());
  EXPECT_LT(task.error.size(), 30000u);
  EXPECT_GT(task.error.size(), 29000u);
  EXPECT_LE(broker::EncodedSize(task), 30000u);

  TaskRecord some = Task(1, "host-1", 100, 100);
  some.response.clear();
  for (int i = 0; i < 100; ++i)
    some.response["k" + std::to_string(1000 + i)] = std::string(1000, 'r');
  RecordPager::Shrink(&some, 50000);
  EXPECT_LE(broker::EncodedSize(some), 50000u);
  EXPECT_GT(some.response.size(), 40u);
  EXPECT_EQ(1u, some.response.count("k1000"));  // the first are kept
  EXPECT_EQ(0u, some.response.count("k1099"));
}

TEST(RecordPagerTest, APlayersListBeyondOneMibIsCountedNotListed) {
  JobRecord job = Job(1, 10, 10);
  job.players.clear();
  for (int i = 0; i < 100000; ++i)
    job.players.push_back("host-" + std::to_string(i) + ".example.net");
  JobRecord page = RecordPager::Page(job, 0, broker::kMaxTasksLimit);
  EXPECT_EQ(100000,
            static_cast<int64_t>(page.players.size()) + page.players_omitted);
  EXPECT_GT(page.players_omitted, 0);
  EXPECT_EQ(job.players[0], page.players[0]);
  size_t names = 0;
  for (const std::string& p : page.players)
    names += broker::EncodedStringSize(p.size());
  EXPECT_LE(names, broker::kMaxRecordPlayersBytes);
  EXPECT_EQ(1u, page.tasks.size());
}

}  // namespace
}  // namespace orchestra::conductor
