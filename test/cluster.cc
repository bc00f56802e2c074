#include "test/cluster.h"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "broker/curve_keys.h"
#include "common/files.h"

namespace orchestra::test {

namespace {

void WriteText(const std::string& path, const std::string& text, int mode) {
  ASSERT_OK(common::WriteFileAtomically(path, text, mode));
}

}  // namespace

Cluster::Cluster() {
  broker::CurveKeyPair keys = broker::GenerateKeyPair().value();
  EXPECT_OK(broker::WriteKeyPair(dir() + "/keys", "conductor", keys));
  EXPECT_OK(common::WriteFileAtomically(dir() + "/revoked", "", 0644));
}

Cluster::~Cluster() {
  // Stopped as systemd stops them (SIGCONT for one a test stopped), so each
  // daemon ends by itself and a sanitized build checks it for leaks; one
  // still running at the deadline is killed by ~Process.
  std::vector<Process*> daemons;
  for (auto& [name, process] : players_) daemons.push_back(process.get());
  daemons.push_back(conductor_.get());
  for (Process* daemon : daemons) {
    if (daemon == nullptr) continue;
    daemon->Signal(SIGTERM);
    daemon->Signal(SIGCONT);
  }
  for (Process* daemon : daemons) {
    if (daemon != nullptr) daemon->Wait(10s);
  }
  players_.clear();
  conductor_.reset();
}

std::string Cluster::audience_endpoint() const {
  if (!audience_endpoint_.empty()) return audience_endpoint_;
  return "ipc://" + dir() + "/conductor.sock";
}

void Cluster::AddPlayer(const std::string& name, bool listed) {
  broker::CurveKeyPair keys = broker::GenerateKeyPair().value();
  ASSERT_OK(broker::WriteKeyPair(dir() + "/keys", name, keys));
  keys_[name] = Keys{keys.public_key, listed, {}};
  ASSERT_OK(common::MakeDirectories(dir() + "/scores-" + name, 0755));
  WritePlayersFile();
}

void Cluster::WritePlayersFile() {
  std::string text = "# written by the test\n";
  for (const auto& [name, keys] : keys_) {
    if (!keys.listed) continue;
    text += name + " " + keys.public_key;
    if (!keys.labels.empty()) text += " " + keys.labels;
    text += "\n";
  }
  WriteText(dir() + "/players", text, 0644);
}

void Cluster::SetLabels(const std::string& name, const std::string& labels) {
  keys_[name].labels = labels;
  WritePlayersFile();
}

void Cluster::WriteScore(const std::string& player, const std::string& name,
                         const std::string& script, const std::string& conf) {
  const std::string base = dir() + "/scores-" + player + "/" + name;
  WriteText(base, script, 0755);
  if (!conf.empty()) WriteText(base + ".conf", conf, 0644);
}

void Cluster::WriteScoreEverywhere(const std::string& name,
                                   const std::string& script,
                                   const std::string& conf) {
  for (const auto& [player, keys] : keys_)
    WriteScore(player, name, script, conf);
}

void Cluster::ServeTcpAudience(const std::string& audience_keys_file) {
  audience_keys_file_ = audience_keys_file;
}

std::string Cluster::ConductorConfig(const std::string& extra) const {
  const std::string endpoint =
      player_endpoint_.empty() ? "tcp://127.0.0.1:*" : player_endpoint_;
  std::string audience = audience_endpoint();
  if (!audience_keys_file_.empty()) {
    audience +=
        ", " + (tcp_audience_endpoint_.empty() ? "tcp://127.0.0.1:*"
                                               : tcp_audience_endpoint_);
    audience += "\naudience keys file = " + audience_keys_file_;
  }
  return "# written by the test\n"
         "player endpoint = " +
         endpoint +
         "\n"
         "audience endpoint = " +
         audience +
         "\n"
         "conductor secret key = " +
         dir() +
         "/keys/conductor.key\n"
         "player file path = " +
         dir() +
         "/players\n"
         "revoked keys file = " +
         dir() +
         "/revoked\n"
         "database path = " +
         (database_path_.empty() ? dir() + "/conductor.db" : database_path_) +
         "\n" +
         // Short beats for quick tests, unless `extra` sets its own.
         (extra.find("heartbeat interval") == std::string::npos
              ? "heartbeat interval = 200\nplayer timeout = 2000\n"
              : "") +
         "dispatch retry = 1000\n" +
         // The web page on a port of the kernel's choosing.
         (extra.find("http endpoint") == std::string::npos
              ? "http endpoint = 127.0.0.1:0\n"
              : "") +
         extra;
}

bool Cluster::StartConductor(const std::string& extra) {
  conductor_extra_ = extra;
  WriteText(dir() + "/conductor.conf", ConductorConfig(extra), 0644);
  conductor_ = std::make_unique<Process>(
      BinaryDir() + "/orchestra-conductor",
      std::vector<std::string>{"--config", dir() + "/conductor.conf"},
      daemon_env_, conductor_file_limit_);
  if (!conductor_->started()) return false;
  std::optional<std::string> bound = conductor_->WaitForLog(
      "bound endpoint=((tcp://[0-9.]+:[0-9]+)|(ipc://[^ ]+)) role=players",
      10s);
  if (!bound) return false;
  player_endpoint_ = *bound;
  if (!audience_keys_file_.empty()) {
    bound = conductor_->WaitForLog(
        "bound endpoint=(tcp://[0-9.]+:[0-9]+) role=audience", 10s);
    if (!bound) return false;
    tcp_audience_endpoint_ = *bound;
  }
  http_url_.clear();
  if (extra.find("http endpoint =\n") == std::string::npos) {
    bound = conductor_->WaitForLog("bound endpoint=(https?://[^ ]+) role=http",
                                   10s);
    if (!bound) return false;
    http_url_ = *bound;
  }
  return conductor_->WaitForLog("started players=", 10s).has_value();
}

bool Cluster::StartPlayer(const std::string& name, const std::string& extra,
                          bool wait_joined) {
  const std::string journal = journal_paths_.count(name)
                                  ? journal_paths_.at(name)
                                  : dir() + "/" + name + ".db";
  const std::string config = "player name = " + name +
                             "\n"
                             "conductor endpoint = " +
                             player_endpoint_ +
                             "\n"
                             "conductor public key = " +
                             dir() +
                             "/keys/conductor.pub\n"
                             "player secret key = " +
                             dir() + "/keys/" + name +
                             ".key\n"
                             "score directory = " +
                             dir() + "/scores-" + name +
                             "\n"
                             "state path = " +
                             journal +
                             "\n"
                             "kill grace = 1\n" +
                             extra;
  WriteText(dir() + "/" + name + ".conf", config, 0644);
  const size_t mark = conductor_ ? conductor_->LogSize() : 0;
  players_[name] = std::make_unique<Process>(
      BinaryDir() + "/orchestra-player",
      std::vector<std::string>{"--config", dir() + "/" + name + ".conf"},
      daemon_env_);
  if (!players_[name]->started()) return false;
  if (!wait_joined) return true;
  return conductor_ &&
         conductor_->WaitForLog("player joined player=" + name + " ", 10s, mark)
             .has_value();
}

void Cluster::StopPlayer(const std::string& name) {
  auto it = players_.find(name);
  if (it == players_.end() || !it->second) return;
  it->second->Signal(SIGTERM);
  it->second->Wait(10s);
}

void Cluster::KillConductor(int signal) {
  if (!conductor_) return;
  conductor_->Signal(signal);
  EXPECT_TRUE(conductor_->Wait(20s).has_value()) << "conductor did not stop";
}

bool Cluster::ReloadConductor() {
  const size_t mark = conductor_->LogSize();
  conductor_->Signal(SIGHUP);
  return conductor_->WaitForLog("reload", 10s, mark).has_value();
}

void Cluster::Unlist(const std::string& name) {
  keys_[name].listed = false;
  WritePlayersFile();
}

void Cluster::RotateKey(const std::string& name) {
  for (const char* suffix : {".key", ".pub"})
    ASSERT_EQ(0, ::unlink((dir() + "/keys/" + name + suffix).c_str()));
  broker::CurveKeyPair keys = broker::GenerateKeyPair().value();
  ASSERT_OK(broker::WriteKeyPair(dir() + "/keys", name, keys));
  keys_[name].public_key = keys.public_key;
  WritePlayersFile();
}

void Cluster::Revoke(const std::string& name) {
  std::ofstream(dir() + "/revoked", std::ios::app)
      << keys_[name].public_key << "\n";
}

std::unique_ptr<broker::AudienceClient> Cluster::Client() {
  broker::ClientOptions options;
  options.endpoint = audience_endpoint();
  auto client = broker::AudienceClient::Connect(options);
  EXPECT_TRUE(client.ok()) << client.status().ToString();
  if (!client.ok()) return nullptr;
  return std::move(client.value());
}

CommandResult Cluster::Cli(const std::vector<std::string>& args,
                           std::chrono::milliseconds timeout) {
  std::vector<std::string> all = {"--endpoint", audience_endpoint()};
  all.insert(all.end(), args.begin(), args.end());
  return RunCommand(BinaryDir() + "/orchestra", all, timeout);
}

}  // namespace orchestra::test
