// Tests for player/player.cc (with task_board.cc, session.cc, config.cc):
// the real Player against a fake conductor, an in-process ROUTER with Curve
// server keys on tcp://127.0.0.1:*. Scores run through FakeProcessRunner,
// so the tests decide when each task ends; one test uses real processes.

#include "player/player.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <fstream>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "broker/endpoint.h"
#include "broker/poller.h"
#include "common/files.h"
#include "common/sqlite.h"
#include "test/fake_process_runner.h"
#include "test/file_watch.h"
#include "test/small_disk.h"
#include "test/test_util.h"

namespace orchestra::player {
namespace {

using broker::TaskState;

class PlayerTest : public testing::Test {
 protected:
  void SetUp() override {
    auto conductor_keys = broker::GenerateKeyPair();
    auto player_keys = broker::GenerateKeyPair();
    ASSERT_OK(conductor_keys.status());
    ASSERT_OK(player_keys.status());
    ASSERT_OK(
        broker::WriteKeyPair(dir_.path(), "conductor", conductor_keys.value()));
    ASSERT_OK(broker::WriteKeyPair(dir_.path(), "player", player_keys.value()));
    conductor_keys_ = std::move(conductor_keys.value());
    std::string endpoint = AddConductor();
    ASSERT_FALSE(endpoint.empty());
    TalkTo(0);
    ASSERT_OK(common::MakeDirectories(dir_.File("scores"), 0755));
    AddScore("alpha");
    config_.player_name = "test-player";
    config_.conductor_endpoints = {endpoint};
    config_.conductor_public_key = dir_.File("conductor.pub");
    config_.player_secret_key = dir_.File("player.key");
    config_.score_directory = dir_.File("scores");
    config_.state_path = dir_.File("player.db");
    config_.slots = 2;
  }
  void TearDown() override { StopPlayer(); }

  // Another fake conductor of the same cell (same Curve key); its
  // endpoint, or empty (a test failure) if it could not bind.
  std::string AddConductor() {
    broker::EndpointOptions options;
    options.curve_server_secret = &conductor_keys_.secret_key;
    auto router =
        broker::Endpoint::Router(&context_, "fake conductor", options);
    EXPECT_OK(router.status());
    if (!router.ok()) return "";
    auto bound = router.value()->Bind("tcp://127.0.0.1:*");
    EXPECT_OK(bound.status());
    if (!bound.ok()) return "";
    conductors_.push_back(std::move(router.value()));
    return bound.value();
  }
  // Receive(), Expect() and Send() use the `index`th fake conductor from
  // now on; the player has left the one talked to so far, so what its
  // session there sent is ignored if it comes back.
  void TalkTo(size_t index) {
    router_ = conductors_.at(index).get();
    if (!peer_.empty()) stale_peers_.insert(peer_);
    peer_.clear();
  }

  void AddScore(
      const std::string& name, const std::string& conf = "",
      const std::string& script = "#!/bin/sh\necho ran $ORC_TASK_ID\n") {
    std::string path = dir_.File("scores/" + name);
    std::ofstream(path) << script;
    ASSERT_EQ(0, ::chmod(path.c_str(), 0755));
    if (!conf.empty()) std::ofstream(path + ".conf") << conf;
  }

  // Starts the player on its own thread; `real` runs real processes.
  void StartPlayer(bool real = false) {
    PlayerSeams seams;
    if (!real) {
      auto fake = std::make_unique<test::FakeProcessRunner>();
      fake_ = fake.get();
      seams.runner = std::move(fake);
    }
    seams.watch_signals = false;
    seams.result_resend_ms = resend_ms_;
    seams.forget_commit_ms = forget_ms_;
    seams.answer_wait_ms = answer_wait_ms_;
    auto player = Player::Create(config_, std::move(seams));
    ASSERT_OK(player.status());
    player_ = std::move(player.value());
    thread_ = std::thread([this] { run_status_ = player_->Run(); });
  }
  void StopPlayer() {
    if (!thread_.joinable()) return;
    player_->RequestStop();
    thread_.join();
    player_.reset();
    stale_peers_.insert(peer_);  // Its last messages may still arrive
    peer_.clear();
  }

