// Tests for player/score_directory.cc (and trusted_directory.cc): which
// files are scores, which links and directories on the way to one are
// trusted, what NAME.conf sets, and that a bad NAME.conf leaves the score
// listed but unusable.

#include "player/score_directory.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <future>
#include <string>
#include <vector>

#include "common/log.h"
#include "test/file_watch.h"
#include "test/test_util.h"

namespace orchestra::player {
namespace {

class ScoreDirectoryTest : public testing::Test {
 protected:
  void SetUp() override {
    common::SetLogSinkForTest([this](common::LogLevel, std::string_view line) {
      log_.emplace_back(line);
    });
  }
  void TearDown() override { common::SetLogSinkForTest(nullptr); }

  void Write(const std::string& name, const std::string& text, int mode) {
    std::ofstream(dir_.File(name)) << text;
    ASSERT_EQ(0, ::chmod(dir_.File(name).c_str(), mode));
  }
  void WriteScore(const std::string& name, int mode = 0755) {
    Write(name, "#!/bin/sh\nexit 0\n", mode);
  }
  void WriteConf(const std::string& score, const std::string& text) {
    Write(score + ".conf", text, 0644);
  }
  ScoreDirectory Scan(uid_t owner = ::geteuid()) {
    return ScoreDirectory::Scan(dir_.path(), owner);
  }
  // Scans and returns score `name` (owned by the fixture), or nullptr.
  const Score* Find(const std::string& name, uid_t owner = ::geteuid()) {
    scores_ = Scan(owner);
    return scores_.Find(name);
  }
  // Makes directory `path` with exactly `mode` (the umask would narrow it).
  void MakeDir(const std::string& path, int mode) {
    ASSERT_EQ(0, ::mkdir(path.c_str(), 0700));
    ASSERT_EQ(0, ::chmod(path.c_str(), mode));
  }
  // An executable script at `path`, outside the score directory.
  void WriteScriptAt(const std::string& path) {
    std::ofstream(path) << "#!/bin/sh\nexit 0\n";
    ASSERT_EQ(0, ::chmod(path.c_str(), 0755));
  }
  // Makes `name` in the score directory a link to `target`.
  void Link(const std::string& target, const std::string& name) {
    ASSERT_EQ(0, ::symlink(target.c_str(), dir_.File(name).c_str()));
  }
  static std::string Me() { return ::getpwuid(::geteuid())->pw_name; }
  bool Logged(const std::string& text) const {
    for (const std::string& line : log_)
      if (line.find(text) != std::string::npos) return true;
    return false;
  }

