// CellCluster builds a cell of three real conductors on loopback for
// end-to-end tests (DESIGN.md section 17): one freshly generated Curve key
// pair shared by the three, each with its own dqlite data directory, dqlite
// port, player port and ipc:// audience socket, players that list all three
// player endpoints and a CLI given all three audience endpoints. Ports are
// picked free before the start, since each node's config names the others.

#ifndef ORCHESTRA_TEST_CELL_CLUSTER_H_
#define ORCHESTRA_TEST_CELL_CLUSTER_H_

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "test/process.h"
#include "test/test_util.h"

namespace orchestra::test {

using namespace std::chrono_literals;

// A TCP port on 127.0.0.1 that was free a moment ago (bound to :0, read
// back, closed), or 0.
int FreeLoopbackPort();

class CellCluster {
 public:
  static constexpr int kSize = 3;

  CellCluster();
  ~CellCluster();

  const std::string& dir() const { return dir_.path(); }

  // Makes keys for player `name` and lists it in the players file.
  void AddPlayer(const std::string& name);
  // Installs score `name` (a script, made executable) for every player.
  void WriteScoreEverywhere(const std::string& name, const std::string& script);

  // Starts conductor `i` and waits until it has bound its player endpoint,
  // as a standby or as the active one.
  bool Start(int i);
  // Starts the three at once (the others retry joining the bootstrapping
  // node) and waits until one of them is active and the others joined.
  bool StartAll();
  // Signals conductor `i`. SIGSTOP and SIGCONT only mark it stopped or
  // running again; any other signal waits until it is gone.
  void Kill(int i, int signal);
  // Starts conductor `i` again with the same ports and data directory;
  // waits until it sees the active conductor or leads itself.
  bool Restart(int i);
  bool running(int i) const { return running_[i] && !stopped_[i]; }

  // Waits (at most `timeout`) until a running, not stopped conductor has
  // logged that it is active with an epoch above `after_epoch` and has not
  // logged since that it stood down; its index, or -1 at the deadline.
  int WaitForActive(int64_t after_epoch = 0,
                    std::chrono::milliseconds timeout = 20s);
  // The epoch of the conductor WaitForActive() last found.
  int64_t epoch() const { return epoch_; }

  // Starts player `name` with all three endpoints; waits until the active
  // conductor logs it joined (when `wait_joined`).
  bool StartPlayer(const std::string& name, bool wait_joined = true);

  // The last `lines` log lines of each conductor, for failure messages.
  std::string LogTails(size_t lines = 12);

  Process* conductor(int i) { return conductors_[i].get(); }
  Process* player(const std::string& name) { return players_[name].get(); }
  std::string player_endpoint(int i) const;
  std::string audience_endpoint(int i) const;
  // The three audience endpoints, comma-separated.
  std::string audience_endpoints() const;
  // The three player endpoints, comma-separated.
  std::string player_endpoints() const;

  // Runs the orchestra CLI against all three conductors.
  CommandResult Cli(const std::vector<std::string>& args,
                    std::chrono::milliseconds timeout = 30s);
  // Runs the orchestra CLI against conductor `i` only.
  CommandResult CliAt(int i, const std::vector<std::string>& args,
                      std::chrono::milliseconds timeout = 30s);

 private:
  std::string ConductorConfig(int i) const;

  TempDir dir_;
  std::map<std::string, std::string> player_keys_;  // name -> public key
  int cell_ports_[kSize] = {};
  int player_ports_[kSize] = {};
  std::unique_ptr<Process> conductors_[kSize];
  bool running_[kSize] = {};
  bool stopped_[kSize] = {};
  std::map<std::string, std::unique_ptr<Process>> players_;
  int64_t epoch_ = 0;
};

}  // namespace orchestra::test

#endif  // ORCHESTRA_TEST_CELL_CLUSTER_H_
