// Tests for common/files.h: whole-file reads, atomic writes with a mode, the
// secret-file permission check and directory creation.

#include "common/files.h"

#include <dirent.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/stat.h>

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

TEST_F(FilesTest, AtomicWriteIntoMissingDirectoryFails) {
  Status s = WriteFileAtomically(dir_.File("no/such/file"), "x", 0600);
  EXPECT_EQ(Status::Code::kNotFound, s.code());
  EXPECT_TRUE(Listing().empty());
}

TEST_F(FilesTest, PrivateFileAcceptsOwnerOnlyModes) {
  EXPECT_OK(CheckPrivateFile(dir_.MakeFile("a.key", "k", 0600)));
  EXPECT_OK(CheckPrivateFile(dir_.MakeFile("b.key", "k", 0400)));
}

TEST_F(FilesTest, PrivateFileRefusesGroupOrOtherAccess) {
  for (mode_t mode : {0644, 0640, 0604, 0660, 0620, 0602}) {
    Status s = CheckPrivateFile(dir_.MakeFile("c.key", "k", mode));
    EXPECT_EQ(Status::Code::kPermissionDenied, s.code()) << std::oct << mode;
  }
}

TEST_F(FilesTest, PrivateFileRefusalTellsTheFix) {
  std::string path = dir_.MakeFile("d.key", "k", 0640);
  std::string message = CheckPrivateFile(path).message();
  EXPECT_NE(std::string::npos, message.find("0640")) << message;
  EXPECT_NE(std::string::npos, message.find("chmod 600 " + path)) << message;
}

TEST_F(FilesTest, PrivateFileCheckOfMissingFileIsNotFound) {
  EXPECT_EQ(Status::Code::kNotFound,
            CheckPrivateFile(dir_.File("absent.key")).code());
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
