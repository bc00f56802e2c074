// Tests of tools/command_line.h: the orchestra command line, parsed.

#include "tools/command_line.h"

#include "test/test_util.h"

namespace orchestra::tools {
namespace {

using broker::Scope;
using common::Result;

class CommandLineTest : public testing::Test {
 protected:
  Result<CommandLine> Parse(std::vector<std::string> args,
                            const std::string& env_endpoint = "") {
    args.insert(args.begin(), "orchestra");
    std::vector<char*> argv;
    for (std::string& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    word_.clear();
    return ParseCommandLine(static_cast<int>(args.size()), argv.data(),
                            env_endpoint, &word_);
  }

  // The command `args` parse to; a default T when they do not.
  template <typename T>
  T Get(std::vector<std::string> args) {
    Result<CommandLine> line = Parse(std::move(args));
    EXPECT_OK(line.status());
    if (!line.ok() || !std::holds_alternative<T>(line.value().command))
      return T();
    return std::get<T>(line.value().command);
  }

  // The usage error `args` give ("" when they parse).
  std::string Error(std::vector<std::string> args) {
    return Parse(std::move(args)).status().message();
  }

  std::string word_;
};

TEST_F(CommandLineTest, SubmitDefaultsToScopeOne) {
  SubmitCommand c = Get<SubmitCommand>({"submit", "backup", "web-1"});
  EXPECT_EQ(Scope::kOne, c.request.scope);
  EXPECT_EQ("backup", c.request.score);
  EXPECT_EQ(std::vector<std::string>{"web-1"}, c.request.players);
  EXPECT_FALSE(c.wait);
}

TEST_F(CommandLineTest, SubmitReadsScopeParamsAndPlayerLists) {
  SubmitCommand c =
      Get<SubmitCommand>({"submit", "--all", "-p", "a=1", "--param", "b=x=y",
                          "backup", "web-1", "web-2,web-3"});
  EXPECT_EQ(Scope::kAll, c.request.scope);
  EXPECT_EQ((broker::StringMap{{"a", "1"}, {"b", "x=y"}}), c.request.params);
  EXPECT_EQ(3u, c.request.players.size());
}

TEST_F(CommandLineTest, OptionsMayFollowArguments) {
  SubmitCommand c =
      Get<SubmitCommand>({"submit", "backup", "web-1", "--timeout", "60"});
  EXPECT_EQ(60, c.request.timeout_s.value_or(0));
}

TEST_F(CommandLineTest, WaitTimeoutImpliesWait) {
  SubmitCommand c =
      Get<SubmitCommand>({"submit", "--wait-timeout", "30", "backup", "web-1"});
  EXPECT_TRUE(c.wait);
  EXPECT_EQ(30, c.wait_timeout_s);
}

TEST_F(CommandLineTest, SubmitWithoutPlayerIsUsageError) {
  EXPECT_EQ("missing PLAYER (or --target EXPR)", Error({"submit", "backup"}));
  EXPECT_EQ("submit", word_);
}

TEST_F(CommandLineTest, SubmitTakesATargetAndARollout) {
  const SubmitCommand c = Get<SubmitCommand>(
      {"submit", "--all", "--target", "role=web dc=syd", "--max-concurrency",
       "10%", "--max-errors", "2", "--priority", "50", "restart-nginx"});
  ASSERT_TRUE(c.request.max_concurrency && c.request.max_errors);
  EXPECT_EQ("role=web dc=syd", c.request.target);
  EXPECT_TRUE(c.request.players.empty());
  EXPECT_EQ((broker::RolloutLimit{10, true}), *c.request.max_concurrency);
  EXPECT_EQ((broker::RolloutLimit{2, false}), *c.request.max_errors);
  EXPECT_EQ(50, c.request.priority);
}

TEST_F(CommandLineTest, BadTargetsAndRolloutsAreUsageErrors) {
  EXPECT_EQ("give either --target or PLAYER names, not both",
            Error({"submit", "--target", "role=web", "backup", "web-1"}));
  EXPECT_NE(std::string::npos, Error({"submit", "--all", "--max-concurrency",
                                      "0", "backup", "web-1"})
                                   .find("--max-concurrency must be"));
  EXPECT_NE(std::string::npos, Error({"submit", "--all", "--max-errors", "101%",
                                      "backup", "web-1"})
                                   .find("--max-errors must be"));
  EXPECT_NE(std::string::npos,
            Error({"submit", "--max-errors", "1", "backup", "web-1"})
                .find("for --all jobs"));
  EXPECT_NE(std::string::npos,
            Error({"submit", "--priority", "101", "backup", "web-1"})
                .find("--priority"));
  EXPECT_EQ("role=db",
            Get<PlayersCommand>({"players", "--target", "role=db"}).target);
}

TEST_F(CommandLineTest, BadParamsAreUsageErrors) {
  EXPECT_NE("", Error({"submit", "-p", "novalue", "backup", "web-1"}));
  EXPECT_NE("", Error({"submit", "-p", "1x=a", "backup", "web-1"}));
  EXPECT_NE("", Error({"submit", "-p", "a=1", "-p", "a=2", "backup", "w"}));
}

TEST_F(CommandLineTest, BadNamesAreUsageErrors) {
  EXPECT_NE("", Error({"submit", ".hidden", "web-1"}));
  EXPECT_NE("", Error({"submit", "backup", "-"}));
  EXPECT_NE("", Error({"keygen", "../etc/passwd"}));
}

TEST_F(CommandLineTest, GlobalOptionsComeBeforeTheCommand) {
  Result<CommandLine> line =
      Parse({"--endpoint", "ipc:///x.sock", "--json", "-v", "players"});
  ASSERT_OK(line.status());
  EXPECT_EQ("ipc:///x.sock", line.value().global.endpoint);
  EXPECT_TRUE(line.value().global.json);
  EXPECT_TRUE(line.value().global.verbose);
}

TEST_F(CommandLineTest, EndpointComesFromOptionThenEnvironmentThenDefault) {
  EXPECT_EQ(kDefaultEndpoint, Parse({"players"}).value().global.endpoint);
  EXPECT_EQ("ipc:///env.sock",
            Parse({"players"}, "ipc:///env.sock").value().global.endpoint);
  EXPECT_EQ(
      "ipc:///opt.sock",
      Parse({"--endpoint", "ipc:///opt.sock", "players"}, "ipc:///env.sock")
          .value()
          .global.endpoint);
}

TEST_F(CommandLineTest, EndpointMayListACellsConductors) {
  Result<CommandLine> line = Parse(
      {"--endpoint", "tcp://c1:7101, tcp://c2:7101,tcp://c3:7101", "players"});
  ASSERT_OK(line.status());
  EXPECT_EQ((std::vector<std::string>{"tcp://c1:7101", "tcp://c2:7101",
                                      "tcp://c3:7101"}),
            line.value().global.endpoints);
  EXPECT_EQ(std::vector<std::string>{"ipc:///env.sock"},
            Parse({"players"}, "ipc:///env.sock").value().global.endpoints);
}

TEST_F(CommandLineTest, BadEndpointListsAreUsageErrors) {
  EXPECT_NE(std::string::npos,
            Error({"--endpoint", "tcp://c1:7101,,tcp://c2:7101", "players"})
                .find("--endpoint"));
  EXPECT_NE("",
            Error({"--endpoint", "tcp://c1:7101,http://c2", "status", "1"}));
  EXPECT_NE("", Parse({"players"}, "tcp://c1").status().message());
  // Commands that need no conductor do not care.
  EXPECT_OK(Parse({"--endpoint", "nonsense", "help"}).status());
}

TEST_F(CommandLineTest, SqlTakesOneStatement) {
  EXPECT_EQ("SELECT 1", Get<SqlCommand>({"sql", "SELECT 1"}).sql);
  EXPECT_NE("", Error({"sql"}));
  EXPECT_NE("", Error({"sql", "SELECT 1", "SELECT 2"}));
  EXPECT_NE("", Error({"sql", "  "}));
  EXPECT_NE("", Error({"sql", std::string(kMaxSqlBytes + 1, 'x')}));
  EXPECT_EQ("sql", Get<HelpCommand>({"sql", "--help"}).topic);
}

TEST_F(CommandLineTest, JobMustBeAPositiveInteger) {
  EXPECT_EQ(7, Get<StatusCommand>({"status", "7"}).request.job);
  EXPECT_NE("", Error({"status", "seven"}));
  EXPECT_NE("", Error({"cancel", "0"}));
  EXPECT_NE("", Error({"status", "7", "8"}));
}

TEST_F(CommandLineTest, WaitReadsItsTimeout) {
  WaitCommand c = Get<WaitCommand>({"wait", "--timeout", "30", "5"});
  EXPECT_EQ(5, c.job);
  EXPECT_EQ(30, c.timeout_s);
}

TEST_F(CommandLineTest, OnlyWaitTakesTimeout) {
  EXPECT_NE("", Error({"status", "--timeout", "3", "5"}));
}

TEST_F(CommandLineTest, StatusReadsThePageItAsksFor) {
  StatusCommand all = Get<StatusCommand>({"status", "5"});
  EXPECT_FALSE(all.one_page);
  EXPECT_EQ(0, all.request.tasks_from);
  StatusCommand page = Get<StatusCommand>(
      {"status", "--tasks-from", "200", "--tasks-limit", "50", "5"});
  EXPECT_TRUE(page.one_page);
  EXPECT_EQ(5, page.request.job);
  EXPECT_EQ(200, page.request.tasks_from);
  EXPECT_EQ(50, page.request.tasks_limit);
  EXPECT_NE("", Error({"status", "--tasks-limit", "0", "5"}));
  EXPECT_NE("", Error({"status", "--tasks-from", "-1", "5"}));
  EXPECT_NE("", Error({"wait", "--tasks-from", "1", "5"}));
}

TEST_F(CommandLineTest, JobsFiltersParse) {
  JobsCommand c = Get<JobsCommand>(
      {"jobs", "--state", "partial_fail", "--limit", "5", "--before", "90"});
  EXPECT_EQ(broker::JobState::kPartialFail, c.request.state.value());
  EXPECT_EQ(5, c.request.limit);
  EXPECT_EQ(90, c.request.before.value_or(0));
}

TEST_F(CommandLineTest, UnknownStateIsUsageError) {
  EXPECT_NE("", Error({"jobs", "--state", "DONE"}));
}

TEST_F(CommandLineTest, UnknownCommandOrOptionIsUsageError) {
  EXPECT_EQ("unknown command 'frob'", Error({"frob"}));
  EXPECT_EQ("unknown option '--frob'", Error({"players", "--frob"}));
  EXPECT_EQ("unknown option '-x'", Error({"-x", "players"}));
}

TEST_F(CommandLineTest, MissingOptionValueIsUsageError) {
  EXPECT_EQ("option '--timeout' needs a value",
            Error({"wait", "5", "--timeout"}));
}

TEST_F(CommandLineTest, MissingCommandIsUsageError) {
  EXPECT_EQ("missing COMMAND", Error({}));
}

TEST_F(CommandLineTest, HelpNamesItsTopic) {
  EXPECT_EQ("jobs", Get<HelpCommand>({"jobs", "--help"}).topic);
  EXPECT_EQ("wait", Get<HelpCommand>({"help", "wait"}).topic);
  EXPECT_EQ("", Get<HelpCommand>({"--help"}).topic);
}

TEST_F(CommandLineTest, VersionNeedsNoCommand) {
  Result<CommandLine> line = Parse({"--version"});
  ASSERT_OK(line.status());
  EXPECT_TRUE(std::holds_alternative<VersionCommand>(line.value().command));
}

TEST_F(CommandLineTest, KeygenWritesToEtcKeysByDefault) {
  EXPECT_EQ(kDefaultKeyDir, Get<KeygenCommand>({"keygen", "alice"}).dir);
  EXPECT_EQ("/tmp/k",
            Get<KeygenCommand>({"keygen", "alice", "--dir", "/tmp/k"}).dir);
}

}  // namespace
}  // namespace orchestra::tools
