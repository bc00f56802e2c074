// Tests for conductor/audience_socket.h: which ipc:// addresses are
// refused (abstract, relative, in a directory others may write or own) and
// how the socket file is made (its mode and group whatever the umask, the
// umask given back, the directory checked again at bind).

#include "conductor/audience_socket.h"

#include <grp.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <memory>
#include <string>

#include "broker/context.h"
#include "broker/endpoint.h"
#include "common/files.h"
#include "test/test_util.h"

namespace orchestra::conductor {
namespace {

using common::Result;
using common::Status;

constexpr gid_t kNoGroup = static_cast<gid_t>(-1);

class AudienceSocketTest : public testing::Test {
 protected:
  void SetUp() override {
    auto router = broker::Endpoint::Router(&context_, "audience", {});
    ASSERT_OK(router.status());
    router_ = std::move(router.value());
  }
  std::string Address(const std::string& name) const {
    return "ipc://" + dir_.File(name);
  }
  // A directory `name` in the test's directory with `mode`.
  std::string Directory(const std::string& name, mode_t mode) const {
    std::string path = dir_.File(name);
    EXPECT_OK(common::MakeDirectories(path, 0700));
    EXPECT_EQ(0, ::chmod(path.c_str(), mode));
    return path;
  }
  static bool Mentions(const Status& s, const std::string& part) {
    return s.message().find(part) != std::string::npos;
  }
  static struct stat StatOf(const std::string& path) {
    struct stat st {};
    EXPECT_EQ(0, ::lstat(path.c_str(), &st)) << path;
    return st;
  }

  test::TempDir dir_;
  broker::Context context_;
  std::unique_ptr<broker::Endpoint> router_;
};

TEST_F(AudienceSocketTest, AbsolutePathInAPrivateDirectoryPasses) {
  EXPECT_OK(CheckIpcAddress(Address("conductor.sock")));
  EXPECT_OK(
      CheckIpcAddress("ipc:///nonexistent/conductor.sock"));  // made later
}

TEST_F(AudienceSocketTest, AbstractSocketIsRefused) {
  Status s = CheckIpcAddress("ipc://@orchestra");
  EXPECT_EQ(Status::Code::kInvalidArgument, s.code());
  EXPECT_TRUE(Mentions(s,
                       "abstract socket, which every local user may "
                       "connect to"))
      << s.ToString();
}

TEST_F(AudienceSocketTest, EmptyOrRelativePathIsRefused) {
  for (const char* address :
       {"ipc://", "ipc://conductor.sock", "ipc://run/conductor.sock", "ipc://*",
        "ipc:///run/orchestra/"}) {
    Status s = CheckIpcAddress(address);
    EXPECT_EQ(Status::Code::kInvalidArgument, s.code()) << address;
    EXPECT_TRUE(Mentions(s, "absolute path")) << s.ToString();
  }
}

TEST_F(AudienceSocketTest, DirectoryOthersMayWriteIsRefusedStickyOrNot) {
  for (mode_t mode : {0777, 01777, 0775, 0757}) {
    std::string dir = Directory("open", mode);
    Status s = CheckIpcAddress(Address("open/c.sock"));
    EXPECT_EQ(Status::Code::kInvalidArgument, s.code()) << std::oct << mode;
    EXPECT_TRUE(Mentions(s, "directory " + dir +
                                " is writable by group or "
                                "others"))
        << s.ToString();
    EXPECT_TRUE(Mentions(s, "chmod go-w " + dir)) << s.ToString();
  }
}

TEST_F(AudienceSocketTest, DirectoryOfAnotherUserIsRefused) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to chown";
  std::string dir = Directory("theirs", 0755);
  ASSERT_EQ(0, ::chown(dir.c_str(), 65534, static_cast<gid_t>(-1)));
  Status s = CheckIpcAddress(Address("theirs/c.sock"));
  EXPECT_EQ(Status::Code::kInvalidArgument, s.code());
  EXPECT_TRUE(Mentions(s, "belongs to uid 65534")) << s.ToString();
}

TEST_F(AudienceSocketTest, SocketGetsItsModeAndGroupWhateverTheUmask) {
  struct group* nogroup = ::getgrnam("nogroup");
  ASSERT_NE(nullptr, nogroup);
  const mode_t saved = ::umask(0);
  Result<std::string> bound = BindIpcSocket(
      router_.get(), Address("run/c.sock"), 0640, nogroup->gr_gid);
  const mode_t after = ::umask(saved);
  ASSERT_OK(bound.status());
  EXPECT_EQ(Address("run/c.sock"), bound.value());
  struct stat st = StatOf(dir_.File("run/c.sock"));
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(0640u, st.st_mode & 07777);
  EXPECT_EQ(nogroup->gr_gid, st.st_gid);
  EXPECT_EQ(0u, after) << "the umask is given back";
}

TEST_F(AudienceSocketTest, SocketWithoutAGroupKeepsOurs) {
  ASSERT_OK(
      BindIpcSocket(router_.get(), Address("c.sock"), 0600, kNoGroup).status());
  struct stat st = StatOf(dir_.File("c.sock"));
  EXPECT_EQ(0600u, st.st_mode & 07777);
  EXPECT_EQ(::getegid(), st.st_gid);
}

// The settings were checked when the directory did not exist yet, or it
// changed since: bind checks it again.
TEST_F(AudienceSocketTest, BindChecksTheDirectoryAgain) {
  Directory("open", 0777);
  Result<std::string> bound =
      BindIpcSocket(router_.get(), Address("open/c.sock"), 0600, kNoGroup);
  EXPECT_EQ(Status::Code::kInvalidArgument, bound.status().code());
  EXPECT_NE(0, ::access(dir_.File("open/c.sock").c_str(), F_OK))
      << "nothing was bound";
}

TEST_F(AudienceSocketTest, BindRefusesAnAbstractSocket) {
  EXPECT_EQ(
      Status::Code::kInvalidArgument,
      BindIpcSocket(router_.get(), "ipc://@orchestra-test", 0600, kNoGroup)
          .status()
          .code());
}

TEST_F(AudienceSocketTest, IpcPathOfOtherTransportsIsEmpty) {
  EXPECT_EQ("/run/c.sock", IpcPath("ipc:///run/c.sock"));
  EXPECT_EQ("", IpcPath("tcp://127.0.0.1:2259"));
}

}  // namespace
}  // namespace orchestra::conductor
