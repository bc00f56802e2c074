// End-to-end tests of a full disk (DESIGN.md section 15) with the real
// binaries: the conductor's database, or a player's journal, on a small
// tmpfs mounted by the test (test/small_disk.h; skipped if it cannot mount)
// that a filler fills to the last byte. Scores append to a marker file, so
// what ran, and where, can be counted; one waits on a FIFO the test opens.

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <map>

#include "broker/audience_protocol.h"
#include "test/cluster.h"
#include "test/file_watch.h"
#include "test/small_disk.h"

namespace orchestra::test {
namespace {

using broker::ErrorCode;
using broker::JobId;
using broker::JobRecord;
using broker::JobState;
using broker::Scope;
using broker::TaskState;

class DiskTest : public testing::Test {
 protected:
  void SetUp() override {
    if (!disk_.error().empty()) GTEST_SKIP() << disk_.error();
    marks_ = cluster_.dir() + "/marks";
    gate_ = cluster_.dir() + "/gate";
    cluster_.AddPlayer("p1");
    cluster_.AddPlayer("p2");
    cluster_.WriteScoreEverywhere(
        "mark",
        "#!/bin/sh\necho \"$ORC_TASK_ID $ORC_PLAYER\" >> " + marks_ + "\n");
    // Waits until the test writes a line to the gate FIFO.
    cluster_.WriteScoreEverywhere(
        "gate", "#!/bin/sh\nread line < " + gate_ + "\necho released\n");
    ASSERT_EQ(0, ::mkfifo(gate_.c_str(), 0600));
    // Held open for reading and writing, the FIFO never blocks the score's
    // open, and what the test writes waits in it for the score's read.
    gate_fd_ = ::open(gate_.c_str(), O_RDWR | O_CLOEXEC);
    ASSERT_GE(gate_fd_, 0);
  }
  void TearDown() override {
    if (gate_fd_ >= 0) ::close(gate_fd_);
  }

  void Start(const std::string& p2_extra = "") {
    ASSERT_TRUE(cluster_.StartConductor());
    ASSERT_TRUE(cluster_.StartPlayer("p1"));
    ASSERT_TRUE(cluster_.StartPlayer("p2", p2_extra));
    client_ = cluster_.Client();
    ASSERT_NE(nullptr, client_);
  }
  broker::AudienceReply Call(const broker::AudienceOp& op) {
    auto reply = client_->Call(op, 20000);
    EXPECT_TRUE(reply.ok()) << reply.status().ToString();
    return reply.ok() ? reply.value() : broker::AudienceReply{};
  }
  static broker::SubmitRequest Request(const std::string& score, Scope scope,
                                       std::vector<std::string> players) {
    broker::SubmitRequest r;
    r.score = score;
    r.scope = scope;
    r.players = std::move(players);
    return r;
  }
  JobId Submit(const broker::SubmitRequest& r) {
    broker::AudienceReply reply = Call(r);
    const auto* id = std::get_if<broker::SubmitReply>(&reply.body);
    EXPECT_NE(nullptr, id) << "submit refused";
    return id ? id->job : 0;
  }
  // The error of a refused submit (code kBadRequest if it was accepted).
  broker::AudienceError Refused(const broker::SubmitRequest& r) {
    broker::AudienceReply reply = Call(r);
    const auto* e = std::get_if<broker::ErrorReply>(&reply.body);
    return e ? e->error : broker::AudienceError{};
  }
  JobRecord Wait(JobId job) {
    broker::AudienceReply reply = Call(broker::WaitRequest{job, 20000});
    const auto* record = std::get_if<broker::JobReply>(&reply.body);
    EXPECT_NE(nullptr, record);
    if (record == nullptr) return {};
    EXPECT_FALSE(record->timed_out) << "job " << job << " still pending";
    return record->job;
  }
  JobRecord Status(JobId job) {
    broker::AudienceReply reply = Call(broker::StatusRequest{job});
    const auto* record = std::get_if<broker::JobReply>(&reply.body);
    EXPECT_NE(nullptr, record);
    return record ? record->job : JobRecord{};
  }
  // The marker lines ("TASK PLAYER") by player.
  std::map<std::string, int> Marks() {
    std::map<std::string, int> by_player;
    for (const std::string& line : Lines(ReadText(marks_)))
      ++by_player[line.substr(line.find(' ') + 1)];
    return by_player;
  }
  bool WaitForLog(Process* process, const std::string& pattern,
                  size_t from = 0) {
    return process->WaitForLog(pattern, 30s, from).has_value();
  }

