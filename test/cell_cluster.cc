#include "test/cell_cluster.h"

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <regex>
#include <thread>

#include "broker/curve_keys.h"
#include "common/files.h"

namespace orchestra::test {

namespace {

void WriteText(const std::string& path, const std::string& text, int mode) {
  ASSERT_OK(common::WriteFileAtomically(path, text, mode));
}

std::string Joined(const std::vector<std::string>& items) {
  std::string text;
  for (const std::string& item : items)
    text += (text.empty() ? "" : ",") + item;
  return text;
}

// What a conductor's log says of its role: the epoch of its last "active"
// line, 0 when it never was active or stood down after it.
int64_t ActiveEpoch(const std::string& log) {
  static const std::regex active("cell: active epoch=([0-9]+)");
  int64_t epoch = 0;
  size_t at = std::string::npos;
  for (std::sregex_iterator it(log.begin(), log.end(), active), end; it != end;
       ++it) {
    epoch = std::stoll((*it)[1].str());
    at = it->position(0);
  }
  if (at == std::string::npos) return 0;
  const size_t deposed = log.rfind("cell: this node no longer leads");
  if (deposed != std::string::npos && deposed > at) return 0;
  return epoch;
}

}  // namespace

int FreeLoopbackPort() {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t size = sizeof(address);
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size) == 0)
    port = ntohs(address.sin_port);
  close(fd);
  return port;
}

CellCluster::CellCluster() {
  broker::CurveKeyPair keys = broker::GenerateKeyPair().value();
  EXPECT_OK(broker::WriteKeyPair(dir() + "/keys", "conductor", keys));
  EXPECT_OK(common::WriteFileAtomically(dir() + "/revoked", "", 0644));
  EXPECT_OK(common::WriteFileAtomically(dir() + "/players", "", 0644));
  for (int i = 0; i < kSize; ++i) {
    cell_ports_[i] = FreeLoopbackPort();
    player_ports_[i] = FreeLoopbackPort();
    EXPECT_NE(0, cell_ports_[i]);
    EXPECT_NE(0, player_ports_[i]);
  }
}

CellCluster::~CellCluster() {
  // Players first, so none of them waits on a conductor that is gone; a
  // stopped conductor gets SIGCONT so that it can end by itself.
  for (auto& [name, process] : players_) process->Signal(SIGTERM);
  for (auto& [name, process] : players_) process->Wait(10s);
  players_.clear();
  for (int i = 0; i < kSize; ++i) {
    if (!running_[i]) continue;
    conductors_[i]->Signal(SIGTERM);
    conductors_[i]->Signal(SIGCONT);
  }
  for (int i = 0; i < kSize; ++i) {
    if (running_[i]) conductors_[i]->Wait(10s);
    conductors_[i].reset();
  }
}

void CellCluster::AddPlayer(const std::string& name) {
  broker::CurveKeyPair keys = broker::GenerateKeyPair().value();
  ASSERT_OK(broker::WriteKeyPair(dir() + "/keys", name, keys));
  player_keys_[name] = keys.public_key;
  ASSERT_OK(common::MakeDirectories(dir() + "/scores-" + name, 0755));
  std::string text = "# written by the test\n";
  for (const auto& [player, key] : player_keys_)
    text += player + " " + key + "\n";
  WriteText(dir() + "/players", text, 0644);
}

void CellCluster::WriteScoreEverywhere(const std::string& name,
                                       const std::string& script) {
  for (const auto& [player, key] : player_keys_)
    WriteText(dir() + "/scores-" + player + "/" + name, script, 0755);
}

std::string CellCluster::player_endpoint(int i) const {
  return "tcp://127.0.0.1:" + std::to_string(player_ports_[i]);
}

std::string CellCluster::audience_endpoint(int i) const {
  return "ipc://" + dir() + "/c" + std::to_string(i) + ".sock";
}

std::string CellCluster::audience_endpoints() const {
  std::vector<std::string> all;
  for (int i = 0; i < kSize; ++i) all.push_back(audience_endpoint(i));
  return Joined(all);
}

std::string CellCluster::player_endpoints() const {
  std::vector<std::string> all;
  for (int i = 0; i < kSize; ++i) all.push_back(player_endpoint(i));
  return Joined(all);
}

std::string CellCluster::ConductorConfig(int i) const {
  std::vector<std::string> peers;
  for (int j = 0; j < kSize; ++j) {
    if (j != i) peers.push_back("127.0.0.1:" + std::to_string(cell_ports_[j]));
  }
  const std::string node = dir() + "/node" + std::to_string(i);
  return "# written by the test\n"
         "player endpoint = " +
         player_endpoint(i) + "\naudience endpoint = " + audience_endpoint(i) +
         "\nconductor secret key = " + dir() +
         "/keys/conductor.key\n"
         "player file path = " +
         dir() + "/players\nrevoked keys file = " + dir() +
         "/revoked\n"
         "database engine = dqlite\n"
         "database path = " +
         node + "\ncell address = 127.0.0.1:" + std::to_string(cell_ports_[i]) +
         "\ncell peers = " + Joined(peers) +
         "\n"
         // Short beats for quick tests; no web page, so that three
         // conductors on one machine do not clash over its port.
         "heartbeat interval = 200\n"
         "player timeout = 2000\n"
         "dispatch retry = 1000\n"
         "http endpoint =\n";
}