  test::TempDir dir_;      // The score directory
  test::TempDir outside_;  // Where links lead
  std::vector<std::string> log_;
  ScoreDirectory scores_;
};

TEST_F(ScoreDirectoryTest, ExecutableFileIsAScoreWithItsSha256) {
  Write("abc", "abc", 0755);
  const Score* score = Find("abc");
  ASSERT_NE(nullptr, score);
  EXPECT_EQ(dir_.File("abc"), score->path);
  EXPECT_EQ("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
            score->sha256);
}

TEST_F(ScoreDirectoryTest, HiddenBackupAndConfNamesAreNotScores) {
  for (const char* name : {".hidden", "backup~", "thing.conf"})
    WriteScore(name);
  EXPECT_EQ(0u, Scan().size());
  EXPECT_TRUE(Logged("reason=\"hidden file\""));
  EXPECT_TRUE(Logged("reason=\"backup file\""));
}

TEST_F(ScoreDirectoryTest, FilesLeftByEditorsAndPackagesAreNotScores) {
  for (const char* name :
       {"task.bak", "task.orig", "task.swp", "task.dpkg-old", "task.dpkg-new",
        "task.dpkg-dist", "task.ucf-old", "task.rpmnew", "task.conf~"})
    WriteScore(name);
  EXPECT_EQ(0u, Scan().size());
  EXPECT_TRUE(Logged("name=task.dpkg-dist reason=\"backup file\""));
  EXPECT_TRUE(Logged("name=task.conf~ reason=\"backup file\""));
}

TEST_F(ScoreDirectoryTest, ConfWithoutItsScoreIsLoggedAndConfBesideOneIsNot) {
  WriteScore("alpha");
  WriteConf("alpha", "interface = pipe\n");
  WriteConf("ghost", "interface = pipe\n");
  EXPECT_EQ(1u, Scan().size());
  EXPECT_TRUE(
      Logged("name=ghost.conf reason=\"a score configuration with no score "
             "'ghost'\""));
  EXPECT_FALSE(Logged("name=alpha.conf"));
}

TEST_F(ScoreDirectoryTest, NonExecutableFileIsSkippedWithReason) {
  WriteScore("plain", 0644);
  EXPECT_EQ(nullptr, Find("plain"));
  EXPECT_TRUE(Logged("name=plain reason=\"not executable\""));
}

TEST_F(ScoreDirectoryTest, GroupOrOtherWritableFileIsSkipped) {
  WriteScore("group", 0775);
  WriteScore("other", 0757);
  EXPECT_EQ(0u, Scan().size());
  EXPECT_TRUE(Logged("writable by group or others"));
}

TEST_F(ScoreDirectoryTest, DirectoryIsSkipped) {
  ASSERT_EQ(0, ::mkdir(dir_.File("sub").c_str(), 0755));
  EXPECT_EQ(0u, Scan().size());
  EXPECT_TRUE(Logged("name=sub reason=\"not a regular file\""));
}

TEST_F(ScoreDirectoryTest, InvalidNameIsSkipped) {
  WriteScore("two words");
  EXPECT_EQ(0u, Scan().size());
  EXPECT_TRUE(Logged("name is not"));
}

TEST_F(ScoreDirectoryTest, SymlinkToAScoreIsAScore) {
  WriteScore("real");
  ASSERT_EQ(0, ::symlink(dir_.File("real").c_str(), dir_.File("link").c_str()));
  ASSERT_EQ(0, ::symlink("/tmp", dir_.File("dirlink").c_str()));
  ScoreDirectory scores = Scan();
  EXPECT_NE(nullptr, scores.Find("link"));
  EXPECT_EQ(nullptr, scores.Find("dirlink"));
}

// ---- links and the directories on a score's real path ----------------------
// Issue 11: a score linked to a file in a directory others could write was
// checked at the scan and run later by its name; someone swapped the
// target in between and it ran as root. Now every directory and link on
// the way must be as trusted as the score itself.

TEST_F(ScoreDirectoryTest, LinkIntoAGroupOrWorldWritableDirectoryIsSkipped) {
  MakeDir(outside_.File("group"), 0775);
  MakeDir(outside_.File("world"), 0777);
  WriteScriptAt(outside_.File("group/score"));
  WriteScriptAt(outside_.File("world/score"));
  Link(outside_.File("group/score"), "via-group");
  Link(outside_.File("world/score"), "via-world");
  EXPECT_EQ(0u, Scan().size());
  for (const char* dir : {"group", "world"})
    EXPECT_TRUE(Logged(std::string("name=via-") + dir + " reason=\"directory " +
                       outside_.File(dir) +
                       " is writable by group or others and not sticky\""))
        << dir;
}

// A link in a directory others may write could be pointed at any program
// root owns, which would pass every check on the file itself.
TEST_F(ScoreDirectoryTest, LinkOnTheWayInAWorldWritableDirectoryIsSkipped) {
  MakeDir(outside_.File("safe"), 0755);
  MakeDir(outside_.File("open"), 0777);
  WriteScriptAt(outside_.File("safe/tool"));
  ASSERT_EQ(0, ::symlink("../safe/tool", outside_.File("open/hop").c_str()));
  ASSERT_EQ(0, ::symlink("tool", outside_.File("safe/hop").c_str()));
  Link(outside_.File("open/hop"), "bad-chain");
  Link(outside_.File("safe/hop"), "good-chain");
  ScoreDirectory scores = Scan();
  EXPECT_EQ(nullptr, scores.Find("bad-chain"));
  EXPECT_TRUE(Logged("name=bad-chain reason=\"directory " +
                     outside_.File("open") + " is writable"));
  EXPECT_NE(nullptr, scores.Find("good-chain"));
}

// /bin is a link to usr/bin on Debian: a root-owned link in "/".
TEST_F(ScoreDirectoryTest, LinkToATrustedProgramIsAScoreWithItsSha256) {
  Link("/bin/true", "true");
  const Score* score = Find("true");
  ASSERT_NE(nullptr, score);
  EXPECT_EQ(test::Sha256Hex(test::ReadText("/usr/bin/true")), score->sha256);
}

// Others may not rename or remove what they do not own in a sticky
// directory (/tmp), so one may be on the way. It may not hold the file
// itself: a name others create there could be a hard link to any program.
TEST_F(ScoreDirectoryTest, StickyDirectoryMayBeOnTheWayButNotHoldTheFile) {
  MakeDir(outside_.File("sticky"), 01777);
  MakeDir(outside_.File("sticky/safe"), 0755);
  WriteScriptAt(outside_.File("sticky/safe/tool"));
  WriteScriptAt(outside_.File("sticky/tool"));
  Link(outside_.File("sticky/safe/tool"), "below-sticky");
  Link(outside_.File("sticky/tool"), "in-sticky");
  ScoreDirectory scores = Scan();
  EXPECT_NE(nullptr, scores.Find("below-sticky"));
  EXPECT_EQ(nullptr, scores.Find("in-sticky"));
  EXPECT_TRUE(Logged("name=in-sticky reason=\"directory " +
                     outside_.File("sticky") +
                     " is writable by group or others\""));
}

// Its owner could replace a link in a sticky directory.
TEST_F(ScoreDirectoryTest, LinkOwnedBySomeoneElseIsSkipped) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to chown";
  MakeDir(outside_.File("sticky"), 01777);
  MakeDir(outside_.File("safe"), 0755);
  WriteScriptAt(outside_.File("safe/tool"));
  const std::string hop = outside_.File("sticky/hop");
  ASSERT_EQ(0, ::symlink(outside_.File("safe/tool").c_str(), hop.c_str()));
  ASSERT_EQ(0, ::lchown(hop.c_str(), 4242, 4242));
  Link(hop, "theirs");
  EXPECT_EQ(nullptr, Find("theirs"));
  EXPECT_TRUE(Logged("reason=\"link " + hop + " is owned by uid 4242"));
}

TEST_F(ScoreDirectoryTest, LinkLoopIsSkipped) {
  Link("loop-b", "loop-a");
  Link("loop-a", "loop-b");
  EXPECT_EQ(0u, Scan().size());
  EXPECT_TRUE(Logged("name=loop-a reason="));
  EXPECT_TRUE(Logged("more than 40 links on the way"));
}

// Opening a FIFO for reading waits for a writer; the scan must not.
TEST_F(ScoreDirectoryTest, FifoNamedLikeAScoreIsSkippedWithoutBlocking) {
  const std::vector<std::string> fifos = {dir_.File("fifo"),
                                          outside_.File("fifo")};
  for (const std::string& fifo : fifos) {
    ASSERT_EQ(0, ::mkfifo(fifo.c_str(), 0700));
    ASSERT_EQ(0, ::chmod(fifo.c_str(), 0755));
  }
  Link(outside_.File("fifo"), "linked-fifo");
  std::future<size_t> scanned =
      std::async(std::launch::async, [this] { return Scan().size(); });
  const bool blocked =
      scanned.wait_for(std::chrono::seconds(10)) != std::future_status::ready;
  // Opening a FIFO for writing lets an open that waits on it return.
  while (blocked && scanned.wait_for(std::chrono::milliseconds(100)) !=
                        std::future_status::ready) {
    for (const std::string& fifo : fifos)
      ::close(::open(fifo.c_str(), O_WRONLY | O_NONBLOCK));
  }
  ASSERT_FALSE(blocked) << "the scan blocked on a FIFO";
  EXPECT_EQ(0u, scanned.get());
  EXPECT_TRUE(Logged("name=fifo reason=\"not a regular file\""));
  EXPECT_TRUE(Logged("name=linked-fifo reason=\"not a regular file\""));
}

// Whoever may write a directory above the score directory may rename the
// score directory away and put another in its place.
TEST_F(ScoreDirectoryTest, WritableDirectoryAboveTheScoresYieldsNoScores) {
  MakeDir(outside_.File("open"), 0777);
  MakeDir(outside_.File("open/scores"), 0755);
  WriteScriptAt(outside_.File("open/scores/alpha"));
  EXPECT_EQ(
      0u,
      ScoreDirectory::Scan(outside_.File("open/scores"), ::geteuid()).size());
  EXPECT_TRUE(Logged("score directory unusable"));
  EXPECT_TRUE(Logged(outside_.File("open") +
                     " is writable by group or others and not sticky"));
}

TEST_F(ScoreDirectoryTest, ScoreDirectoryReachedThroughALinkIsScanned) {
  WriteScore("alpha");
  ASSERT_EQ(0, ::symlink(dir_.path().c_str(), outside_.File("scores").c_str()));
  ScoreDirectory scores =
      ScoreDirectory::Scan(outside_.File("scores"), ::geteuid());
  EXPECT_NE(nullptr, scores.Find("alpha"));
}

TEST_F(ScoreDirectoryTest, ConfThatIsALinkMakesScoreUnusable) {
  WriteScore("alpha");
  std::ofstream(outside_.File("alpha.conf")) << "interface = pipe\n";
  Link(outside_.File("alpha.conf"), "alpha.conf");
  const Score* score = Find("alpha");
  ASSERT_NE(nullptr, score);
  EXPECT_NE(std::string::npos, score->problem.find("a link")) << score->problem;
}

TEST_F(ScoreDirectoryTest, FileOwnedBySomeoneElseIsSkipped) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to chown";
  WriteScore("theirs");
  ASSERT_EQ(0, ::chown(dir_.File("theirs").c_str(), 4242, 4242));
  EXPECT_EQ(nullptr, Find("theirs"));
  EXPECT_TRUE(Logged("owned by uid 4242"));
}

