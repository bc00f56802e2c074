// Tests of common/daemon.h: the flags and exit codes both daemons share.
// The daemons' own flags are checked end to end in e2e_service_test.cc.

#include "common/daemon.h"

#include <string>
#include <vector>

#include "test/test_util.h"

namespace orchestra::common {
namespace {

class DaemonTest : public testing::Test {
 protected:
  std::optional<int> Parse(std::vector<std::string> args) {
    args.insert(args.begin(), "orchestra-test");
    std::vector<char*> argv;
    for (std::string& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    testing::internal::CaptureStdout();
    testing::internal::CaptureStderr();
    std::optional<int> done =
        daemon_.ParseFlags(static_cast<int>(args.size()), argv.data());
    out_ = testing::internal::GetCapturedStdout();
    err_ = testing::internal::GetCapturedStderr();
    return done;
  }

  Daemon daemon_{{"orchestra-test", "/etc/orchestra/test.conf",
                  /*startup_checks_settings=*/true}};
  std::string out_;
  std::string err_;
};

TEST_F(DaemonTest, NoFlagsGoOnWithTheDefaultSettings) {
  EXPECT_FALSE(Parse({}).has_value());
  EXPECT_EQ("/etc/orchestra/test.conf", daemon_.config_path());
  EXPECT_FALSE(daemon_.check_config());
}

TEST_F(DaemonTest, ConfigAndCheckConfigAreRead) {
  EXPECT_FALSE(Parse({"--check-config", "--config", "x.conf"}).has_value());
  EXPECT_EQ("x.conf", daemon_.config_path());
  EXPECT_TRUE(daemon_.check_config());
}

TEST_F(DaemonTest, VersionPrintsTheProgramAndVersion) {
  EXPECT_EQ(kExitOk, Parse({"--version"}));
  EXPECT_EQ("orchestra-test 0.1.0\n", out_);
  EXPECT_EQ(kExitOk, Parse({"-V"}));
}

TEST_F(DaemonTest, HelpPrintsTheUsageWithTheDefaultPath) {
  EXPECT_EQ(kExitOk, Parse({"--help"}));
  EXPECT_EQ(0u, out_.find("usage: orchestra-test [--config PATH]"));
  EXPECT_NE(std::string::npos, out_.find("(default /etc/orchestra/test.conf)"));
}

TEST_F(DaemonTest, BadFlagsAreUsageErrors) {
  EXPECT_EQ(kExitUsage, Parse({"--bogus"}));
  EXPECT_EQ(0u, err_.find("orchestra-test: unknown flag '--bogus'\nusage:"));
  EXPECT_TRUE(out_.empty());
  EXPECT_EQ(kExitUsage, Parse({"--help", "extra"}));
}

TEST_F(DaemonTest, LogLevelFlagOverridesTheSettings) {
  Parse({"--log-level", "debug"});
  LogLevel level = LogLevel::kError;
  EXPECT_TRUE(daemon_.ApplyLogLevel(&level));
  EXPECT_EQ(LogLevel::kDebug, level);
}

TEST_F(DaemonTest, NoLogLevelFlagKeepsTheSettings) {
  Parse({});
  LogLevel level = LogLevel::kWarning;
  EXPECT_TRUE(daemon_.ApplyLogLevel(&level));
  EXPECT_EQ(LogLevel::kWarning, level);
}

class DaemonStartupTest : public testing::Test {
 protected:
  void SetUp() override {
    SetLogSinkForTest([](LogLevel, std::string_view) {});
  }
  void TearDown() override { SetLogSinkForTest(nullptr); }
};

TEST_F(DaemonStartupTest, BadSettingsOrFilesAreExitTwoWhereStartupChecksThem) {
  Daemon conductor({"c", "c.conf", /*startup_checks_settings=*/true});
  EXPECT_EQ(kExitUsage, conductor.StartupFailed(
                            Status::InvalidArgument("c.conf:1", "bad")));
  EXPECT_EQ(kExitUsage,
            conductor.StartupFailed(Status::PermissionDenied("key", "0644")));
  EXPECT_EQ(kExitFailure,
            conductor.StartupFailed(Status::IoError("db", "disk full")));
}

TEST_F(DaemonStartupTest, EveryStartupFailureIsExitOneWhereFilesAreChecked) {
  Daemon player({"p", "p.conf", /*startup_checks_settings=*/false});
  EXPECT_EQ(kExitFailure,
            player.StartupFailed(Status::PermissionDenied("journal", "no")));
  EXPECT_EQ(kExitFailure,
            player.StartupFailed(Status::IoError("db", "disk full")));
}

TEST_F(DaemonStartupTest, RunsStatusAndExceptionsBecomeExitCodes) {
  EXPECT_EQ(kExitOk, Daemon::Stopped(Status()));
  EXPECT_EQ(kExitFailure, Daemon::Stopped(Status::Internal("zmq", "ETERM")));
  EXPECT_EQ(7, Daemon::Guard([] { return 7; }));
  EXPECT_EQ(kExitFailure,
            Daemon::Guard([]() -> int { throw std::runtime_error("boom"); }));
}

}  // namespace
}  // namespace orchestra::common
