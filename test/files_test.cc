// Tests for common/files.h: whole-file reads, atomic writes with a mode,
// files created new, key file reads with their checks, and directory
// creation.

#include "common/files.h"

#include <dirent.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <vector>

#include "test/test_util.h"

namespace orchestra::common {
namespace {

using test::ModeOf;

class FilesTest : public testing::Test {
 protected:
  std::vector<std::string> Listing() const {
    std::vector<std::string> names;
    DIR* d = opendir(dir_.path().c_str());
    while (struct dirent* entry = d ? readdir(d) : nullptr) {
      std::string name = entry->d_name;
      if (name != "." && name != "..") names.push_back(name);
    }
    if (d) closedir(d);
    return names;
  }

  Status ReadSecret(const std::string& path) {
    char buffer[kMaxKeyFileBytes];
    return ReadKeyFile(path, KeyFileKind::kSecret, buffer, sizeof buffer)
        .status();
  }

  test::TempDir dir_;
};

TEST_F(FilesTest, ReadFileReturnsTheWholeContent) {
  std::string content(200000, 'x');
  content += std::string("\0end", 4);
  std::string path = dir_.MakeFile("data", content, 0644);
  Result<std::string> read = ReadFile(path);
  ASSERT_OK(read.status());
  EXPECT_EQ(content, read.value());
}

TEST_F(FilesTest, ReadFileRefusesFilesAboveTheLimit) {
  std::string path = dir_.MakeFile("big", std::string(101, 'x'), 0644);
  EXPECT_OK(ReadFile(path, 101).status());
  EXPECT_EQ(Status::Code::kInvalidArgument,
            ReadFile(path, 100).status().code());
}

TEST_F(FilesTest, ReadFileOfMissingFileIsNotFound) {
  Result<std::string> read = ReadFile(dir_.File("absent"));
  EXPECT_EQ(Status::Code::kNotFound, read.status().code());
  EXPECT_NE(std::string::npos, read.status().message().find("absent"));
}

TEST_F(FilesTest, AtomicWriteCreatesTheFileWithTheMode) {
  std::string path = dir_.File("secret.key");
  ASSERT_OK(WriteFileAtomically(path, "key\n", 0600));
  EXPECT_EQ("key\n", ReadFile(path).value());
  EXPECT_EQ(0600u, ModeOf(path));
}

TEST_F(FilesTest, AtomicWriteModeIgnoresTheUmask) {
  mode_t old = umask(077);
  Status s = WriteFileAtomically(dir_.File("public.pub"), "pub\n", 0644);
  umask(old);
  ASSERT_OK(s);
  EXPECT_EQ(0644u, ModeOf(dir_.File("public.pub")));
}

TEST_F(FilesTest, AtomicWriteReplacesAndLeavesNoTemporaryFile) {
  std::string path = dir_.MakeFile("state", "old content that is longer", 0644);
  ASSERT_OK(WriteFileAtomically(path, "new", 0600));
  EXPECT_EQ("new", ReadFile(path).value());
  EXPECT_EQ(0600u, ModeOf(path));
  EXPECT_EQ(std::vector<std::string>{"state"}, Listing());
}

// The temporary file used to be PATH.tmpPID, made with O_CREAT but not
// O_EXCL: whoever could write the directory could plant a link there and
// have us write through it. A link at that name is now never touched.
TEST_F(FilesTest, AtomicWriteDoesNotFollowALinkAtTheOldTemporaryName) {
  std::string victim = dir_.MakeFile("victim", "precious", 0644);
  std::string path = dir_.File("state");
  std::string old_temp = path + ".tmp" + std::to_string(getpid());
  ASSERT_EQ(0, symlink(victim.c_str(), old_temp.c_str()));
  ASSERT_OK(WriteFileAtomically(path, "new", 0600));
  EXPECT_EQ("new", ReadFile(path).value());
  EXPECT_EQ("precious", ReadFile(victim).value());
  std::vector<std::string> names = Listing();
  std::sort(names.begin(), names.end());
  EXPECT_EQ((std::vector<std::string>{
                "state", old_temp.substr(old_temp.rfind('/') + 1), "victim"}),
            names);
}

TEST_F(FilesTest, AtomicWriteIntoMissingDirectoryFails) {
  Status s = WriteFileAtomically(dir_.File("no/such/file"), "x", 0600);
  EXPECT_EQ(Status::Code::kNotFound, s.code());
  EXPECT_TRUE(Listing().empty());
}

TEST_F(FilesTest, ReadKeyFileReadsTheWholeFile) {
  std::string path = dir_.MakeFile("a.pub", "key text\n", 0644);
  char buffer[kMaxKeyFileBytes];
  Result<size_t> n =
      ReadKeyFile(path, KeyFileKind::kPublic, buffer, sizeof buffer);
  ASSERT_OK(n.status());
  EXPECT_EQ("key text\n", std::string(buffer, n.value()));
}

TEST_F(FilesTest, SecretKeyFileAcceptsOwnerOnlyModes) {
  EXPECT_OK(ReadSecret(dir_.MakeFile("a.key", "k", 0600)));
  EXPECT_OK(ReadSecret(dir_.MakeFile("b.key", "k", 0400)));
}

TEST_F(FilesTest, SecretKeyFileRefusesGroupOrOtherAccess) {
  for (mode_t mode : {0644, 0640, 0604, 0660, 0620, 0602}) {
    Status s = ReadSecret(dir_.MakeFile("c.key", "k", mode));
    EXPECT_EQ(Status::Code::kPermissionDenied, s.code()) << std::oct << mode;
  }
}

TEST_F(FilesTest, SecretKeyFileRefusalTellsTheFix) {
  std::string path = dir_.MakeFile("d.key", "k", 0640);
  std::string message = ReadSecret(path).message();
  EXPECT_NE(std::string::npos, message.find("0640")) << message;
  EXPECT_NE(std::string::npos, message.find("chmod 600 " + path)) << message;
}

TEST_F(FilesTest, PublicKeyFileModeIsNotChecked) {
  char buffer[16];
  EXPECT_OK(ReadKeyFile(dir_.MakeFile("e.pub", "k", 0644), KeyFileKind::kPublic,
                        buffer, sizeof buffer)
                .status());
}

TEST_F(FilesTest, ReadKeyFileOfMissingFileIsNotFound) {
  EXPECT_EQ(Status::Code::kNotFound,
            ReadSecret(dir_.File("absent.key")).code());
}

TEST_F(FilesTest, ReadKeyFileRefusesFilesAboveItsBuffer) {
  char buffer[8];
  std::string path = dir_.MakeFile("f.pub", "12345678", 0644);
  EXPECT_OK(ReadKeyFile(path, KeyFileKind::kPublic, buffer, 8).status());
  path = dir_.MakeFile("f.pub", "123456789", 0644);
  Status s = ReadKeyFile(path, KeyFileKind::kPublic, buffer, 8).status();
  EXPECT_EQ(Status::Code::kInvalidArgument, s.code());
  EXPECT_NE(std::string::npos, s.message().find("larger than 8 bytes"));
}

TEST_F(FilesTest, ReadKeyFileRefusesADirectory) {
  ASSERT_OK(MakeDirectories(dir_.File("g.key"), 0700));
  Status s = ReadSecret(dir_.File("g.key"));
  EXPECT_EQ(Status::Code::kInvalidArgument, s.code());
  EXPECT_NE(std::string::npos, s.message().find("not a regular file"));
}

// ---- files created new ----

TEST_F(FilesTest, NewFileGetsItsModeWhateverTheUmask) {
  const mode_t old = umask(0);
  Status s = WriteNewFile(dir_.File("new.key"), "secret\n", 0600);
  umask(old);
  ASSERT_OK(s);
  EXPECT_EQ(0600u, ModeOf(dir_.File("new.key")));
  EXPECT_EQ("secret\n", ReadFile(dir_.File("new.key")).value());
}

TEST_F(FilesTest, NewFileNeverReplacesAnExistingOne) {
  std::string path = dir_.MakeFile("old.key", "old", 0600);
  Status s = WriteNewFile(path, "new", 0600);
  EXPECT_EQ(Status::Code::kConflict, s.code());
  EXPECT_EQ("old", ReadFile(path).value());
}

TEST_F(FilesTest, NewFileIsNeverWrittenThroughALink) {
  ASSERT_EQ(0, symlink(dir_.File("target").c_str(),
                       dir_.File("planted.key").c_str()));
  Status s = WriteNewFile(dir_.File("planted.key"), "secret", 0600);
  EXPECT_EQ(Status::Code::kConflict, s.code());
  EXPECT_EQ(Status::Code::kNotFound,
            ReadFile(dir_.File("target")).status().code());
}

TEST_F(FilesTest, MakeDirectoriesCreatesParents) {
  std::string path = dir_.File("a/b/c");
  const mode_t mask = umask(022);
  Status s = MakeDirectories(path, 0750);
  umask(mask);
  ASSERT_OK(s);
  EXPECT_EQ(0750u, ModeOf(path));
  EXPECT_EQ(0750u, ModeOf(dir_.File("a")));
  EXPECT_OK(MakeDirectories(path, 0750));  // already there
}

TEST_F(FilesTest, MakeDirectoriesRefusesAFileInTheWay) {
  std::string path = dir_.MakeFile("plain", "x", 0644);
  EXPECT_EQ(Status::Code::kInvalidArgument,
            MakeDirectories(path + "/sub", 0755).code());
}

// The conductor holds a descriptor per connected player: it raises its
// soft limit to the hard limit at start.
TEST(OpenFileLimitTest, RaisesTheSoftLimitToTheHardLimit) {
  struct rlimit saved;
  ASSERT_EQ(0, getrlimit(RLIMIT_NOFILE, &saved));
  struct rlimit low = saved;
  low.rlim_cur = std::min<rlim_t>(saved.rlim_max, 256);
  ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &low));
  Result<uint64_t> raised = RaiseOpenFileLimit();
  struct rlimit now;
  ASSERT_EQ(0, getrlimit(RLIMIT_NOFILE, &now));
  ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &saved));
  ASSERT_OK(raised.status());
  EXPECT_EQ(saved.rlim_max, now.rlim_cur);
  EXPECT_EQ(static_cast<uint64_t>(saved.rlim_max), raised.value());
}

}  // namespace
}  // namespace orchestra::common
