// End-to-end: a reply never exceeds the message limit (DESIGN.md section
// 6). A job over three players, each printing close to the output limit
// (raised to 1 MiB) on both streams, with 240 KiB of parameters, has a
// record of over 6 MiB: wait, status and the CLI still answer, say the
// record came in pages, and the pages together give every task whole.

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "broker/audience_protocol.h"
#include "test/cluster.h"

namespace orchestra::test {
namespace {

using broker::JobRecord;
using broker::TaskRecord;

constexpr size_t kOutputBytes = 1000000;

// A first line naming the player, then ~1 MB on stdout and on stderr.
const char kLoud[] =
    "#!/bin/sh\n"
    "echo \"from $ORC_PLAYER\"\n"
    "head -c 1000000 /dev/zero | tr '\\0' o\n"
    "head -c 1000000 /dev/zero | tr '\\0' e >&2\n";

class RecordTest : public testing::Test {
 protected:
  void SetUp() override {
    for (const char* name : {"p1", "p2", "p3"}) cluster_.AddPlayer(name);
    cluster_.WriteScoreEverywhere("loud", kLoud);
    ASSERT_TRUE(cluster_.StartConductor());
    for (const char* name : {"p1", "p2", "p3"})
      ASSERT_TRUE(cluster_.StartPlayer(name, "output limit = 1048576\n"));
    client_ = cluster_.Client();
    ASSERT_NE(nullptr, client_);
    broker::SubmitRequest request;
    request.score = "loud";
    request.scope = broker::Scope::kAll;
    request.players = {"p1", "p2", "p3"};
    for (const char* key : {"A", "B", "C", "D"})
      request.params[key] = std::string(60 * 1024, 'v');
    auto submitted = client_->Call(request, 10000);
    ASSERT_TRUE(submitted.ok()) << submitted.status().ToString();
    auto* reply = std::get_if<broker::SubmitReply>(&submitted.value().body);
    ASSERT_NE(nullptr, reply);
    job_ = reply->job;
  }

  // The job's record in the reply to `op`; its size in `*bytes`.
  JobRecord Ask(const broker::AudienceOp& op, size_t* bytes) {
    auto reply = client_->Call(op, 60000);
    EXPECT_TRUE(reply.ok()) << reply.status().ToString();
    if (!reply.ok()) return {};
    *bytes = client_->last_reply_bytes().size();
    auto* job = std::get_if<broker::JobReply>(&reply.value().body);
    EXPECT_NE(nullptr, job) << "not a job record";
    return job ? job->job : JobRecord{};
  }

  Cluster cluster_;
  std::unique_ptr<broker::AudienceClient> client_;
  broker::JobId job_ = 0;
};

TEST_F(RecordTest, WaitAndStatusOfARecordOverTheLimitComeInPages) {
  size_t bytes = 0;
  JobRecord first = Ask(broker::WaitRequest{job_, 60000}, &bytes);
  ASSERT_EQ(broker::JobState::kOk, first.state);
  EXPECT_LE(bytes, broker::kMaxReplyBytes);
  ASSERT_EQ(3, first.tasks_total.value_or(-1));  // it says it is a page
  EXPECT_EQ(0, first.tasks_from);
  EXPECT_LT(first.tasks.size(), 3u);
  EXPECT_EQ(4u, first.params.size());

  // The pages, as a client asks for them, give every task whole.
  std::vector<TaskRecord> tasks;
  size_t largest = 0;
  while (tasks.size() < 3) {
    broker::StatusRequest next{job_, static_cast<int64_t>(tasks.size())};
    JobRecord page = Ask(next, &bytes);
    largest = std::max(largest, bytes);
    ASSERT_EQ(static_cast<int64_t>(tasks.size()), page.tasks_from);
    ASSERT_EQ(3, page.tasks_total.value_or(-1));
    ASSERT_FALSE(page.tasks.empty());
    tasks.insert(tasks.end(), page.tasks.begin(), page.tasks.end());
  }
  EXPECT_LE(largest, broker::kMaxReplyBytes);
  std::set<std::string> players;
  for (const TaskRecord& t : tasks) {
    players.insert(t.player);
    EXPECT_EQ(broker::TaskState::kOk, t.state);
    EXPECT_FALSE(t.cut);
    EXPECT_EQ("from " + t.player + "\n" + std::string(kOutputBytes, 'o'),
              t.stdout_text);
    EXPECT_EQ(std::string(kOutputBytes, 'e'), t.stderr_text);
  }
  EXPECT_EQ((std::set<std::string>{"p1", "p2", "p3"}), players);

  // The whole record, as the conductor sent it before pages.
  JobRecord whole = first;
  whole.tasks = tasks;
  whole.tasks_total.reset();
  const size_t whole_bytes =
      broker::EncodeAudienceReply({int64_t{1}, broker::JobReply{whole}}).size();
  EXPECT_GT(whole_bytes, static_cast<size_t>(kMaxMessageBytes));
  std::printf("record %zu bytes as one reply; largest page %zu bytes\n",
              whole_bytes, largest);
}

TEST_F(RecordTest, TheCliShowsEveryTaskOfARecordOverTheLimit) {
  size_t bytes = 0;
  ASSERT_EQ(broker::JobState::kOk,
            Ask(broker::WaitRequest{job_, 60000}, &bytes).state);
  const std::string id = std::to_string(job_);

  CommandResult status = cluster_.Cli({"status", id});
  ASSERT_EQ(0, status.exit_code) << status.err;
  for (const char* player : {"p1", "p2", "p3"})
    EXPECT_NE(std::string::npos, status.out.find(std::string("from ") + player))
        << status.out;
  EXPECT_EQ(std::string::npos, status.out.find("tasks listed"));

  CommandResult wait = cluster_.Cli({"wait", id});
  ASSERT_EQ(0, wait.exit_code) << wait.err;
  EXPECT_NE(std::string::npos, wait.out.find("from p3")) << wait.out;

  CommandResult json = cluster_.Cli({"--json", "status", id});
  ASSERT_EQ(0, json.exit_code) << json.err;
  nlohmann::json record = nlohmann::json::parse(json.out);
  ASSERT_EQ(3u, record["tasks"].size());
  EXPECT_FALSE(record.contains("tasks_total"));
  for (const auto& task : record["tasks"])
    EXPECT_EQ(kOutputBytes, task["stderr"].get<std::string>().size());

  CommandResult page = cluster_.Cli({"status", "--tasks-limit", "1", id});
  ASSERT_EQ(0, page.exit_code) << page.err;
  EXPECT_NE(std::string::npos, page.out.find("1 of 3 tasks listed"))
      << page.out;
  EXPECT_NE(std::string::npos,
            page.out.find("orchestra status " + id + " --tasks-from 1"));
  CommandResult last = cluster_.Cli({"status", "--tasks-from", "2", id});
  ASSERT_EQ(0, last.exit_code) << last.err;
  EXPECT_NE(std::string::npos, last.out.find("1 of 3 tasks listed, from "
                                             "task #2"))
      << last.out;
  EXPECT_EQ(std::string::npos, last.out.find("more:"));
}

}  // namespace
}  // namespace orchestra::test
