// End-to-end tests of the ipc:// audience socket (DESIGN.md section 2): a
// real conductor refuses an abstract socket and a socket in a directory
// others may write, at start, with --check-config and on SIGHUP (keeping
// the socket it has), and its socket has the configured mode and group as
// soon as it is bound, so that a user it does not admit cannot connect.

#include <grp.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <regex>

#include "common/files.h"
#include "test/cluster.h"
#include "test/file_watch.h"

namespace orchestra::test {
namespace {

constexpr uid_t kNobody = 65534;
constexpr gid_t kNoGroup = 65534;

// 0 if a process running as `nobody` can connect to the Unix socket at
// `path`, else the errno its connect() failed with.
int ConnectAsNobody(const std::string& path) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, path.c_str(), sizeof address.sun_path - 1);
  pid_t pid = ::fork();
  if (pid == 0) {  // Only system calls from here on: we may have threads.
    if (::setgroups(0, nullptr) != 0 || ::setgid(kNoGroup) != 0 ||
        ::setuid(kNobody) != 0)
      ::_exit(255);
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) ::_exit(254);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) !=
        0)
      ::_exit(errno);
    ::_exit(0);
  }
  int status = 0;
  if (pid < 0 || ::waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
    return -1;
  return WEXITSTATUS(status);
}

// The umask, bind and chmod calls of an strace log, one line each, in a
// short form: "umask(0177) bind(socket) umask(022) chmod(/proc/self/fd/N,
// 0660)", where "socket" is `path` and N any descriptor.
std::string Calls(const std::string& trace, const std::string& path) {
  const std::regex call(
      "(umask\\([0-7]+\\)|bind\\([^\\n]*|f?chmod(at)?\\([^\\n]*\\))\\s+=");
  const std::regex fd_path("/proc/self/fd/[0-9]+");
  std::string calls;
  for (auto it = std::sregex_iterator(trace.begin(), trace.end(), call);
       it != std::sregex_iterator(); ++it) {
    std::string text = (*it)[1].str();
    if (text.rfind("bind(", 0) == 0) {
      if (text.find("sun_path=\"" + path + "\"") == std::string::npos) continue;
      text = "bind(socket)";
    }
    for (size_t at = text.find(path); at != std::string::npos;
         at = text.find(path))
      text.replace(at, path.size(), "socket");
    text = std::regex_replace(text, fd_path, "/proc/self/fd/N");
    text.erase(std::remove(text.begin(), text.end(), '"'), text.end());
    calls += text + " ";
  }
  return calls;
}

class AudienceSocketTest : public testing::Test {
 protected:
  void SetUp() override { cluster_.AddPlayer("p1"); }

  // A directory `name` in the cluster's directory with `mode`.
  std::string Directory(const std::string& name, mode_t mode) {
    const std::string path = cluster_.dir() + "/" + name;
    EXPECT_OK(common::MakeDirectories(path, 0700));
    EXPECT_EQ(0, ::chmod(path.c_str(), mode));
    return path;
  }
  // Expects the conductor to have exited with status 2, saying `message`.
  void ExpectRefusedToStart(const std::string& message) {
    std::optional<int> status = cluster_.conductor()->Wait(10s);
    ASSERT_TRUE(status.has_value());
    EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 2) << *status;
    EXPECT_NE(std::string::npos, cluster_.conductor()->Log().find(message))
        << cluster_.conductor()->Log();
  }
  CommandResult CheckConfig() {
    return RunCommand(
        BinaryDir() + "/orchestra-conductor",
        {"--check-config", "--config", cluster_.dir() + "/conductor.conf"},
        30s);
  }
  // Rewrites the `audience endpoint` line (line 3) of conductor.conf.
  void SetAudienceLine(const std::string& value) {
    const std::string path = cluster_.dir() + "/conductor.conf";
    std::string text = common::ReadFile(path).value();
    const size_t start = text.find("audience endpoint = ");
    ASSERT_NE(std::string::npos, start);
    const size_t end = text.find('\n', start);
    text.replace(start, end - start, "audience endpoint = " + value);
    ASSERT_OK(common::WriteFileAtomically(path, text, 0644));
  }
  static mode_t ModeOfSocket(const std::string& path) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0 || !S_ISSOCK(st.st_mode)) return 0;
    return st.st_mode & 07777;
  }

  Cluster cluster_;
};

// Every local user can connect to an abstract socket: no file, no mode.
TEST_F(AudienceSocketTest, ConductorRefusesAnAbstractSocket) {
  cluster_.SetAudienceEndpoint("ipc://@orchestra-test-" +
                               std::to_string(::getpid()));
  EXPECT_FALSE(cluster_.StartConductor());
  ExpectRefusedToStart(
      "conductor.conf:3: bad value for 'audience endpoint': 'ipc://@");
  EXPECT_NE(std::string::npos,
            cluster_.conductor()->Log().find("is an abstract socket"));
  CommandResult check = CheckConfig();
  EXPECT_EQ(2, check.exit_code);
  EXPECT_NE(std::string::npos,
            check.err.find("conductor.conf:3: bad value for 'audience "
                           "endpoint'"))
      << check.err;
}

