// End-to-end: a conductor at its descriptor limit refuses new connections,
// keeps serving the ones it has and never aborts (DESIGN.md section 6).
//
// The story: under RLIMIT_NOFILE 1024, TCP connections to the player port
// that never finished the Curve handshake filled the conductor's
// descriptors; libzmq's I/O thread then retried the tcp accept in a loop,
// and the next local request over the ipc audience socket aborted the
// process inside libzmq 4.3.4 (`Too many open files`,
// src/ipc_listener.cpp:325). Here a conductor under a limit of 512 meets
// 2,400 such connections, in four waves of 600 (more than it could hold at
// once), while a player, an ipc client and a tcp audience client go on
// being served.

#include <arpa/inet.h>
#include <dirent.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "broker/audience_client.h"
#include "broker/curve_keys.h"
#include "common/files.h"
#include "common/unique_fd.h"
#include "test/cluster.h"

namespace orchestra::test {
namespace {

constexpr int kLimit = 512;    // the conductor's RLIMIT_NOFILE
constexpr int kWaves = 4;      // 2,400 connections in all
constexpr int kPerWave = 600;  // more than the conductor may hold at once
const char kTrue[] = "#!/bin/sh\nexit 0\n";

// Plain TCP connections that never say a word: no ZMTP greeting, so no
// Curve handshake ever finishes.
class IdleConnections {
 public:
  // Opens `n` connections to `endpoint` (tcp://HOST:PORT) in batches, each
  // given a moment to complete, as a client retrying would: those the
  // conductor's kernel does not complete stay pending.
  void Open(const std::string& endpoint, int n) {
    const size_t colon = endpoint.rfind(':');
    struct sockaddr_in to = {};
    to.sin_family = AF_INET;
    to.sin_port =
        htons(static_cast<uint16_t>(std::stoi(endpoint.substr(colon + 1))));
    ASSERT_EQ(1, inet_pton(AF_INET, endpoint.substr(6, colon - 6).c_str(),
                           &to.sin_addr));
    while (n > 0) {
      const size_t first = fds_.size();
      for (int i = 0; i < kBatch && n > 0; ++i, --n) {
        common::UniqueFd fd(
            socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
        ASSERT_TRUE(fd.valid()) << "socket: " << strerror(errno);
        const int rc =
            connect(fd.get(), reinterpret_cast<sockaddr*>(&to), sizeof(to));
        ASSERT_TRUE(rc == 0 || errno == EINPROGRESS) << strerror(errno);
        fds_.push_back(std::move(fd));
      }
      WaitConnected(first, 100ms);
    }
  }
  void CloseAll() { fds_.clear(); }

 private:
  static constexpr int kBatch = 25;

  // Waits until the connections from `first` on are up, or `timeout`.
  void WaitConnected(size_t first, std::chrono::milliseconds timeout) {
    std::vector<struct pollfd> items;
    for (size_t i = first; i < fds_.size(); ++i)
      items.push_back({fds_[i].get(), POLLOUT, 0});
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!items.empty()) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0 ||
          poll(items.data(), items.size(), static_cast<int>(left.count())) <= 0)
        return;
      items.erase(std::remove_if(items.begin(), items.end(),
                                 [](const pollfd& p) { return p.revents; }),
                  items.end());
      for (pollfd& p : items) p.revents = 0;
    }
  }

  std::vector<common::UniqueFd> fds_;
};

