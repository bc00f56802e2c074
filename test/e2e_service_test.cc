// End-to-end: the daemons as systemd services run them. A datagram socket
// plays systemd's part of sd_notify (NOTIFY_SOCKET, WATCHDOG_USEC), so the
// real binaries are seen sending READY, watchdog keep-alives, RELOADING and
// READY around SIGHUP, and STOPPING; under JOURNAL_STREAM their log lines
// carry journald priorities. Also --check-config, --log-level and the
// flags both daemons share.

#include <signal.h>
#include <sys/wait.h>

#include "common/files.h"
#include "test/cluster.h"
#include "test/notify_socket.h"

namespace orchestra::test {
namespace {

const char kHello[] = "#!/bin/sh\necho hello\n";

// WATCHDOG_USEC of 400 ms: keep-alives are due every 200 ms.
std::vector<std::string> ServiceEnvironment(const NotifySocket& socket) {
  return {socket.Environment(), "WATCHDOG_USEC=400000",
          "JOURNAL_STREAM=stderr"};
}

// Waits for `count` WATCHDOG=1 notifications; false at the deadline.
bool WaitForKeepAlives(NotifySocket* socket, int count) {
  for (int i = 0; i < count; ++i) {
    if (!socket->WaitFor("WATCHDOG=1", 10s)) return false;
  }
  return true;
}

class ServiceTest : public testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(socket_.ok());
    cluster_.AddPlayer("p1");
    cluster_.WriteScoreEverywhere("hello", kHello);
  }

  Cluster cluster_;
  TempDir notify_dir_;
  NotifySocket socket_{notify_dir_.path()};
};

TEST_F(ServiceTest, ConductorTellsSystemdReadyKeepAliveReloadAndStop) {
  cluster_.SetDaemonEnvironment(ServiceEnvironment(socket_));
  ASSERT_TRUE(cluster_.StartConductor());
  std::optional<std::string> ready = socket_.WaitFor("READY=1", 10s);
  ASSERT_TRUE(ready.has_value());
  EXPECT_TRUE(NotifySocket::HasField(*ready,
                                     "STATUS=serving players=1 "
                                     "connected=0 jobs=0"))
      << *ready;
  EXPECT_TRUE(WaitForKeepAlives(&socket_, 3));

  cluster_.conductor()->Signal(SIGHUP);
  EXPECT_TRUE(socket_.WaitFor("RELOADING=1", 10s).has_value());
  EXPECT_TRUE(socket_.WaitFor("READY=1", 10s).has_value());
  EXPECT_TRUE(WaitForKeepAlives(&socket_, 1)) << "alive after the reload";

  cluster_.conductor()->Signal(SIGTERM);
  EXPECT_TRUE(socket_.WaitFor("STOPPING=1", 10s).has_value());
  std::optional<int> status = cluster_.conductor()->Wait(10s);
  ASSERT_TRUE(status.has_value());
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0);
}

// Original defect 10: a configuration error on SIGHUP killed the conductor.
// Under systemd the reload still ends READY, on the old settings.
TEST_F(ServiceTest, ConductorReloadWithABrokenConfigEndsReadyOnOldSettings) {
  cluster_.SetDaemonEnvironment(ServiceEnvironment(socket_));
  ASSERT_TRUE(cluster_.StartConductor());
  ASSERT_TRUE(socket_.WaitFor("READY=1", 10s).has_value());
  ASSERT_OK(common::WriteFileAtomically(cluster_.dir() + "/conductor.conf",
                                        "hartbeat interval = 5\n", 0644));
  cluster_.conductor()->Signal(SIGHUP);
  EXPECT_TRUE(socket_.WaitFor("RELOADING=1", 10s).has_value());
  EXPECT_TRUE(socket_.WaitFor("READY=1", 10s).has_value());
  EXPECT_TRUE(cluster_.conductor()
                  ->WaitForLog("<3>reload failed, old settings kept", 10s)
                  .has_value());
  EXPECT_TRUE(WaitForKeepAlives(&socket_, 1));
}

TEST_F(ServiceTest, ConductorLogLinesCarryJournalPriorities) {
  cluster_.SetDaemonEnvironment(ServiceEnvironment(socket_));
  ASSERT_TRUE(cluster_.StartConductor());
  // journald adds time, program and pid: the line is priority and event.
  EXPECT_TRUE(cluster_.conductor()
                  ->WaitForLog("(^|\n)<6>started players=1 jobs=0\n", 10s)
                  .has_value())
      << cluster_.conductor()->Log();
  EXPECT_EQ(0u, cluster_.conductor()->CountLog("info orchestra-conductor"));
}