TEST_F(AudienceSocketTest, ConductorRefusesASocketInAWorldWritableDirectory) {
  const std::string dir = Directory("open", 0777);
  cluster_.SetAudienceEndpoint("ipc://" + dir + "/conductor.sock");
  EXPECT_FALSE(cluster_.StartConductor());
  ExpectRefusedToStart("conductor.conf:3: bad value for 'audience endpoint'");
  EXPECT_NE(std::string::npos,
            cluster_.conductor()->Log().find(
                "directory " + dir + " is writable by group or others"));
  EXPECT_EQ(0u, ModeOfSocket(dir + "/conductor.sock")) << "nothing bound";
  EXPECT_EQ(2, CheckConfig().exit_code);
}

// A broken setting on SIGHUP is logged and the old socket keeps serving.
TEST_F(AudienceSocketTest, UnsafeSocketOnSighupKeepsTheOldSocket) {
  ASSERT_TRUE(cluster_.StartConductor());
  const std::string open = Directory("open", 0777);
  for (const std::string& bad :
       {std::string("ipc://@orchestra-test"), "ipc://" + open + "/c.sock"}) {
    SetAudienceLine(bad);
    const size_t mark = cluster_.conductor()->LogSize();
    cluster_.conductor()->Signal(SIGHUP);
    EXPECT_TRUE(cluster_.conductor()
                    ->WaitForLog("reload failed, old settings kept .*"
                                 "conductor.conf:3: bad value for 'audience "
                                 "endpoint'",
                                 10s, mark)
                    .has_value())
        << bad;
    CommandResult players = cluster_.Cli({"players"});
    EXPECT_EQ(0, players.exit_code) << bad << ": " << players.err;
  }
}

TEST_F(AudienceSocketTest, SocketHasItsModeAndGroupWhenBound) {
  const std::string path = cluster_.dir() + "/run/conductor.sock";
  cluster_.SetAudienceEndpoint("ipc://" + path);
  ASSERT_TRUE(cluster_.StartConductor(
      "audience socket mode = 0640\naudience socket group = nogroup\n"));
  ASSERT_TRUE(cluster_.conductor()
                  ->WaitForLog("bound endpoint=ipc://.* role=audience", 10s)
                  .has_value());
  struct stat st {};
  ASSERT_EQ(0, ::lstat(path.c_str(), &st));
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(0640u, st.st_mode & 07777);
  EXPECT_EQ(kNoGroup, st.st_gid);
}

// The mode decides who may connect: with 0600 a user that is neither the
// conductor's nor in its group cannot, with 0666 the same user can (so
// the refusal is the mode's doing, not the directory's).
TEST_F(AudienceSocketTest, ModeKeepsOtherUsersOut) {
  ASSERT_EQ(0, ::chmod(cluster_.dir().c_str(), 0755));  // nobody may enter
  const std::string path = cluster_.dir() + "/conductor.sock";
  ASSERT_TRUE(cluster_.StartConductor("audience socket mode = 0600\n"));
  EXPECT_EQ(0600u, ModeOfSocket(path));
  EXPECT_EQ(EACCES, ConnectAsNobody(path));
  EXPECT_EQ(0, cluster_.Cli({"players"}).exit_code) << "we still may";
  cluster_.KillConductor(SIGTERM);
  ASSERT_TRUE(cluster_.StartConductor("audience socket mode = 0666\n"));
  EXPECT_EQ(0666u, ModeOfSocket(path));
  EXPECT_EQ(0, ConnectAsNobody(path));
}

// The window the old code left (the socket made with the umask's mode, then
// chmod of its path) cannot be timed from outside, so the order of the
// system calls is the evidence: bind() makes the socket under umask 0177,
// the umask comes back afterwards, and the mode is set through the
// descriptor of the socket file, never by chmod() of its path.
TEST_F(AudienceSocketTest, SocketIsBornPrivateAndGetsItsModeThroughItsFd) {
  ASSERT_TRUE(cluster_.StartConductor("audience socket mode = 0660\n"));
  cluster_.KillConductor(SIGTERM);  // conductor.conf is written
  const std::string trace = cluster_.dir() + "/trace";
  const std::string path = cluster_.dir() + "/conductor.sock";
  Process strace("/usr/bin/strace",
                 {"-f", "-qq", "-e", "trace=umask,bind,chmod,fchmodat", "-o",
                  trace, BinaryDir() + "/orchestra-conductor", "--config",
                  cluster_.dir() + "/conductor.conf"});
  ASSERT_TRUE(strace.WaitForLog("started players=", 20s).has_value())
      << strace.Log();
  std::string children =
      ReadText("/proc/" + std::to_string(strace.pid()) + "/task/" +
               std::to_string(strace.pid()) + "/children");
  ASSERT_EQ(0, ::kill(std::stoi(children), SIGTERM));
  ASSERT_TRUE(strace.Wait(20s).has_value());
  const std::string calls = Calls(ReadText(trace), path);
  EXPECT_TRUE(std::regex_search(
      calls, std::regex("umask\\(0177\\) bind\\(socket\\) umask\\([0-7]+\\) "
                        "chmod\\(/proc/self/fd/N, 0660\\)")))
      << calls;
  EXPECT_EQ(std::string::npos, calls.find("chmod(socket")) << calls;
}

}  // namespace
}  // namespace orchestra::test