TEST_F(ScoreDirectoryTest, RootOwnedScoreIsAcceptedForAnyPlayerUser) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs files owned by root";
  WriteScore("rooted");
  EXPECT_NE(nullptr, Find("rooted", /*owner=*/4242));
}

TEST_F(ScoreDirectoryTest, WritableDirectoryYieldsNoScores) {
  WriteScore("alpha");
  ASSERT_EQ(0, ::chmod(dir_.path().c_str(), 0777));
  EXPECT_EQ(0u, Scan().size());
  EXPECT_TRUE(Logged("score directory unusable"));
}

TEST_F(ScoreDirectoryTest, MissingDirectoryYieldsNoScores) {
  EXPECT_EQ(0u, ScoreDirectory::Scan(dir_.File("absent"), ::geteuid()).size());
}

TEST_F(ScoreDirectoryTest, ConfSetsEverySetting) {
  WriteScore("alpha");
  WriteConf("alpha",
            "interface = pipe\ntimeout = 30\ndir = /tmp\nconcurrency = 2\n"
            "user = " +
                Me() + "\n");
  const Score* score = Find("alpha");
  ASSERT_NE(nullptr, score);
  EXPECT_TRUE(score->usable()) << score->problem;
  EXPECT_TRUE(score->pipe_interface);
  EXPECT_EQ(30, score->timeout_s.value_or(-1));
  EXPECT_EQ("/tmp", score->dir);
  EXPECT_EQ(2, score->concurrency);
  EXPECT_EQ(Me(), score->user);
}