  // The next message of type T from the player, skipping heartbeats (and
  // repeated hellos when T is not Hello); nullopt after 10 s.
  template <typename T>
  std::optional<T> Expect() {
    const auto give_up =
        std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < give_up) {
      std::optional<broker::PlayerMessage> message = Receive(100);
      if (!message) continue;
      if (const T* wanted = std::get_if<T>(&*message)) return *wanted;
      if (std::holds_alternative<broker::Heartbeat>(*message) ||
          std::holds_alternative<broker::Hello>(*message))
        continue;
      ADD_FAILURE() << "unexpected " << broker::MessageType(*message);
      return std::nullopt;
    }
    ADD_FAILURE() << "nothing came within 10 s";
    return std::nullopt;
  }
  std::optional<broker::PlayerMessage> Receive(long timeout_ms) {
    broker::Poller poller;
    poller.AddSocket(router_->handle());
    EXPECT_OK(poller.Wait(timeout_ms));
    std::optional<broker::Inbound> in = router_->TryReceive();
    if (!in || stale_peers_.count(in->peer)) return std::nullopt;
    peer_ = in->peer;
    auto message = broker::DecodePlayerMessage(in->payload);
    EXPECT_OK(message.status());
    if (!message.ok()) return std::nullopt;
    return message.value();
  }
  void Send(const broker::PlayerMessage& message) {
    ASSERT_OK(
        router_->SendTo(peer_, false, broker::EncodePlayerMessage(message)));
  }
  // Starts the player and completes its session; returns its hello.
  broker::Hello Greet(bool real = false) {
    StartPlayer(real);
    std::optional<broker::Hello> hello = Expect<broker::Hello>();
    Send(broker::Welcome{1, 10000, 0});
    return hello.value_or(broker::Hello());
  }
  static broker::RunTask Task(broker::TaskId id,
                              const std::string& score = "alpha") {
    broker::RunTask task;
    task.task = id;
    task.job = 100 + id;
    task.score = score;
    task.params = {{"name", "value"}};
    return task;
  }
  // Sends a task and checks that it is accepted.
  void Give(broker::TaskId id, const std::string& score = "alpha") {
    Send(Task(id, score));
    std::optional<broker::Accepted> accepted = Expect<broker::Accepted>();
    ASSERT_TRUE(accepted.has_value());
    EXPECT_EQ(id, accepted->task);
  }
  std::optional<broker::TaskResult> ExpectResult(broker::TaskId id) {
    std::optional<broker::TaskResult> result = Expect<broker::TaskResult>();
    EXPECT_TRUE(result.has_value());
    if (result) {
      EXPECT_EQ(id, result->task);
    }
    return result;
  }

  // The task ids in the journal's committed state, read as an operator
  // would (read-only, beside the running player).
  std::vector<int64_t> JournaledTasks() {
    auto db = common::Database::OpenReadOnly(config_.state_path);
    EXPECT_OK(db.status());
    if (!db.ok()) return {};
    auto select = db.value().Prepare("SELECT task FROM tasks ORDER BY task");
    EXPECT_OK(select.status());
    if (!select.ok()) return {};
    std::vector<int64_t> tasks;
    for (;;) {
      common::Result<bool> row = select.value().Step();
      EXPECT_OK(row.status());
      if (!row.ok() || !row.value()) return tasks;
      tasks.push_back(select.value().Int(0));
    }
  }

