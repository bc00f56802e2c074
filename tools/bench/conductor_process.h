// ConductorProcess runs a real orchestra-conductor for the load bench: it
// writes a config into the bench's directory (players on tcp://127.0.0.1
// with the port chosen by the system, audience on an ipc socket), starts
// the binary with its log in DIR/conductor.log, reads the bound endpoint
// back from that log, and reads the process's memory and CPU time from
// /proc. A conductor of a cell (DESIGN.md section 17) gets its dqlite data
// directory from set_database_path() and its cell keys as `extra` lines;
// one that stands by is started with StartStandby(). Owned by the bench's
// main thread.

#ifndef ORCHESTRA_TOOLS_BENCH_CONDUCTOR_PROCESS_H_
#define ORCHESTRA_TOOLS_BENCH_CONDUCTOR_PROCESS_H_

#include <sys/types.h>

#include <cstdint>
#include <string>

#include "common/result.h"
#include "common/status.h"

namespace orchestra::bench {

class ConductorProcess {
 public:
  // `dir` holds keys/conductor.key, the players file and the database.
  ConductorProcess(std::string binary, std::string dir);
  // The config, log, audience socket and database in `dir`; the key pair
  // and the players file in `shared` (as for the conductors of a cell).
  ConductorProcess(std::string binary, std::string dir, std::string shared);
  ~ConductorProcess();

  // The `database path` the config gives (DIR/conductor.db unless set).
  void set_database_path(std::string path) { database_path_ = std::move(path); }
  // The `player endpoint` the config gives (tcp://127.0.0.1:* unless set,
  // then the port bound first).
  void set_player_endpoint(std::string endpoint) {
    player_endpoint_ = std::move(endpoint);
  }

  // Writes the config (plus `extra` lines, which may set `http endpoint`
  // but no other key of the config's own) and starts the conductor; waits
  // until it serves. A restart binds the same player port again.
  common::Status Start(const std::string& extra = "");
  // The same for a conductor of a cell that stands by: waits until its
  // node has joined the cell ("cell joined" in its log).
  common::Status StartStandby(const std::string& extra);
  // SIGTERM, then waits for the exit (SIGKILL after 30 s).
  common::Status Stop();
  // SIGKILL, and waits for the exit.
  void Kill();

  pid_t pid() const { return pid_; }
  const std::string& player_endpoint() const { return player_endpoint_; }
  std::string audience_endpoint() const;
  // VmRSS of the running conductor, in bytes.
  common::Result<int64_t> ResidentBytes() const;
  // User plus system CPU time of the running conductor, in seconds.
  common::Result<double> CpuSeconds() const;

 private:
  // Waits until the log, from byte `from` on, has a line matching `regex`;
  // returns its first group (or the whole match).
  common::Result<std::string> WaitForLog(const std::string& regex, size_t from,
                                         int timeout_ms) const;
  size_t LogSize() const;
  // Writes the config and starts the binary; `*mark` is the log's size
  // before.
  common::Status Launch(const std::string& extra, size_t* mark);

  std::string binary_;
  std::string dir_;
  std::string shared_;
  std::string database_path_;
  std::string player_endpoint_;
  pid_t pid_ = -1;
};

// CPU time (user + system) of process `pid`, in seconds, from /proc.
common::Result<double> ProcessCpuSeconds(pid_t pid);

}  // namespace orchestra::bench

#endif  // ORCHESTRA_TOOLS_BENCH_CONDUCTOR_PROCESS_H_