TEST_F(ScoreDirectoryTest, ConfSetsCgroupLimitsWithSuffixes) {
  for (const auto& [text, bytes] : std::vector<std::pair<std::string, int64_t>>{
           {"4096", 4096},
           {"64K", 64 << 10},
           {"256M", int64_t{256} << 20},
           {"2G", int64_t{2} << 30}}) {
    Score score;
    ASSERT_OK(ParseScoreConf("alpha.conf",
                             "memory max = " + text + "\ntasks max = 32\n",
                             ::geteuid(), &score));
    EXPECT_EQ(bytes, score.limits.memory_max.value_or(-1)) << text;
    EXPECT_EQ(text, score.limits.memory_max_text);
    EXPECT_EQ(32, score.limits.tasks_max.value_or(-1));
  }
}

TEST_F(ScoreDirectoryTest, BadCgroupLimitsNameTheFileAndLine) {
  for (const std::string line :
       {"memory max = 256X", "memory max = M", "memory max = -1",
        "memory max = 0", "tasks max = 0", "tasks max = lots"}) {
    Score score;
    common::Status s = ParseScoreConf("alpha.conf", "# limits\n" + line + "\n",
                                      ::geteuid(), &score);
    EXPECT_NE(std::string::npos, s.message().find("alpha.conf:2:"))
        << line << ": " << s.ToString();
  }
}

TEST_F(ScoreDirectoryTest, ScoreWithoutConfHasNoCgroupLimits) {
  WriteScore("alpha");
  const Score* score = Find("alpha");
  ASSERT_NE(nullptr, score);
  EXPECT_FALSE(score->limits.memory_max.has_value());
  EXPECT_FALSE(score->limits.tasks_max.has_value());
}