// A daemon that merely inherits JOURNAL_STREAM (its stderr is a pipe or a
// file, not the journal) writes plain lines.
TEST_F(ServiceTest, InheritedJournalStreamOfAnotherFileIsIgnored) {
  cluster_.SetDaemonEnvironment({"JOURNAL_STREAM=8:1"});
  ASSERT_TRUE(cluster_.StartConductor());
  EXPECT_TRUE(
      cluster_.conductor()
          ->WaitForLog("Z info orchestra-conductor: started players=", 10s)
          .has_value())
      << cluster_.conductor()->Log();
  EXPECT_EQ(0u, cluster_.conductor()->CountLog("<6>"));
}

TEST_F(ServiceTest, PlayerTellsSystemdReadyKeepAliveRescanAndStop) {
  ASSERT_TRUE(cluster_.StartConductor());
  cluster_.SetDaemonEnvironment(ServiceEnvironment(socket_));
  ASSERT_TRUE(cluster_.StartPlayer("p1"));
  std::optional<std::string> ready = socket_.WaitFor("READY=1", 10s);
  ASSERT_TRUE(ready.has_value());
  EXPECT_TRUE(NotifySocket::HasField(*ready, "STATUS=serving scores=1"))
      << *ready;
  EXPECT_TRUE(WaitForKeepAlives(&socket_, 3));

  cluster_.WriteScore("p1", "second", kHello);
  cluster_.player("p1")->Signal(SIGHUP);
  EXPECT_TRUE(socket_.WaitFor("RELOADING=1", 10s).has_value());
  std::optional<std::string> rescanned = socket_.WaitFor("READY=1", 10s);
  ASSERT_TRUE(rescanned.has_value());
  EXPECT_TRUE(NotifySocket::HasField(*rescanned, "STATUS=serving scores=2"))
      << *rescanned;

  cluster_.player("p1")->Signal(SIGTERM);
  EXPECT_TRUE(socket_.WaitFor("STOPPING=1", 10s).has_value());
  std::optional<int> status = cluster_.player("p1")->Wait(10s);
  ASSERT_TRUE(status.has_value());
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0);
  EXPECT_TRUE(cluster_.player("p1")
                  ->WaitForLog("(^|\n)<6>player stopped player=p1\n", 10s)
                  .has_value())
      << cluster_.player("p1")->Log();
}

TEST_F(ServiceTest, WithoutWatchdogNoKeepAliveIsSent) {
  cluster_.SetDaemonEnvironment({socket_.Environment()});
  ASSERT_TRUE(cluster_.StartConductor());
  ASSERT_TRUE(cluster_.StartPlayer("p1"));
  ASSERT_TRUE(socket_.WaitFor("READY=1", 10s).has_value());
  ASSERT_TRUE(socket_.WaitFor("READY=1", 10s).has_value());  // both
  cluster_.conductor()->Signal(SIGHUP);
  ASSERT_TRUE(socket_.WaitFor("RELOADING=1", 10s).has_value());
  ASSERT_TRUE(socket_.WaitFor("READY=1", 10s).has_value());
  for (const std::string& message : socket_.received())
    EXPECT_FALSE(NotifySocket::HasField(message, "WATCHDOG=1"));
}

TEST_F(ServiceTest, CheckConfigPrintsTheEffectiveSettingsOfBothDaemons) {
  ASSERT_TRUE(cluster_.StartConductor("retention days = 0.5\n"));
  CommandResult conductor = RunCommand(
      BinaryDir() + "/orchestra-conductor",
      {"--check-config", "--config", cluster_.dir() + "/conductor.conf"}, 30s);
  EXPECT_EQ(0, conductor.exit_code) << conductor.err;
  EXPECT_NE(std::string::npos, conductor.out.find("retention days = 0.5\n"))
      << conductor.out;
  ASSERT_TRUE(cluster_.StartPlayer("p1", "slots = 7\n"));
  CommandResult player = RunCommand(
      BinaryDir() + "/orchestra-player",
      {"--check-config", "--config", cluster_.dir() + "/p1.conf"}, 30s);
  EXPECT_EQ(0, player.exit_code) << player.err;
  EXPECT_NE(std::string::npos, player.out.find("slots = 7\n")) << player.out;
}