  SmallDisk disk_{4 << 20};
  Cluster cluster_;
  std::string marks_;
  std::string gate_;
  int gate_fd_ = -1;
  std::unique_ptr<broker::AudienceClient> client_;
};

// The story: the disk under the conductor's database filled up and the
// conductor exited ("store failed: database or disk is full"); under
// systemd it would have restarted into the same full disk again and again.
// Now it refuses only what would write, keeps answering, loses nothing,
// and carries on by itself once the disk has room.
TEST_F(DiskTest, TheConductorRidesOutAFullDiskAndCarriesOnWhenFreed) {
  cluster_.SetDatabasePath(disk_.File("conductor.db"));
  Start();
  const JobId done = Submit(Request("mark", Scope::kAll, {"p1", "p2"}));
  ASSERT_EQ(JobState::kOk, Wait(done).state);
  const JobId gated = Submit(Request("gate", Scope::kOne, {"p1"}));
  ASSERT_TRUE(WaitForLog(cluster_.player("p1"), "task started task="));
  ASSERT_TRUE(disk_.Fill());
  broker::SubmitRequest big = Request("mark", Scope::kOne, {"p1"});
  for (const char* key : {"A", "B", "C", "D"})
    big.params[key] = std::string(60000, 'x');  // pages the WAL must add
  broker::AudienceError refused = Refused(big);
  EXPECT_EQ(ErrorCode::kUnavailable, refused.code);
  EXPECT_EQ(0u, refused.message.find("database: disk full")) << refused.message;
  ASSERT_TRUE(WaitForLog(cluster_.conductor(), "store failed error="));
  EXPECT_EQ(ErrorCode::kUnavailable,
            Refused(Request("mark", Scope::kOne, {"p2"})).code);
  // Reads answer from what is committed.
  EXPECT_EQ(JobState::kOk, Wait(done).state);
  EXPECT_EQ(JobState::kPending, Status(gated).state);
  EXPECT_EQ(2u, std::get<broker::JobsReply>(Call(broker::JobsRequest{}).body)
                    .jobs.size());
  // A result produced meanwhile is kept by its player, not acknowledged.
  ASSERT_EQ(3, ::write(gate_fd_, "go\n", 3));
  ASSERT_TRUE(WaitForLog(cluster_.player("p1"), "task finished .*state=OK"));
  EXPECT_EQ(JobState::kPending, Status(gated).state);
  disk_.Free();
  ASSERT_TRUE(WaitForLog(cluster_.conductor(), "store writable again"));
  JobRecord record = Wait(gated);
  EXPECT_EQ(JobState::kOk, record.state);
  EXPECT_EQ("released\n", record.tasks.at(0).stdout_text);
  EXPECT_EQ(JobState::kOk, Wait(Submit(big)).state);
  EXPECT_EQ(JobState::kOk, Wait(done).state);
  EXPECT_FALSE(cluster_.conductor()->Wait(0ms).has_value()) << "it exited";
  EXPECT_EQ(1u, cluster_.conductor()->CountLog("store failed error="));
  EXPECT_EQ(1u, cluster_.conductor()->CountLog("store writable again"));
}

// A conductor started on a disk with no room left starts all the same,
// serves reads, and takes submits once there is room.
TEST_F(DiskTest, TheConductorStartsOnAFullDisk) {
  cluster_.SetDatabasePath(disk_.File("conductor.db"));
  Start();
  const JobId done = Submit(Request("mark", Scope::kAll, {"p1"}));
  ASSERT_EQ(JobState::kOk, Wait(done).state);
  cluster_.KillConductor(SIGKILL);
  ASSERT_TRUE(disk_.Fill());
  ASSERT_TRUE(cluster_.RestartConductor());
  client_ = cluster_.Client();
  ASSERT_NE(nullptr, client_);
  EXPECT_TRUE(WaitForLog(cluster_.conductor(), "store failed error="));
  EXPECT_EQ(JobState::kOk, Status(done).state);
  EXPECT_EQ(ErrorCode::kUnavailable,
            Refused(Request("mark", Scope::kAll, {"p1"})).code);
  disk_.Free();
  ASSERT_TRUE(WaitForLog(cluster_.conductor(), "store writable again"));
  EXPECT_EQ(JobState::kOk,
            Wait(Submit(Request("mark", Scope::kAll, {"p1"}))).state);
}

// The story: a player whose journal disk filled exited. Now it stays
// connected, refuses the task it cannot journal with HOST_ERROR (running
// nothing), so the `one` job moves on to another player; and it takes
// tasks again once its disk has room, without a restart.
TEST_F(DiskTest, APlayerWithAFullJournalRefusesTasksAndTheJobMovesOn) {
  cluster_.SetJournalPath("p1", disk_.File("p1.db"));
  Start("slots = 1\n");  // p1 has the most free slots: it is asked first
  ASSERT_TRUE(disk_.Fill());
  JobRecord record = Wait(Submit(Request("mark", Scope::kOne, {"p1", "p2"})));
  EXPECT_EQ(JobState::kOk, record.state);
  ASSERT_EQ(2u, record.tasks.size());
  EXPECT_EQ("p1", record.tasks[0].player);
  EXPECT_EQ(TaskState::kHostError, record.tasks[0].state);
  EXPECT_EQ("journal: disk full", record.tasks[0].error);
  EXPECT_EQ("p2", record.tasks[1].player);
  EXPECT_EQ((std::map<std::string, int>{{"p2", 1}}), Marks());
  const size_t mark = cluster_.player("p1")->LogSize();
  disk_.Free();
  ASSERT_TRUE(
      WaitForLog(cluster_.player("p1"), "journal writable again", mark));
  EXPECT_EQ(JobState::kOk,
            Wait(Submit(Request("mark", Scope::kAll, {"p1"}))).state);
  EXPECT_EQ((std::map<std::string, int>{{"p1", 1}, {"p2", 1}}), Marks());
  EXPECT_FALSE(cluster_.player("p1")->Wait(0ms).has_value()) << "it exited";
  EXPECT_EQ(1u, cluster_.conductor()->CountLog("player joined player=p1 "));
}

}  // namespace
}  // namespace orchestra::test
