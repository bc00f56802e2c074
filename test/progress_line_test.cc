// Tests of tools/progress_line.h: the one live line of `orchestra wait`.

#include "tools/progress_line.h"

#include <sstream>

#include "test/test_util.h"

namespace orchestra::tools {
namespace {

constexpr char kErase[] = "\r\033[K";

class ProgressLineTest : public testing::Test {
 protected:
  broker::Progress progress_{
      37, 100, {{"OK", 30}, {"FAIL", 7}, {"RUNNING", 63}}};
  std::ostringstream out_;
};

TEST_F(ProgressLineTest, TextCountsDoneAndStates) {
  EXPECT_EQ("job 42: 37/100 done  OK 30  FAIL 7  RUNNING 63",
            ProgressLine::Text(42, progress_));
}

TEST_F(ProgressLineTest, ShowRewritesOneLineInPlace) {
  ProgressLine line(&out_, true, 80);
  line.Show(42, progress_);
  line.Show(42, progress_);
  const std::string text =
      std::string(kErase) + ProgressLine::Text(42, progress_);
  EXPECT_EQ(text + text, out_.str());
}

TEST_F(ProgressLineTest, ClearErasesTheLineOnce) {
  ProgressLine line(&out_, true, 80);
  line.Show(42, progress_);
  line.Clear();
  line.Clear();
  EXPECT_EQ(std::string(kErase) + ProgressLine::Text(42, progress_) + kErase,
            out_.str());
}

TEST_F(ProgressLineTest, NeverWiderThanTheTerminal) {
  ProgressLine line(&out_, true, 20);
  line.Show(42, progress_);
  EXPECT_EQ(std::string(kErase) + "job 42: 37/100 d...", out_.str());
}

TEST_F(ProgressLineTest, DisabledWritesNothing) {
  {
    ProgressLine line(&out_, false, 80);
    line.Show(42, progress_);
  }
  EXPECT_EQ("", out_.str());
}

TEST_F(ProgressLineTest, AJobOfOneTaskGetsNoLine) {
  ProgressLine line(&out_, true, 80);
  line.Show(42, broker::Progress{0, 1, {{"RUNNING", 1}}});
  line.Clear();
  EXPECT_EQ("", out_.str());
}

}  // namespace
}  // namespace orchestra::tools