TEST_F(ServiceTest, CheckConfigRefusesABrokenFileWithStatusTwo) {
  TempDir dir;
  ASSERT_OK(common::WriteFileAtomically(
      dir.File("player.conf"),
      "conductor endpoint = tcp://127.0.0.1:2258\n"
      "conductor public key = /nonexistent/conductor.pub\n"
      "player secret key = /nonexistent/player.key\n"
      "slots = many\n",
      0644));
  CommandResult r =
      RunCommand(BinaryDir() + "/orchestra-player",
                 {"--check-config", "--config", dir.File("player.conf")}, 30s);
  EXPECT_EQ(2, r.exit_code);
  EXPECT_NE(std::string::npos, r.err.find("player.conf:4: bad value for "
                                          "'slots'"))
      << r.err;
  ASSERT_OK(common::WriteFileAtomically(dir.File("conductor.conf"),
                                        "retention days = -1\n", 0644));
  r = RunCommand(BinaryDir() + "/orchestra-conductor",
                 {"--check-config", "--config", dir.File("conductor.conf")},
                 30s);
  EXPECT_EQ(2, r.exit_code);
  EXPECT_NE(std::string::npos, r.err.find("conductor.conf:1:")) << r.err;
}

TEST_F(ServiceTest, LogLevelFlagOverridesTheConfig) {
  ASSERT_TRUE(cluster_.StartConductor());
  cluster_.conductor()->Signal(SIGTERM);
  ASSERT_TRUE(cluster_.conductor()->Wait(10s).has_value());
  const std::string config = cluster_.dir() + "/conductor.conf";
  common::Result<std::string> text = common::ReadFile(config);
  ASSERT_OK(text.status());
  ASSERT_OK(common::WriteFileAtomically(
      config, text.value() + "log level = error\n", 0644));
  CommandResult check = RunCommand(
      BinaryDir() + "/orchestra-conductor",
      {"--check-config", "--config", config, "--log-level", "debug"}, 30s);
  EXPECT_EQ(0, check.exit_code) << check.err;
  EXPECT_NE(std::string::npos, check.out.find("log level = debug\n"))
      << check.out;
  // The file says error; the flag says info, and info lines appear.
  Process info(BinaryDir() + "/orchestra-conductor",
               {"--config", config, "--log-level", "info"});
  EXPECT_TRUE(info.WaitForLog("info orchestra-conductor: started players=", 10s)
                  .has_value())
      << info.Log();
  CommandResult bad =
      RunCommand(BinaryDir() + "/orchestra-conductor",
                 {"--config", config, "--log-level", "loud"}, 30s);
  EXPECT_EQ(2, bad.exit_code);
  EXPECT_NE(std::string::npos, bad.err.find("bad --log-level 'loud'"))
      << bad.err;
}

// Both daemons read their flags through one table (common/daemon.h): each
// takes every spelling either took before, with the same exit codes.
TEST(DaemonFlagsTest, BothDaemonsTakeTheSameFlagsAndExitCodes) {
  for (const std::string daemon : {"orchestra-conductor", "orchestra-player"}) {
    const std::string program = BinaryDir() + "/" + daemon;
    for (const char* version : {"--version", "-V"}) {
      CommandResult r = RunCommand(program, {version}, 30s);
      EXPECT_EQ(0, r.exit_code) << daemon << " " << version;
      EXPECT_EQ(daemon + " 0.1.0\n", r.out);
    }
    CommandResult help = RunCommand(program, {"-h"}, 30s);
    EXPECT_EQ(0, help.exit_code) << daemon;
    EXPECT_EQ(0u, help.out.find("usage: " + daemon + " [--config PATH]"))
        << help.out;
    for (const char* bad : {"--bogus", "stray"}) {
      CommandResult r = RunCommand(program, {bad}, 30s);
      EXPECT_EQ(2, r.exit_code) << daemon << " " << bad;
      EXPECT_NE(std::string::npos, r.err.find("usage: " + daemon)) << r.err;
    }
    CommandResult missing =
        RunCommand(program, {"-t", "-c", "/nonexistent.conf"}, 30s);
    EXPECT_EQ(2, missing.exit_code) << daemon;
  }
}

}  // namespace
}  // namespace orchestra::test
