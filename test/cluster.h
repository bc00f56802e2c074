// Cluster builds a real Orchestra on loopback for end-to-end tests: fresh
// Curve keys, a players file, a conductor bound to tcp://127.0.0.1:* (the
// port read back from its log) and players with score directories of real
// scripts, all in a temporary directory removed afterwards.

#ifndef ORCHESTRA_TEST_CLUSTER_H_
#define ORCHESTRA_TEST_CLUSTER_H_

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "broker/audience_client.h"
#include "test/process.h"
#include "test/test_util.h"

namespace orchestra::test {

using namespace std::chrono_literals;

class Cluster {
 public:
  Cluster();
  ~Cluster();

  const std::string& dir() const { return dir_.path(); }
  // ipc://DIR/conductor.sock unless SetAudienceEndpoint() said otherwise.
  std::string audience_endpoint() const;
  // The conductor's ipc:// audience endpoint from its next start on (and
  // the one Client() and Cli() use).
  void SetAudienceEndpoint(const std::string& endpoint) {
    audience_endpoint_ = endpoint;
  }

  // Makes keys for player `name`; lists it in the players file if `listed`.
  void AddPlayer(const std::string& name, bool listed = true);
  // Writes the players file from the players added so far.
  void WritePlayersFile();
  // Gives player `name` the players file labels `labels` ("role=web
  // dc=syd"); rewrites the file (call ReloadConductor() after a start).
  void SetLabels(const std::string& name, const std::string& labels);
  // Installs score `name` (a script, made executable) for player `player`,
  // with `conf` as NAME.conf when not empty.
  void WriteScore(const std::string& player, const std::string& name,
                  const std::string& script, const std::string& conf = "");
  // Installs the score for every player added so far.
  void WriteScoreEverywhere(const std::string& name, const std::string& script,
                            const std::string& conf = "");

  // Makes the conductor also bind a tcp:// audience endpoint (CurveZMQ)
  // open to the keys of `audience_keys_file`, from its next start on.
  void ServeTcpAudience(const std::string& audience_keys_file);
  // The tcp:// audience endpoint once bound (port resolved), else "".
  const std::string& tcp_audience_endpoint() const {
    return tcp_audience_endpoint_;
  }

  // The web page's URL ("http://127.0.0.1:PORT") once the conductor
  // bound it, "" when its config turns the page off ("http endpoint =").
  const std::string& http_url() const { return http_url_; }

  // The conductor's database from its next start (DIR/conductor.db if "").
  void SetDatabasePath(const std::string& path) { database_path_ = path; }
  // Player `name`'s journal from its next start (DIR/NAME.db if "").
  void SetJournalPath(const std::string& name, const std::string& path) {
    journal_paths_[name] = path;
  }

  // Environment variables ("NAME=value") for the daemons started from now.
  void SetDaemonEnvironment(std::vector<std::string> env) {
    daemon_env_ = std::move(env);
  }
  // The conductor runs under RLIMIT_NOFILE `limit` from its next start
  // (0: the test's own limit).
  void SetConductorFileLimit(int limit) { conductor_file_limit_ = limit; }

  // Starts the conductor with `extra` lines appended to its config; waits
  // until it has bound its endpoints. Restarts reuse the same ports.
  bool StartConductor(const std::string& extra = "");
  // Starts player `name`; waits until the conductor logs it joined.
  bool StartPlayer(const std::string& name, const std::string& extra = "",
                   bool wait_joined = true);
  void StopPlayer(const std::string& name);

  // Kills the conductor with `signal` (SIGKILL: a crash) and waits for it
  // to be gone; then StartConductor() again brings it back on the same port
  // with the same extra settings.
  void KillConductor(int signal);
  bool RestartConductor() { return StartConductor(conductor_extra_); }
  // Sends SIGHUP to the conductor and waits until it has reloaded.
  bool ReloadConductor();
  // Drops `name` from the players file (call ReloadConductor() after).
  void Unlist(const std::string& name);
  // Gives player `name` a new key pair (its key files and its players file
  // line; ReloadConductor() after).
  void RotateKey(const std::string& name);
  // The conductor binds `endpoint` for players from its next start (the
  // default is tcp://127.0.0.1:*).
  void SetPlayerEndpoint(const std::string& endpoint) {
    player_endpoint_ = endpoint;
  }
  // Adds `name`'s key to the revoked keys file (ReloadConductor() after).
  void Revoke(const std::string& name);

  Process* conductor() { return conductor_.get(); }
  Process* player(const std::string& name) { return players_[name].get(); }
  std::string player_endpoint() const { return player_endpoint_; }

  // A connected audience client (fails the test if it cannot connect).
  std::unique_ptr<broker::AudienceClient> Client();
  // Runs the orchestra CLI against this conductor.
  CommandResult Cli(const std::vector<std::string>& args,
                    std::chrono::milliseconds timeout = 30s);

 private:
  struct Keys {
    std::string public_key;
    bool listed = true;
    std::string labels;  // as the players file line has them
  };
  std::string ConductorConfig(const std::string& extra) const;

  TempDir dir_;
  std::map<std::string, Keys> keys_;
  std::string player_endpoint_;        // tcp://127.0.0.1:PORT once bound
  std::string conductor_extra_;        // extra config lines of the last start
  std::string audience_endpoint_;      // "": ipc://DIR/conductor.sock
  std::string audience_keys_file_;     // set: serve a tcp audience too
  std::string tcp_audience_endpoint_;  // tcp://127.0.0.1:PORT once bound
  std::string http_url_;               // the web page once bound
  std::unique_ptr<Process> conductor_;
  std::map<std::string, std::unique_ptr<Process>> players_;
  std::vector<std::string> daemon_env_;
  int conductor_file_limit_ = 0;
  std::string database_path_;                         // "": the default
  std::map<std::string, std::string> journal_paths_;  // by player
};

}  // namespace orchestra::test

#endif  // ORCHESTRA_TEST_CLUSTER_H_