bool CellCluster::Start(int i) {
  const std::string node = dir() + "/node" + std::to_string(i);
  EXPECT_OK(common::MakeDirectories(node, 0700));
  const std::string config = dir() + "/c" + std::to_string(i) + ".conf";
  WriteText(config, ConductorConfig(i), 0644);
  conductors_[i] =
      std::make_unique<Process>(BinaryDir() + "/orchestra-conductor",
                                std::vector<std::string>{"--config", config});
  running_[i] = conductors_[i]->started();
  stopped_[i] = false;
  if (!running_[i]) return false;
  // A standby binds the same endpoints as the active one, so either line
  // says the node is up and answering.
  return conductors_[i]
      ->WaitForLog("bound endpoint=tcp://[0-9.:]+ role=players", 15s)
      .has_value();
}

bool CellCluster::StartAll() {
  for (int i = 0; i < kSize; ++i) {
    if (!Start(i)) return false;
  }
  const int active = WaitForActive();
  if (active < 0) return false;
  // Until both others are voters a kill of the leader leaves no quorum.
  for (int i = 0; i < kSize; ++i) {
    if (i != active && !conductors_[i]->WaitForLog("cell joined id=", 20s))
      return false;
  }
  return true;
}

bool CellCluster::Restart(int i) {
  // A node that was a voter is one again at once; it is back in the cell
  // once it has seen which conductor is active, or leads itself.
  return Start(i) &&
         conductors_[i]
             ->WaitForLog("cell: (active conductor epoch=|this node leads)",
                          20s)
             .has_value();
}

void CellCluster::Kill(int i, int signal) {
  if (!running_[i]) return;
  conductors_[i]->Signal(signal);
  if (signal == SIGSTOP) {
    stopped_[i] = true;
    return;
  }
  if (signal == SIGCONT) {
    stopped_[i] = false;
    return;
  }
  if (stopped_[i]) conductors_[i]->Signal(SIGCONT);
  EXPECT_TRUE(conductors_[i]->Wait(20s).has_value())
      << "conductor " << i << " did not stop";
  running_[i] = false;
  stopped_[i] = false;
}

int CellCluster::WaitForActive(int64_t after_epoch,
                               std::chrono::milliseconds timeout) {
  // Three logs to watch at once: polled, each round bounded by the deadline.
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int best = -1;
    int64_t best_epoch = after_epoch;
    for (int i = 0; i < kSize; ++i) {
      if (!running(i)) continue;
      const int64_t epoch = ActiveEpoch(conductors_[i]->Log());
      if (epoch > best_epoch) {
        best = i;
        best_epoch = epoch;
      }
    }
    if (best >= 0) {
      epoch_ = best_epoch;
      return best;
    }
    if (std::chrono::steady_clock::now() >= deadline) return -1;
    std::this_thread::sleep_for(50ms);
  }
}

std::string CellCluster::LogTails(size_t lines) {
  std::string text;
  for (int i = 0; i < kSize; ++i) {
    if (!conductors_[i]) continue;
    const std::string log = conductors_[i]->Log();
    size_t at = log.size();
    for (size_t n = 0; n <= lines && at != std::string::npos && at > 0; ++n)
      at = log.rfind('\n', at - 1);
    text += "--- conductor " + std::to_string(i) +
            (running(i) ? "" : " (not running)") + ":\n" +
            log.substr(at == std::string::npos ? 0 : at + 1);
  }
  return text;
}

bool CellCluster::StartPlayer(const std::string& name, bool wait_joined) {
  const std::string config =
      "player name = " + name + "\nconductor endpoint = " + player_endpoints() +
      "\nconductor public key = " + dir() +
      "/keys/conductor.pub\nplayer secret key = " + dir() + "/keys/" + name +
      ".key\nscore directory = " + dir() + "/scores-" + name +
      "\nstate path = " + dir() + "/" + name + ".db\nkill grace = 1\n";
  WriteText(dir() + "/" + name + ".conf", config, 0644);
  players_[name] = std::make_unique<Process>(
      BinaryDir() + "/orchestra-player",
      std::vector<std::string>{"--config", dir() + "/" + name + ".conf"});
  if (!players_[name]->started()) return false;
  if (!wait_joined) return true;
  const int active = WaitForActive();
  return active >= 0 &&
         conductors_[active]
             ->WaitForLog("player joined player=" + name + " ", 20s)
             .has_value();
}

CommandResult CellCluster::Cli(const std::vector<std::string>& args,
                               std::chrono::milliseconds timeout) {
  std::vector<std::string> all = {"--endpoint", audience_endpoints()};
  all.insert(all.end(), args.begin(), args.end());
  return RunCommand(BinaryDir() + "/orchestra", all, timeout);
}

CommandResult CellCluster::CliAt(int i, const std::vector<std::string>& args,
                                 std::chrono::milliseconds timeout) {
  std::vector<std::string> all = {"--endpoint", audience_endpoint(i)};
  all.insert(all.end(), args.begin(), args.end());
  return RunCommand(BinaryDir() + "/orchestra", all, timeout);
}

}  // namespace orchestra::test