  test::TempDir dir_;
  broker::Context context_;
  broker::CurveKeyPair conductor_keys_;
  std::vector<std::unique_ptr<broker::Endpoint>> conductors_;
  broker::Endpoint* router_ = nullptr;  // The one of conductors_ talked to
  std::string peer_;
  std::set<std::string> stale_peers_;  // Sessions of stopped players
  PlayerConfig config_;
  common::TimeMs resend_ms_ = 60000;
  common::TimeMs forget_ms_ = 1000;
  common::TimeMs answer_wait_ms_ = 10000;
  test::FakeProcessRunner* fake_ = nullptr;  // Owned by the player
  std::unique_ptr<Player> player_;
  std::thread thread_;
  common::Status run_status_;
};

TEST_F(PlayerTest, HelloCarriesScoresAndSlots) {
  StartPlayer();
  std::optional<broker::Hello> hello = Expect<broker::Hello>();
  ASSERT_TRUE(hello.has_value());
  EXPECT_EQ(1, hello->proto);
  EXPECT_EQ(2, hello->slots);
  ASSERT_EQ(1u, hello->scores.size());
  EXPECT_EQ("alpha", hello->scores[0].name);
  EXPECT_EQ(64u, hello->scores[0].sha256.size());
  EXPECT_TRUE(hello->tasks.empty());
}

TEST_F(PlayerTest, HelloIsResentUntilWelcome) {
  StartPlayer();
  ASSERT_TRUE(Expect<broker::Hello>().has_value());
  std::optional<broker::PlayerMessage> again = Receive(5000);
  ASSERT_TRUE(again.has_value());
  EXPECT_TRUE(std::holds_alternative<broker::Hello>(*again));
}

TEST_F(PlayerTest, TaskIsAcceptedRunAndItsResultSent) {
  Greet();
  Give(1);
  ASSERT_TRUE(fake_->WaitForStarts(1));
  EXPECT_EQ("test-player", fake_->run(0).player);
  EXPECT_EQ(config_.score_directory + "/alpha", fake_->run(0).path);
  fake_->Finish(1, TaskState::kOk);
  EXPECT_EQ(TaskState::kOk, ExpectResult(1)->state);
}

TEST_F(PlayerTest, TaskThatCannotStartIsAcceptedThenEndsHostError) {
  Greet();
  fake_->FailStarts("No such file or directory");
  Give(1);
  std::optional<broker::TaskResult> result = ExpectResult(1);
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(TaskState::kHostError, result->state);
  EXPECT_NE(std::string::npos, result->error.find("No such file"));
}

TEST_F(PlayerTest, ResultIsResentUntilAcknowledged) {
  resend_ms_ = 100;
  Greet();
  Give(1);
  ASSERT_TRUE(fake_->WaitForStarts(1));
  fake_->Finish(1, TaskState::kFail);
  ExpectResult(1);
  ExpectResult(1);  // Resent, no ack yet
  Send(broker::ResultAck{1});
  Give(2);
  ASSERT_TRUE(fake_->WaitForStarts(2));
  fake_->Finish(2, TaskState::kOk);
  ExpectResult(2);  // Not task 1 again
}

// Forgetting an acknowledged result needs no sync of its own: it shares
// the commit that journals the next task, before that task's `accepted`.
TEST_F(PlayerTest, AcknowledgedResultIsForgottenWithTheNextTask) {
  forget_ms_ = 3600 * 1000;
  Greet();
  Give(1);
  ASSERT_TRUE(fake_->WaitForStarts(1));
  fake_->Finish(1, TaskState::kOk);
  ExpectResult(1);
  Send(broker::ResultAck{1});
  Give(2);
  EXPECT_EQ((std::vector<int64_t>{2}), JournaledTasks());
}

TEST_F(PlayerTest, AcknowledgedResultIsForgottenDurablyWhenIdle) {
  forget_ms_ = 10;
  Greet();
  Give(1);
  ASSERT_TRUE(fake_->WaitForStarts(1));
  fake_->Finish(1, TaskState::kOk);
  ExpectResult(1);
  Send(broker::ResultAck{1});
  EXPECT_TRUE(test::WaitForFiles(dir_.path(),
                                 [&] { return JournaledTasks().empty(); }));
}

TEST_F(PlayerTest, ResultIsResentAfterANewWelcome) {
  Greet();
  Give(1);
  ASSERT_TRUE(fake_->WaitForStarts(1));
  fake_->Finish(1, TaskState::kOk);
  ExpectResult(1);
  Send(broker::Welcome{1, 10000, 0});
  ExpectResult(1);
}

TEST_F(PlayerTest, RepeatedTaskIsNeverRunTwice) {
  Greet();
  Give(1);
  Give(1);
  ASSERT_TRUE(fake_->WaitForStarts(1));
  fake_->Finish(1, TaskState::kOk);
  ExpectResult(1);
  Send(Task(1));
  EXPECT_EQ(TaskState::kOk, ExpectResult(1)->state);  // The stored result
  EXPECT_EQ(1u, fake_->started().size());
}

TEST_F(PlayerTest, MoreTasksThanSlotsWaitInOrder) {
  Greet();
  for (broker::TaskId id : {1, 2, 3}) Give(id);
  ASSERT_TRUE(fake_->WaitForStarts(2));
  EXPECT_EQ((std::vector<broker::TaskId>{1, 2}), fake_->started());
  fake_->Finish(2, TaskState::kOk);
  ExpectResult(2);
  ASSERT_TRUE(fake_->WaitForStarts(3));
  EXPECT_EQ(3, fake_->started()[2]);
}

TEST_F(PlayerTest, ScoreConcurrencyLimitLetsOtherScoresPass) {
  AddScore("beta", "concurrency = 1\n");
  Greet();
  for (broker::TaskId id : {1, 2}) Give(id, "beta");
  Give(3, "alpha");
  ASSERT_TRUE(fake_->WaitForStarts(2));
  EXPECT_EQ((std::vector<broker::TaskId>{1, 3}), fake_->started());
}

TEST_F(PlayerTest, CancelOfWaitingTaskEndsItCancelled) {
  config_.slots = 1;
  Greet();
  Give(1);
  Give(2);
  Send(broker::CancelTask{2});
  EXPECT_EQ(TaskState::kCancelled, ExpectResult(2)->state);
  EXPECT_EQ((std::vector<broker::TaskId>{1}), fake_->started());
}

TEST_F(PlayerTest, CancelOfRunningTaskStopsIt) {
  Greet();
  Give(1);
  ASSERT_TRUE(fake_->WaitForStarts(1));
  Send(broker::CancelTask{1});
  TaskState outcome = TaskState::kOk;
  ASSERT_TRUE(fake_->WaitForStop(1, &outcome));
  EXPECT_EQ(TaskState::kCancelled, outcome);
  EXPECT_EQ(TaskState::kCancelled, ExpectResult(1)->state);
}

TEST_F(PlayerTest, UnknownScoreEndsUnkScore) {
  Greet();
  Give(1, "nosuch");
  std::optional<broker::TaskResult> result = ExpectResult(1);
  EXPECT_EQ(TaskState::kUnkScore, result->state);
  EXPECT_NE(std::string::npos, result->error.find("'nosuch' is not in"));
}

TEST_F(PlayerTest, ScoreWithBadConfEndsHostErrorWithTheConfError) {
  AddScore("broken", "interface = carrier-pigeon\n");
  Greet();
  Give(1, "broken");
  std::optional<broker::TaskResult> result = ExpectResult(1);
  EXPECT_EQ(TaskState::kHostError, result->state);
  EXPECT_NE(std::string::npos, result->error.find("broken.conf:1"));
  EXPECT_TRUE(fake_->started().empty());
}

TEST_F(PlayerTest, HelloRequiredErrorBringsAHello) {
  Greet();
  Send(broker::SessionError{"hello_required", "who are you?", ""});
  std::optional<broker::PlayerMessage> hello = Receive(5000);
  ASSERT_TRUE(hello.has_value());
  EXPECT_TRUE(std::holds_alternative<broker::Hello>(*hello));
}

TEST_F(PlayerTest, MalformedMessageIsDroppedAndServiceGoesOn) {
  Greet();
  ASSERT_OK(router_->SendTo(peer_, false, "\x81\xa4type\xa5nope!"));
  ASSERT_OK(router_->SendTo(peer_, false, "not msgpack at all"));
  Give(1);
}

TEST_F(PlayerTest, StopEndsRunningTasksLostAndExitsCleanly) {
  Greet();
  Give(1);
  ASSERT_TRUE(fake_->WaitForStarts(1));
  player_->RequestStop();
  EXPECT_EQ(TaskState::kLost, ExpectResult(1)->state);
  thread_.join();
  EXPECT_OK(run_status_);
}

TEST_F(PlayerTest, RestartedPlayerReportsAndResendsHeldResults) {
  Greet();
  Give(1);
  ASSERT_TRUE(fake_->WaitForStarts(1));
  fake_->Finish(1, TaskState::kOk);
  ExpectResult(1);
  StopPlayer();
  broker::Hello hello = Greet();
  ASSERT_EQ(1u, hello.tasks.size());
  EXPECT_TRUE(hello.tasks[0].done);
  EXPECT_EQ(TaskState::kOk, ExpectResult(1)->state);
}

TEST_F(PlayerTest, WaitingTaskSurvivesARestartAndRuns) {
  config_.slots = 1;
  Greet();
  Give(1);
  Give(2);
  ASSERT_TRUE(fake_->WaitForStarts(1));
  StopPlayer();  // Task 1 ends LOST; task 2 never started
  broker::Hello hello = Greet();
  ASSERT_EQ(2u, hello.tasks.size());
  EXPECT_TRUE(hello.tasks[0].done);
  EXPECT_FALSE(hello.tasks[1].done);
  ASSERT_TRUE(fake_->WaitForStarts(1));
  EXPECT_EQ(2, fake_->started()[0]);
}

TEST_F(PlayerTest, RealScoreRunsToOk) {
  Greet(/*real=*/true);
  Give(7);
  std::optional<broker::TaskResult> result = ExpectResult(7);
  EXPECT_EQ(TaskState::kOk, result->state);
  EXPECT_EQ("ran 7\n", result->stdout_text);
}

// The score is checked again just before it runs (issue 11): one its
// owner made writable by others since the scan could hold anything now.
TEST_F(PlayerTest, ScoreMadeWritableSinceTheScanEndsHostError) {
  Greet(/*real=*/true);
  ASSERT_EQ(0, ::chmod(dir_.File("scores/alpha").c_str(), 0777));
  Give(7);
  std::optional<broker::TaskResult> result = ExpectResult(7);
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(TaskState::kHostError, result->state);
  EXPECT_NE(std::string::npos,
            result->error.find("score alpha: changed since the scan: file is "
                               "writable by group or others"))
      << result->error;
  EXPECT_TRUE(result->stdout_text.empty());
}

// A job may ask for less time than its score's `timeout`, never more (nor
// for none); a score without one leaves the job free to ask.
TEST_F(PlayerTest, TimeLimitIsTheJobsWithinTheScoresElseTheDefault) {
  AddScore("limited", "timeout = 7\n");
  config_.slots = 8;
  config_.default_score_timeout_s = 60;
  Greet();
  const std::vector<std::pair<std::string, std::optional<int64_t>>> tasks = {
      {"limited", 3}, {"limited", 0}, {"limited", 30}, {"limited", {}},
      {"alpha", {}},  {"alpha", 0},   {"alpha", 120}};
  for (size_t i = 0; i < tasks.size(); ++i) {
    broker::RunTask task =
        Task(static_cast<broker::TaskId>(i + 1), tasks[i].first);
    task.timeout_s = tasks[i].second;
    Send(task);
    ASSERT_TRUE(Expect<broker::Accepted>().has_value());
  }
  ASSERT_TRUE(fake_->WaitForStarts(tasks.size()));
  std::vector<int64_t> limits;
  for (size_t i = 0; i < tasks.size(); ++i)
    limits.push_back(fake_->run(i).timeout_ms);
  EXPECT_EQ((std::vector<int64_t>{3000, 7000, 7000, 7000, 60000, 0, 120000}),
            limits);
}

TEST_F(PlayerTest, RunCarriesTheScoresSettings) {
  AddScore("tuned", "interface = pipe\ndir = /tmp\n");
  Greet();
  Give(1, "tuned");
  ASSERT_TRUE(fake_->WaitForStarts(1));
  const ScoreRun run = fake_->run(0);
  EXPECT_EQ("tuned", run.score);
  EXPECT_TRUE(run.pipe_interface);
  EXPECT_EQ("/tmp", run.dir);
  EXPECT_EQ(101, run.job);
  EXPECT_EQ((broker::StringMap{{"name", "value"}}), run.params);
}

// Original defect 8 (orphans): the original player exited on SIGTERM and
// left its score running. This one stops the score's process group, the
// parts that ignore SIGTERM with SIGKILL after the grace, then returns.
TEST_F(PlayerTest, StopLeavesNoRealScoreOrChildRunning) {
  const std::string pid_file = dir_.File("pids");
  AddScore("stubborn", "",
           "#!/bin/sh\ntrap '' TERM\nsleep 600 &\necho $$ $! > " + pid_file +
               "\nwait\n");
  config_.kill_grace_s = 1;
  Greet(/*real=*/true);
  Give(1, "stubborn");
  std::vector<std::string> pids = test::WaitForLines(pid_file, 1);
  ASSERT_EQ(1u, pids.size());
  player_->RequestStop();
  std::optional<broker::TaskResult> result = ExpectResult(1);
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(TaskState::kLost, result->state);
  EXPECT_EQ(SIGKILL, result->signal.value_or(0));
  thread_.join();
  EXPECT_OK(run_status_);
  std::istringstream in(pids[0]);
  for (pid_t pid; in >> pid;) EXPECT_TRUE(test::ProcessEnds(pid)) << pid;
}

// A cell of three fake conductors sharing one Curve key, listed in
// `conductor endpoint` in the order of their indexes.
class PlayerCellTest : public PlayerTest {
 protected:
  void SetUp() override {
    PlayerTest::SetUp();
    for (int i = 1; i < 3; ++i) {
      std::string endpoint = AddConductor();
      ASSERT_FALSE(endpoint.empty());
      config_.conductor_endpoints.push_back(endpoint);
    }
  }
};

// The hint skips the next listed conductor.
TEST_F(PlayerCellTest, NotLeaderWithAHintSendsTheHelloToTheLeader) {
  StartPlayer();
  ASSERT_TRUE(Expect<broker::Hello>().has_value());
  Send(broker::SessionError{"not_leader", "", config_.conductor_endpoints[2]});
  TalkTo(2);
  ASSERT_TRUE(Expect<broker::Hello>().has_value());
  // Greeting the next listed first would have left hellos there by now
  EXPECT_FALSE(conductors_[1]->TryReceive().has_value());
  Send(broker::Welcome{1, 10000, 0});
  Give(1);
}

TEST_F(PlayerCellTest, AHintOutsideTheListIsFollowedToo) {
  const std::string unlisted = AddConductor();
  ASSERT_FALSE(unlisted.empty());
  StartPlayer();
  ASSERT_TRUE(Expect<broker::Hello>().has_value());
  Send(broker::SessionError{"not_leader", "", unlisted});
  TalkTo(3);
  ASSERT_TRUE(Expect<broker::Hello>().has_value());
}

TEST_F(PlayerCellTest, NotLeaderWithoutAHintMovesToTheNextListed) {
  StartPlayer();
  ASSERT_TRUE(Expect<broker::Hello>().has_value());
  Send(broker::SessionError{"not_leader", "", ""});
  TalkTo(1);
  ASSERT_TRUE(Expect<broker::Hello>().has_value());
}

TEST_F(PlayerCellTest, ABadHintIsIgnoredForTheNextListed) {
  StartPlayer();
  ASSERT_TRUE(Expect<broker::Hello>().has_value());
  Send(broker::SessionError{"not_leader", "", "udp://elsewhere:2258"});
  TalkTo(1);
  ASSERT_TRUE(Expect<broker::Hello>().has_value());
}

// The fake conductors complete the handshake: the player waits the
// answer wait (shortened here from 10 s) before it leaves one.
TEST_F(PlayerCellTest, AConductorThatNeverAnswersIsLeftForTheNext) {
  answer_wait_ms_ = 500;
  StartPlayer();
  ASSERT_TRUE(Expect<broker::Hello>().has_value());  // And no answer
  TalkTo(1);
  ASSERT_TRUE(Expect<broker::Hello>().has_value());
  Send(broker::Welcome{1, 10000, 0});
  Give(1);
}

TEST_F(PlayerCellTest, AConductorThatFallsSilentIsLeftForTheNext) {
  StartPlayer();
  ASSERT_TRUE(Expect<broker::Hello>().has_value());
  Send(broker::Welcome{1, 100, 0});  // Silent for 300 ms: gone
  TalkTo(1);
  ASSERT_TRUE(Expect<broker::Hello>().has_value());
}

// Fencing: a task of an older epoch than the session's welcome is neither
// journaled nor answered nor run; one of the welcome's epoch is.
TEST_F(PlayerCellTest, ATaskOlderThanTheWelcomeIsDropped) {
  StartPlayer();
  ASSERT_TRUE(Expect<broker::Hello>().has_value());
  Send(broker::Welcome{1, 10000, 5});
  broker::RunTask old = Task(1);
  old.epoch = 4;
  broker::RunTask current = Task(2);
  current.epoch = 5;
  Send(old);
  Send(current);
  std::optional<broker::Accepted> accepted = Expect<broker::Accepted>();
  ASSERT_TRUE(accepted.has_value());
  EXPECT_EQ(2, accepted->task);
  ASSERT_TRUE(fake_->WaitForStarts(1));
  EXPECT_EQ(std::vector<broker::TaskId>{2}, fake_->started());
  EXPECT_EQ(std::vector<int64_t>{2}, JournaledTasks());
}

// A conductor that still thinks it leads welcomes with an older epoch
// than the player has seen: the player leaves it, and hears nothing more
// from it (its task is never taken).
TEST_F(PlayerCellTest, AWelcomeOfAnOlderEpochIsLeftForTheNext) {
  StartPlayer();
  ASSERT_TRUE(Expect<broker::Hello>().has_value());
  Send(broker::Welcome{1, 10000, 5});
  Send(broker::SessionError{"not_leader", "", config_.conductor_endpoints[2]});
  TalkTo(2);
  ASSERT_TRUE(Expect<broker::Hello>().has_value());
  Send(broker::Welcome{1, 10000, 3});
  broker::RunTask stale = Task(1);
  stale.epoch = 3;
  Send(stale);
  TalkTo(0);  // The next listed after the stale one
  ASSERT_TRUE(Expect<broker::Hello>().has_value());
  EXPECT_TRUE(JournaledTasks().empty());
  EXPECT_TRUE(fake_->started().empty());
}

// The journal on a small tmpfs that a filler fills (test/small_disk.h); the
// player's log lines are watched, to wait for one with a deadline.
class PlayerJournalTest : public PlayerTest {
 protected:
  void SetUp() override {
    if (!disk_.error().empty()) GTEST_SKIP() << disk_.error();
    PlayerTest::SetUp();
    config_.state_path = disk_.File("player.db");
    common::SetLogSinkForTest([this](common::LogLevel, std::string_view line) {
      std::lock_guard<std::mutex> lock(log_mutex_);
      log_ += std::string(line) + "\n";
      logged_.notify_all();
    });
  }
  void TearDown() override {
    PlayerTest::TearDown();
    common::SetLogSinkForTest(nullptr);
  }
  bool WaitForLog(const std::string& text) {
    std::unique_lock<std::mutex> lock(log_mutex_);
    return logged_.wait_for(lock, std::chrono::seconds(10), [&] {
      return log_.find(text) != std::string::npos;
    });
  }

