// Tests of common/flag_table.h: one table gives the parsing and the usage.

#include "common/flag_table.h"

#include <string>
#include <vector>

#include "test/test_util.h"

namespace orchestra::common {
namespace {

class FlagTableTest : public testing::Test {
 protected:
  FlagTableTest()
      : table_("prog",
               {{"config", 'c', "PATH", "settings", &path_, nullptr},
                {"check", 't', nullptr, "check them", nullptr, &check_}}) {}

  Status Parse(std::vector<std::string> args) {
    args.insert(args.begin(), "prog");
    std::vector<char*> argv;
    for (std::string& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    return table_.Parse(static_cast<int>(args.size()), argv.data());
  }

  std::string path_ = "default";
  bool check_ = false;
  FlagTable table_;
};

TEST_F(FlagTableTest, NothingGivenKeepsTheDefaults) {
  EXPECT_OK(Parse({}));
  EXPECT_EQ("default", path_);
  EXPECT_FALSE(check_);
}

TEST_F(FlagTableTest, LongAndShortSpellingsStoreWhereTheRowSays) {
  EXPECT_OK(Parse({"--config", "a.conf", "--check"}));
  EXPECT_EQ("a.conf", path_);
  EXPECT_TRUE(check_);
  check_ = false;
  EXPECT_OK(Parse({"-tc", "b.conf"}));
  EXPECT_EQ("b.conf", path_);
  EXPECT_TRUE(check_);
  EXPECT_OK(Parse({"--config=c.conf"}));
  EXPECT_EQ("c.conf", path_);
}

TEST_F(FlagTableTest, UnknownFlagsAreRefusedByName) {
  EXPECT_EQ("unknown flag '--bogus'", Parse({"--bogus"}).message());
  EXPECT_EQ("unknown flag '-x'", Parse({"-tx"}).message());
  EXPECT_EQ(Status::Code::kInvalidArgument, Parse({"-x"}).code());
}

TEST_F(FlagTableTest, AMissingArgumentIsRefused) {
  EXPECT_EQ("'--config' needs an argument", Parse({"--config"}).message());
  EXPECT_EQ("'-c' needs an argument", Parse({"-c"}).message());
}

TEST_F(FlagTableTest, AWordThatIsNoFlagIsRefused) {
  EXPECT_EQ("unexpected argument 'extra'",
            Parse({"--check", "extra"}).message());
}

TEST_F(FlagTableTest, UsageListsEveryRowWithItsHelp) {
  EXPECT_EQ(
      "usage: prog [--config PATH] [--check]\n"
      "  -c, --config PATH  settings\n"
      "  -t, --check        check them\n",
      table_.Usage());
}

TEST_F(FlagTableTest, LongSynopsisWrapsUnderTheProgramName) {
  bool set = false;
  std::vector<Flag> flags;
  for (const char* name : {"first-long-flag", "second-long-flag",
                           "third-long-flag", "fourth-long-flag"})
    flags.push_back({name, 'x', nullptr, "help", nullptr, &set});
  std::string usage = FlagTable("program", flags).Usage();
  EXPECT_EQ(0u, usage.find("usage: program [--first-long-flag] "
                           "[--second-long-flag] [--third-long-flag]\n"
                           "               [--fourth-long-flag]\n"))
      << usage;
}

}  // namespace
}  // namespace orchestra::common
