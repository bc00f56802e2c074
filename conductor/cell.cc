// Node ids: every node of a cell computes every id from the same list of
// addresses, so they agree without asking each other. dqlite bootstraps a
// node whose id is 1 (once, when its directory is empty) as a cell of one;
// the others are added by the leader when they ask (Join), first as spares
// and then as voters, once they have caught up.

#include "conductor/cell.h"

extern "C" {  // dqlite.h declares C functions without saying so
#include <dqlite.h>
}
#include <fcntl.h>
#include <sys/file.h>

#include <algorithm>
#include <cerrno>

#include "common/clock.h"
#include "common/files.h"
#include "common/log.h"
#include "common/sqlite.h"
#include "conductor/dqlite_engine.h"
#include "conductor/schema.h"

namespace orchestra::conductor {

using common::Result;
using common::Status;

namespace {

// The cell's network latency: raft's heartbeat is 1.5 times it and its
// election timeout 15 times (300 ms): a leader's death is noticed within
// about that, and a machine as loaded as a test run's does not miss a
// heartbeat that long.
constexpr unsigned kLatencyMs = 20;
constexpr int kVoter = 0;

uint64_t Fnv1a(const std::string& text) {
  uint64_t hash = 14695981039346656037ULL;
  for (unsigned char ch : text) {
    hash ^= ch;
    hash *= 1099511628211ULL;
  }
  return hash;
}

Status NodeError(dqlite_node* node, const char* what, int rc) {
  std::string message = std::string(what) + " failed (" + std::to_string(rc);
  if (node != nullptr) message += ": " + std::string(dqlite_node_errmsg(node));
  return Status::Unavailable("cell node", message + ")");
}

StoreRows ToStoreRows(DqliteRows rows) {
  StoreRows out;
  out.columns = std::move(rows.columns);
  out.rows = std::move(rows.rows);
  out.truncated = rows.truncated;
  return out;
}

}  // namespace

uint64_t CellNodeId(const std::string& address,
                    std::vector<std::string> addresses) {
  std::sort(addresses.begin(), addresses.end());
  if (!addresses.empty() && addresses.front() == address) return 1;
  // Never 0 or 1, and below 2^63 (dqlite's ids are signed on some paths).
  return 2 + Fnv1a(address) % ((1ULL << 63) - 2);
}

Result<std::unique_ptr<Cell>> Cell::Start(const ConductorConfig& config) {
  std::vector<std::string> all = config.cell_peers;
  all.push_back(config.cell_address);
  const uint64_t id = CellNodeId(config.cell_address, all);
  std::unique_ptr<Cell> cell(
      new Cell(config.cell_address, config.cell_peers, id));
  Status s = common::MakeDirectories(config.database_path, 0700);
  if (s.ok()) s = cell->Lock(config.database_path);
  if (s.ok()) s = cell->StartNode(config.database_path);
  if (!s.ok()) return s;
  common::LogInfo("cell node started id=%llu address=%s directory=%s",
                  static_cast<unsigned long long>(id),
                  config.cell_address.c_str(), config.database_path.c_str());
  return cell;
}

Status Cell::Lock(const std::string& directory) {
  const std::string path = directory + ".lock";
  lock_.Reset(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (!lock_.valid()) return Status::FromErrno(path, errno);
  if (::flock(lock_.get(), LOCK_EX | LOCK_NB) != 0)
    return Status::Conflict(directory,
                            "another conductor is using this cell directory");
  return Status();
}

Status Cell::StartNode(const std::string& directory) {
  // The store's queries run on the node's own connections.
  Status s = common::AddFnmatchToEveryConnection();
  if (!s.ok()) return s;
  int rc = dqlite_node_create(id_, address_.c_str(), directory.c_str(), &node_);
  if (rc != 0) return NodeError(node_, "dqlite_node_create", rc);
  rc = dqlite_node_set_bind_address(node_, address_.c_str());
  if (rc != 0) return NodeError(node_, "binding the cell address", rc);
  rc = dqlite_node_set_network_latency_ms(node_, kLatencyMs);
  if (rc != 0) return NodeError(node_, "setting the latency", rc);
  rc = dqlite_node_start(node_);
  if (rc != 0) return NodeError(node_, "dqlite_node_start", rc);
  return Status();
}

Cell::~Cell() {
  local_.Close();
  if (node_ == nullptr) return;
  dqlite_node_stop(node_);
  dqlite_node_destroy(node_);
}

Result<DqliteNode> Cell::Leader() {
  if (!local_.connected()) {
    Status s = local_.Connect(address_, kCellRequestTimeout);
    if (!s.ok()) return s;
  }
  Result<DqliteNode> leader = local_.Leader();
  if (!leader.ok()) local_.Close();
  return leader;
}

bool Cell::Leads() {
  Result<DqliteNode> leader = Leader();
  return leader.ok() && leader.value().id == id_;
}

// A node not yet in the cell knows no leader: its peers do.
Status Cell::ConnectToLeader(DqliteClient* client) {
  std::string leader;
  Result<DqliteNode> own = Leader();
  if (own.ok() && own.value().id != 0) leader = own.value().address;
  for (size_t i = 0; leader.empty() && i < peers_.size(); ++i) {
    DqliteClient peer;
    if (!peer.Connect(peers_[i], kCellRequestTimeout).ok()) continue;
    Result<DqliteNode> theirs = peer.Leader();
    if (theirs.ok() && theirs.value().id != 0) leader = theirs.value().address;
  }
  if (leader.empty())
    return Status::Unavailable("cell", "no node of the cell knows a leader");
  return ConnectToCellDatabase(client, leader);
}

Status Cell::Join() {
  DqliteClient leader;
  Status s = ConnectToLeader(&leader);
  if (!s.ok()) return s;
  Result<std::vector<DqliteNode>> nodes = leader.Cluster();
  if (!nodes.ok()) return nodes.status();
  auto self = std::find_if(nodes.value().begin(), nodes.value().end(),
                           [&](const DqliteNode& n) { return n.id == id_; });
  if (self != nodes.value().end() && self->role == kVoter) return Status();
  if (self == nodes.value().end()) {
    s = leader.Add(id_, address_);
    if (!s.ok()) return s;
  }
  s = leader.Assign(id_, kVoter);
  if (!s.ok()) return s;
  common::LogInfo("cell joined id=%llu address=%s leader=%s",
                  static_cast<unsigned long long>(id_), address_.c_str(),
                  leader.address().c_str());
  return Status();
}

Status Cell::CreateSchema(DqliteClient* client) {
  Result<DqliteRows> version = client->Query("PRAGMA user_version");
  if (!version.ok()) return version.status();
  int64_t current = 0;
  if (!version.value().rows.empty() && !version.value().rows[0].empty()) {
    if (const int64_t* v = std::get_if<int64_t>(&version.value().rows[0][0]))
      current = *v;
  }
  if (current == kSchemaVersion) return Status();
  if (current > kSchemaVersion || current < 0)
    return Status::InvalidArgument(
        "cell", "schema version " + std::to_string(current) +
                    " is newer than this conductor; upgrade it");
  Status s = client->Exec("BEGIN").status();
  for (int64_t v = current; s.ok() && v < kSchemaVersion; ++v)
    s = client->Exec(kMigrations[v]).status();
  if (s.ok()) s = client->Exec("COMMIT").status();
  if (!s.ok()) {
    (void)client->Exec("ROLLBACK");
    return s;
  }
  common::LogInfo("cell database ready schema=%d from=%lld", kSchemaVersion,
                  static_cast<long long>(current));
  return Status();
}

Result<int64_t> Cell::TakeOver(const std::string& player_endpoint,
                               const std::string& audience_endpoint) {
  DqliteClient client;
  Status s = ConnectToCellDatabase(&client, address_);
  if (s.ok()) s = CreateSchema(&client);
  if (!s.ok()) return s;
  Result<DqliteRows> last =
      client.Query("SELECT COALESCE(MAX(epoch), 0) FROM cell");
  if (!last.ok()) return last.status();
  int64_t epoch = 1;
  if (!last.value().rows.empty()) {
    if (const int64_t* e = std::get_if<int64_t>(&last.value().rows[0][0]))
      epoch = *e + 1;
  }
  Result<DqliteExecResult> stored = client.Exec(
      "INSERT INTO cell(id, epoch, address, player_endpoint, "
      "audience_endpoint, since) VALUES (1, ?1, ?2, ?3, ?4, ?5) "
      "ON CONFLICT(id) DO UPDATE SET epoch = excluded.epoch, "
      "address = excluded.address, player_endpoint = "
      "excluded.player_endpoint, audience_endpoint = "
      "excluded.audience_endpoint, since = excluded.since",
      {epoch, address_, player_endpoint, audience_endpoint,
       common::FormatTime(common::SystemClock().Now())});
  if (!stored.ok()) return stored.status();
  return epoch;
}

Status Cell::Advertise(int64_t epoch, const std::string& player_endpoint,
                       const std::string& audience_endpoint) {
  DqliteClient client;
  Status s = ConnectToCellDatabase(&client, address_);
  if (!s.ok()) return s;
  return client
      .Exec(
          "UPDATE cell SET player_endpoint = ?1, audience_endpoint = ?2 "
          "WHERE id = 1 AND epoch = ?3",
          {player_endpoint, audience_endpoint, epoch})
      .status();
}

Result<CellLeader> Cell::Active() {
  DqliteClient client;
  Status s = ConnectToLeader(&client);
  if (!s.ok()) return s;
  Result<DqliteRows> rows = client.Query(
      "SELECT epoch, address, player_endpoint, audience_endpoint FROM cell "
      "WHERE id = 1");
  if (!rows.ok()) return rows.status();
  CellLeader leader;
  if (rows.value().rows.empty()) return leader;
  const std::vector<StoreValue>& row = rows.value().rows[0];
  if (row.size() != 4) return leader;
  if (const int64_t* e = std::get_if<int64_t>(&row[0])) leader.epoch = *e;
  if (const std::string* a = std::get_if<std::string>(&row[1]))
    leader.address = *a;
  if (const std::string* p = std::get_if<std::string>(&row[2]))
    leader.player_endpoint = *p;
  if (const std::string* a = std::get_if<std::string>(&row[3]))
    leader.audience_endpoint = *a;
  // The row names the last active conductor: until the node leading now
  // takes over, nobody is active.
  if (leader.address != client.address()) return CellLeader();
  return leader;
}

Result<std::unique_ptr<JobStore>> Cell::OpenStore() {
  auto client = std::make_shared<DqliteClient>();
  const std::string address = address_;
  RemoteQuery query =
      [client, address](
          const std::string& sql,
          const std::vector<StoreValue>& params) -> Result<StoreRows> {
    if (!client->connected()) {
      Status s = ConnectToCellDatabase(client.get(), address);
      if (!s.ok()) return s;
    }
    Result<DqliteRows> rows = client->Query(sql, params);
    if (!rows.ok()) return rows.status();
    return ToStoreRows(std::move(rows.value()));
  };
  return JobStore::Create(std::make_unique<DqliteEngine>(address_),
                          StoreReader(std::move(query)));
}

}  // namespace orchestra::conductor