  test::SmallDisk disk_{1 << 20};
  std::mutex log_mutex_;
  std::condition_variable logged_;
  std::string log_;  // Guarded by log_mutex_
};

// DESIGN.md section 15: a task the player cannot journal is not accepted
// and never runs; the conductor hears HOST_ERROR, so a `one` job moves on.
// Once the disk has room, tasks are taken again without a restart.
TEST_F(PlayerJournalTest, ATaskItCannotJournalEndsHostErrorUntilThereIsRoom) {
  Greet();
  ASSERT_TRUE(disk_.Fill());
  Send(Task(1));
  std::optional<broker::TaskResult> refused = ExpectResult(1);
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(TaskState::kHostError, refused->state);
  EXPECT_EQ("journal: disk full", refused->error);
  disk_.Free();
  ASSERT_TRUE(WaitForLog("journal writable again"));
  Give(2);
  ASSERT_TRUE(fake_->WaitForStarts(1));
  EXPECT_EQ(std::vector<broker::TaskId>{2}, fake_->started());
}

TEST_F(PlayerJournalTest, AResultItCannotJournalIsStillSent) {
  Greet();
  Give(1);
  ASSERT_TRUE(fake_->WaitForStarts(1));
  ASSERT_TRUE(disk_.Fill());
  fake_->Finish(1, TaskState::kOk);
  EXPECT_EQ(TaskState::kOk, ExpectResult(1)->state);
  EXPECT_TRUE(WaitForLog("journal failed"));
  disk_.Free();
  EXPECT_TRUE(WaitForLog("journal writable again"));
}

class PlayerConfigTest : public testing::Test {
 protected:
  common::Result<PlayerConfig> Load(const std::string& text) {
    std::ofstream(dir_.File("player.conf")) << text;
    return LoadPlayerConfig(dir_.File("player.conf"));
  }
  const std::string kRequired =
      "conductor endpoint = tcp://conductor:2258\n"
      "conductor public key = /etc/orchestra/keys/conductor.pub\n"
      "player secret key = /etc/orchestra/keys/player.key\n";
  test::TempDir dir_;
};

TEST_F(PlayerConfigTest, DefaultsApplyToKeysNotGiven) {
  auto config = Load(kRequired);
  ASSERT_OK(config.status());
  EXPECT_EQ(4, config.value().slots);
  EXPECT_EQ(3600, config.value().default_score_timeout_s);
  EXPECT_EQ(65536, config.value().output_limit);
  EXPECT_EQ(5, config.value().kill_grace_s);
  EXPECT_EQ("/usr/lib/orchestra/scores", config.value().score_directory);
  EXPECT_FALSE(config.value().player_name.empty());
}

TEST_F(PlayerConfigTest, MissingConductorEndpointIsAnError) {
  auto config = Load("player secret key = /k\nconductor public key = /p\n");
  EXPECT_NE(std::string::npos,
            config.status().message().find("conductor endpoint"));
}

TEST_F(PlayerConfigTest, UnknownKeyNamesFileAndLine) {
  auto config = Load(kRequired + "slot = 3\n");
  EXPECT_NE(std::string::npos,
            config.status().message().find("player.conf:4: unknown key"));
}

TEST_F(PlayerConfigTest, OutOfRangeValuesAreRejected) {
  EXPECT_FALSE(Load(kRequired + "slots = 0\n").ok());
  EXPECT_FALSE(Load(kRequired + "output limit = 2000000\n").ok());
}

TEST_F(PlayerConfigTest, CgroupIsAutoByDefault) {
  auto config = Load(kRequired);
  ASSERT_OK(config.status());
  EXPECT_EQ("auto", config.value().cgroup);
}

TEST_F(PlayerConfigTest, CgroupTakesOffAutoOrAnAbsolutePath) {
  for (const std::string value : {"off", "auto", "/sys/fs/cgroup/orc"}) {
    auto config = Load(kRequired + "cgroup = " + value + "\n");
    ASSERT_OK(config.status());
    EXPECT_EQ(value, config.value().cgroup);
  }
}

TEST_F(PlayerConfigTest, BadCgroupNamesFileAndLine) {
  for (const std::string value : {"on", "sys/fs/cgroup", "yes"}) {
    auto config = Load(kRequired + "cgroup = " + value + "\n");
    EXPECT_NE(std::string::npos,
              config.status().message().find("player.conf:4:"))
        << config.status().ToString();
    EXPECT_NE(std::string::npos,
              config.status().message().find("not auto, off or the absolute"))
        << config.status().ToString();
  }
}

TEST_F(PlayerConfigTest, ConductorEndpointTakesACellsList) {
  auto config = Load(
      "conductor endpoint = tcp://10.0.0.1:2258, tcp://10.0.0.2:2258,"
      "tcp://10.0.0.3:2258\n"
      "conductor public key = /p\nplayer secret key = /k\n");
  ASSERT_OK(config.status());
  EXPECT_EQ(
      (std::vector<std::string>{"tcp://10.0.0.1:2258", "tcp://10.0.0.2:2258",
                                "tcp://10.0.0.3:2258"}),
      config.value().conductor_endpoints);
  EXPECT_NE(std::string::npos,
            FormatPlayerConfig(config.value())
                .find("conductor endpoint = tcp://10.0.0.1:2258,"
                      "tcp://10.0.0.2:2258,tcp://10.0.0.3:2258\n"));
}

TEST_F(PlayerConfigTest, BadEndpointInTheListIsNamed) {
  auto config = Load(
      "conductor endpoint = tcp://a:2258,udp://b:2258\n"
      "conductor public key = /p\nplayer secret key = /k\n");
  EXPECT_NE(std::string::npos, config.status().message().find("player.conf:1:"))
      << config.status().ToString();
  EXPECT_NE(std::string::npos,
            config.status().message().find("'udp://b:2258' is not a ZeroMQ"))
      << config.status().ToString();
}

TEST_F(PlayerConfigTest, TooLongAListIsRefused) {
  std::string list = "tcp://c0:2258";
  for (int i = 1; i < 17; ++i) list += ",tcp://c" + std::to_string(i) + ":2258";
  auto config = Load("conductor endpoint = " + list +
                     "\nconductor public key = /p\nplayer secret key = /k\n");
  EXPECT_NE(std::string::npos, config.status().message().find("at most 16"))
      << config.status().ToString();
}

TEST_F(PlayerConfigTest, SampleConfigListsEveryKeyWithItsDefault) {
  auto sample = LoadPlayerConfig("etc/player.conf");
  ASSERT_OK(sample.status());
  auto defaults =
      Load(kRequired.substr(0, 0) +
           "conductor endpoint = tcp://conductor:2258\n"
           "conductor public key = /etc/orchestra/keys/conductor.pub\n"
           "player secret key = /etc/orchestra/keys/player.key\n");
  ASSERT_OK(defaults.status());
  EXPECT_EQ(FormatPlayerConfig(defaults.value()),
            FormatPlayerConfig(sample.value()));
}

}  // namespace
}  // namespace orchestra::player
