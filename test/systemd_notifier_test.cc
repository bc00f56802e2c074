// Tests for common/systemd_notifier.h against a real datagram socket that
// plays systemd's part: the messages of sd_notify(3), the watchdog period
// taken from WATCHDOG_USEC, and silence outside systemd.

#include "common/systemd_notifier.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <string>

#include "common/log.h"
#include "test/notify_socket.h"
#include "test/test_util.h"

namespace orchestra::common {
namespace {

using namespace std::chrono_literals;
using test::NotifySocket;

// Sets environment variables for one test and restores them after.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    const char* old = getenv(name);
    if (old != nullptr) old_ = old;
    had_ = old != nullptr;
    setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() {
    if (had_)
      setenv(name_, old_.c_str(), 1);
    else
      unsetenv(name_);
  }

 private:
  const char* name_;
  std::string old_;
  bool had_ = false;
};

class SystemdNotifierTest : public testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(socket_.ok()); }

  test::TempDir dir_;
  NotifySocket socket_{dir_.path()};
  ScopedEnv notify_{"NOTIFY_SOCKET", socket_.path()};
};

TEST_F(SystemdNotifierTest, ReadySendsReadyAndStatus) {
  SystemdNotifier notifier(0);
  notifier.Ready("serving players=2");
  EXPECT_EQ("READY=1\nSTATUS=serving players=2", socket_.Receive(5s));
}

TEST_F(SystemdNotifierTest, StatusIsKeptOnOneLine) {
  SystemdNotifier notifier(0);
  notifier.Stopping("two\nlines");
  EXPECT_EQ("STOPPING=1\nSTATUS=two lines", socket_.Receive(5s));
}

TEST_F(SystemdNotifierTest, ReloadingCarriesTheMonotonicTime) {
  SystemdNotifier notifier(0);
  notifier.Reloading();
  std::optional<std::string> message = socket_.Receive(5s);
  ASSERT_TRUE(message.has_value());
  EXPECT_TRUE(NotifySocket::HasField(*message, "RELOADING=1")) << *message;
  EXPECT_NE(std::string::npos, message->find("\nMONOTONIC_USEC=")) << *message;
}

TEST_F(SystemdNotifierTest, KeepAliveEveryHalfWatchdogInterval) {
  ScopedEnv watchdog("WATCHDOG_USEC", "4000000");
  ScopedEnv pid("WATCHDOG_PID", std::to_string(getpid()));
  SystemdNotifier notifier(1000);
  EXPECT_EQ(2000, notifier.keep_alive_ms());
  EXPECT_EQ(3000, notifier.NextKeepAlive());
  notifier.KeepAlive(2999);  // not due yet
  notifier.KeepAlive(3000);
  EXPECT_EQ("WATCHDOG=1", socket_.Receive(5s));
  EXPECT_EQ(5000, notifier.NextKeepAlive());
  notifier.KeepAlive(4000);  // not due again yet
  notifier.Ready("");
  EXPECT_EQ("READY=1\nSTATUS=", socket_.Receive(5s));  // no WATCHDOG between
}

TEST_F(SystemdNotifierTest, NoWatchdogWithoutWatchdogUsec) {
  SystemdNotifier notifier(1000);
  EXPECT_EQ(0, notifier.keep_alive_ms());
  EXPECT_EQ(0, notifier.NextKeepAlive());
  notifier.KeepAlive(1000000);
  notifier.Ready("x");
  EXPECT_EQ("READY=1\nSTATUS=x", socket_.Receive(5s));
}

TEST_F(SystemdNotifierTest, WatchdogMeantForAnotherProcessIsIgnored) {
  ScopedEnv watchdog("WATCHDOG_USEC", "4000000");
  ScopedEnv pid("WATCHDOG_PID", std::to_string(getpid() + 1));
  SystemdNotifier notifier(0);
  EXPECT_EQ(0, notifier.keep_alive_ms());
}

TEST(SystemdNotifierOutsideSystemdTest, IsSilentWithoutNotifySocket) {
  unsetenv("NOTIFY_SOCKET");
  std::vector<std::string> logged;
  SetLogSinkForTest(
      [&](LogLevel, std::string_view line) { logged.emplace_back(line); });
  SystemdNotifier notifier(0);
  notifier.Ready("x");
  notifier.Stopping("y");
  SetLogSinkForTest(nullptr);
  EXPECT_TRUE(logged.empty());  // not a failure: there is no systemd
}

TEST(SystemdNotifierOutsideSystemdTest, UnreachableSocketIsLoggedOnce) {
  ScopedEnv notify("NOTIFY_SOCKET", "/nonexistent/notify.sock");
  std::vector<std::string> logged;
  SetLogSinkForTest(
      [&](LogLevel, std::string_view line) { logged.emplace_back(line); });
  SystemdNotifier notifier(0);
  notifier.Ready("x");
  notifier.Ready("y");
  SetLogSinkForTest(nullptr);
  ASSERT_EQ(1u, logged.size());
  EXPECT_NE(std::string::npos, logged[0].find("systemd notification failed"));
}

}  // namespace
}  // namespace orchestra::common
