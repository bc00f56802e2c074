// Cell is this conductor's place in a cell of conductors (DESIGN.md
// section 17): it runs this host's dqlite node, keeps it a voter of the
// cell, says who leads, and for the conductor that becomes the active one
// takes over the cell's epoch and opens the store on the cell. The node
// with the first address of the cell (in sorting order) is node 1: it
// starts the cell alone the first time; the others join it through
// whoever leads. Not thread-safe: owned by the conductor's main thread
// (the node runs on threads of its own).

#ifndef ORCHESTRA_CONDUCTOR_CELL_H_
#define ORCHESTRA_CONDUCTOR_CELL_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/status.h"
#include "common/unique_fd.h"
#include "conductor/config.h"
#include "conductor/dqlite_client.h"
#include "conductor/job_store.h"

struct dqlite_node;

namespace orchestra::conductor {

// The active conductor as the cell's store records it.
struct CellLeader {
  int64_t epoch = 0;
  std::string address;            // its dqlite node
  std::string player_endpoint;    // the hint for players
  std::string audience_endpoint;  // the hint for the audience
};

// The node id of `address` in a cell of `addresses` (its own included):
// 1 for the first in sorting order, a hash of the address for the others.
uint64_t CellNodeId(const std::string& address,
                    std::vector<std::string> addresses);

class Cell {
 public:
  // Creates `config.database_path` if needed and starts the node there.
  static common::Result<std::unique_ptr<Cell>> Start(
      const ConductorConfig& config);
  ~Cell();

  uint64_t id() const { return id_; }
  const std::string& address() const { return address_; }

  // Who leads, as this node knows it (id 0: nobody yet).
  common::Result<DqliteNode> Leader();
  // True when this node leads.
  bool Leads();
  // Makes this node a voter of the cell through its leader, if it is not
  // one yet. OK once it is.
  common::Status Join();
  // For the new active conductor: creates the schema if the cell has none,
  // then stores the next epoch with this conductor's endpoints (the hints
  // of the others). Returns the epoch.
  common::Result<int64_t> TakeOver(const std::string& player_endpoint,
                                   const std::string& audience_endpoint);
  // Once its endpoints are bound: the hints the others give, if `epoch`
  // is still the cell's.
  common::Status Advertise(int64_t epoch, const std::string& player_endpoint,
                           const std::string& audience_endpoint);
  // The active conductor's endpoints, read from the leader's store; empty
  // while the node leading has not taken over.
  common::Result<CellLeader> Active();
  // The store on the cell, through this node: an engine for the store's
  // thread and a reader for the loop, each on a connection of its own.
  common::Result<std::unique_ptr<JobStore>> OpenStore();

  Cell(const Cell&) = delete;
  Cell& operator=(const Cell&) = delete;

 private:
  Cell(std::string address, std::vector<std::string> peers, uint64_t id)
      : address_(std::move(address)), peers_(std::move(peers)), id_(id) {}
  common::Status Lock(const std::string& directory);
  common::Status CheckNoCellYet(const std::string& directory);
  common::Status StartNode(const std::string& directory);
  // A client connected to the leader, with the database open.
  common::Status ConnectToLeader(DqliteClient* client);
  common::Status CreateSchema(DqliteClient* client);

  std::string address_;
  std::vector<std::string> peers_;
  uint64_t id_;
  common::UniqueFd lock_;  // flock on the directory: one conductor each
  dqlite_node* node_ = nullptr;
  DqliteClient local_;  // to our own node, for Leader()
};

}  // namespace orchestra::conductor

#endif  // ORCHESTRA_CONDUCTOR_CELL_H_