class DescriptorLimitTest : public testing::Test {
 protected:
  void SetUp() override {
    struct rlimit files;  // ours: a wave and the clients
    ASSERT_EQ(0, getrlimit(RLIMIT_NOFILE, &files));
    files.rlim_cur = files.rlim_max;
    ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &files));
    if (files.rlim_cur < kPerWave + 256) GTEST_SKIP() << "RLIMIT_NOFILE";
    cluster_.AddPlayer("p1");
    cluster_.AddPlayer("p2");
    cluster_.WriteScoreEverywhere("true", kTrue);
    auto keys = broker::GenerateKeyPair();
    ASSERT_OK(keys.status());
    ASSERT_OK(
        broker::WriteKeyPair(cluster_.dir() + "/keys", "ci", keys.value()));
    ASSERT_OK(common::WriteFileAtomically(
        cluster_.dir() + "/audience", "ci " + keys.value().public_key + "\n",
        0644));
    cluster_.ServeTcpAudience(cluster_.dir() + "/audience");
    cluster_.SetConductorFileLimit(kLimit);
    ASSERT_TRUE(cluster_.StartConductor());
    ASSERT_TRUE(cluster_.StartPlayer("p1"));
    remote_ = Remote();
    ASSERT_NE(nullptr, remote_);
  }
  // A tcp audience client with key "ci", connected before any wave.
  std::unique_ptr<broker::AudienceClient> Remote() {
    broker::ClientOptions options;
    options.endpoint = cluster_.tcp_audience_endpoint();
    options.secret_key_file = cluster_.dir() + "/keys/ci.key";
    options.server_key_file = cluster_.dir() + "/keys/conductor.pub";
    auto client = broker::AudienceClient::Connect(options);
    EXPECT_OK(client.status());
    return client.ok() ? std::move(client.value()) : nullptr;
  }
  // Runs a job on p1 through `client`; true when it ends OK.
  static bool RunsJob(broker::AudienceClient* client) {
    broker::SubmitRequest submit;
    submit.score = "true";
    submit.players = {"p1"};
    auto accepted = client->Call(submit, 10000);
    if (!accepted.ok()) return false;
    auto* job = std::get_if<broker::SubmitReply>(&accepted.value().body);
    if (job == nullptr) return false;
    auto waited = client->Call(broker::WaitRequest{job->job, 10000}, 15000);
    if (!waited.ok()) return false;
    auto* record = std::get_if<broker::JobReply>(&waited.value().body);
    return record != nullptr && record->job.state == broker::JobState::kOk;
  }
  bool ConductorAlive() {
    return !cluster_.conductor()->Wait(std::chrono::milliseconds(0));
  }
  int64_t ConductorDescriptors() {
    const std::string path =
        "/proc/" + std::to_string(cluster_.conductor()->pid()) + "/fd";
    DIR* dir = opendir(path.c_str());
    if (dir == nullptr) return -1;
    int64_t n = 0;
    while (const struct dirent* entry = readdir(dir))
      n += entry->d_name[0] != '.';
    closedir(dir);
    return n;
  }
  // The conductor's last log lines, for a failure's message.
  std::string LogTail() {
    const std::string log = cluster_.conductor()->Log();
    return "conductor's log ends:\n" +
           log.substr(log.size() - std::min<size_t>(log.size(), 600));
  }
  // Waits until the conductor says it stopped accepting; also returns
  // (false) once it holds nearly every descriptor it may, as one without
  // a reserve does, or has died.
  bool WaitUntilAtLimit(size_t mark) {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (std::chrono::steady_clock::now() < deadline) {
      if (cluster_.conductor()->WaitForLog("descriptor limit near", 100ms,
                                           mark))
        return true;
      if (ConductorDescriptors() >= kLimit - 4 || !ConductorAlive())
        return false;
    }
    return false;
  }
  // One wave: the connections come, the clients are served while they
  // are held, and they go.
  void Wave(int wave) {
    SCOPED_TRACE("wave " + std::to_string(wave));
    const size_t mark = cluster_.conductor()->LogSize();
    IdleConnections idle;
    idle.Open(cluster_.player_endpoint(), kPerWave);
    EXPECT_TRUE(WaitUntilAtLimit(mark));
    auto local = cluster_.Client();  // a new ipc connection, at the limit
    ASSERT_NE(nullptr, local) << LogTail();
    EXPECT_TRUE(RunsJob(local.get())) << "ipc client not served";
    EXPECT_TRUE(RunsJob(remote_.get())) << "tcp client not served";
    ASSERT_TRUE(ConductorAlive()) << LogTail();
    // No accept found the descriptors used up.
    EXPECT_EQ(0u, cluster_.conductor()->CountLog("accept failed"));
    idle.CloseAll();
    EXPECT_TRUE(cluster_.conductor()->WaitForLog("accepting connections again",
                                                 10s, mark));
  }

  Cluster cluster_;
  std::unique_ptr<broker::AudienceClient> remote_;
};

TEST_F(DescriptorLimitTest, IdleConnectionsComeAndGoWhileEveryoneIsServed) {
  for (int wave = 0; wave < kWaves && !HasFatalFailure(); ++wave) Wave(wave);
  ASSERT_FALSE(HasFatalFailure());
  EXPECT_TRUE(cluster_.StartPlayer("p2")) << "a new player was not taken";
  EXPECT_TRUE(RunsJob(remote_.get()));
  EXPECT_TRUE(ConductorAlive());
}

}  // namespace
}  // namespace orchestra::test