TEST_F(ScoreDirectoryTest, ScoreWithoutConfHasDefaults) {
  WriteScore("alpha");
  const Score* score = Find("alpha");
  ASSERT_NE(nullptr, score);
  EXPECT_FALSE(score->pipe_interface);
  EXPECT_FALSE(score->timeout_s.has_value());
  EXPECT_EQ("/", score->dir);
  EXPECT_EQ(0, score->concurrency);
}

TEST_F(ScoreDirectoryTest, BadConfMakesScoreUnusableButListed) {
  WriteScore("alpha");
  WriteConf("alpha", "# comment\ninterface = socket\n");
  ScoreDirectory scores = Scan();
  ASSERT_NE(nullptr, scores.Find("alpha"));
  EXPECT_FALSE(scores.Find("alpha")->usable());
  EXPECT_NE(std::string::npos,
            scores.Find("alpha")->problem.find("alpha.conf:2"));
  EXPECT_EQ(1u, scores.List().size());
}

TEST_F(ScoreDirectoryTest, UnknownConfKeyMakesScoreUnusable) {
  WriteScore("alpha");
  WriteConf("alpha", "shell = /bin/bash\n");
  EXPECT_NE(std::string::npos,
            Find("alpha")->problem.find("unknown key 'shell'"));
}

// The original parsed `path`, an empty `user` and `dir`, and a numeric
// `user`; its scores' .conf files must keep working.
TEST_F(ScoreDirectoryTest, ConfOfTheOriginalIsAccepted) {
  WriteScore("legacy");
  WriteConf("legacy", "interface=pipe\npath=/usr/bin:/bin\ndir=\nuser=\n");
  const Score* score = Find("legacy");
  ASSERT_NE(nullptr, score);
  EXPECT_TRUE(score->usable()) << score->problem;
  EXPECT_TRUE(score->pipe_interface);
  EXPECT_EQ("/", score->dir);
  EXPECT_EQ("", score->user);
  EXPECT_TRUE(Logged("key=path"));  // Said to be ignored
}

TEST_F(ScoreDirectoryTest, NumericUserIsThatUsersName) {
  WriteScore("alpha");
  WriteConf("alpha", "user = " + std::to_string(::geteuid()) + "\n");
  const Score* score = Find("alpha");
  ASSERT_NE(nullptr, score);
  EXPECT_EQ(Me(), score->user) << score->problem;
}

TEST_F(ScoreDirectoryTest, RelativeDirMakesScoreUnusable) {
  WriteScore("alpha");
  WriteConf("alpha", "dir = tmp\n");
  EXPECT_NE(std::string::npos,
            Find("alpha")->problem.find("must be an absolute path"));
}

TEST_F(ScoreDirectoryTest, WritableConfMakesScoreUnusable) {
  WriteScore("alpha");
  WriteConf("alpha", "interface = env\n");
  ASSERT_EQ(0, ::chmod(dir_.File("alpha.conf").c_str(), 0666));
  EXPECT_FALSE(Find("alpha")->usable());
}

TEST_F(ScoreDirectoryTest, UserNeedsARootPlayer) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs files owned by root";
  WriteScore("alpha");
  WriteConf("alpha", "user = root\n");
  const Score* score = Find("alpha", /*owner=*/4242);
  ASSERT_NE(nullptr, score);
  EXPECT_NE(std::string::npos, score->problem.find("needs a player running "
                                                   "as root"));
}

TEST_F(ScoreDirectoryTest, UnknownUserMakesScoreUnusable) {
  WriteScore("alpha");
  WriteConf("alpha", "user = no-such-user-here\n");
  EXPECT_FALSE(Find("alpha")->usable());
}

TEST_F(ScoreDirectoryTest, ListGivesNameShaAndInterface) {
  WriteScore("alpha");
  WriteScore("beta");
  WriteConf("beta", "interface = pipe\n");
  std::vector<broker::ScoreInfo> list = Scan().List();
  ASSERT_EQ(2u, list.size());
  EXPECT_EQ("alpha", list[0].name);
  EXPECT_EQ("env", list[0].interface);
  EXPECT_EQ("pipe", list[1].interface);
  EXPECT_EQ(64u, list[1].sha256.size());
}

}  // namespace
}  // namespace orchestra::player
