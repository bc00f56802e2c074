// Tests for common/log.h: held log lines (the conductor writes a turn's
// lines at once) reach stderr whole and in order, at a flush, at an error
// line, or when the hold ends. Stderr is a temporary file here.

#include "common/log.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "common/files.h"
#include "test/test_util.h"

namespace orchestra::common {
namespace {

class LogHoldTest : public testing::Test {
 protected:
  void SetUp() override {
    SetLogSinkForTest(nullptr);
    InitLogging("log_test", LogLevel::kInfo);
    std::fflush(stderr);
    saved_ = ::dup(2);
    int fd = ::open(path().c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ASSERT_GE(fd, 0);
    ::dup2(fd, 2);
    ::close(fd);
  }
  void TearDown() override {
    HoldLogLines(false);
    std::fflush(stderr);
    ::dup2(saved_, 2);
    ::close(saved_);
  }
  std::string path() const { return dir_.File("stderr"); }
  std::string Written() const { return ReadFile(path()).value(); }
  bool Has(const std::string& text) const {
    return Written().find(text) != std::string::npos;
  }

  test::TempDir dir_;
  int saved_ = -1;
};

TEST_F(LogHoldTest, HeldLinesWaitForTheFlush) {
  HoldLogLines(true);
  LogInfo("first line=%d", 1);
  LogWarning("second line=%d", 2);
  EXPECT_EQ("", Written());
  FlushLogLines();
  const std::string text = Written();
  EXPECT_LT(text.find("first line=1\n"), text.find("second line=2\n"));
}

TEST_F(LogHoldTest, AnErrorLineFlushesEverythingAtOnce) {
  HoldLogLines(true);
  LogInfo("before the error");
  LogError("store failed");
  EXPECT_TRUE(Has("before the error\n"));
  EXPECT_TRUE(Has("store failed\n"));
}

TEST_F(LogHoldTest, EndingTheHoldFlushesAndLinesGoStraightOutAgain) {
  HoldLogLines(true);
  LogInfo("held");
  HoldLogLines(false);
  EXPECT_TRUE(Has("held\n"));
  LogInfo("direct");
  EXPECT_TRUE(Has("direct\n"));
}

}  // namespace
}  // namespace orchestra::common
